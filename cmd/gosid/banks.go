package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gosid/gosid/federation"
	fedoidc "github.com/gosid/gosid/federation/oidc"
)

// cmdBanks lists the configured partner banks, or checks each one: its
// discovery is fetched and must name the configured issuer.
func cmdBanks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "check") {
		return errors.New("usage: gosid banks list|check [--config FILE]")
	}
	var c common
	fs := newFlagSet("banks "+args[0], stderr)
	c.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, _, err := c.load()
	if err != nil {
		return err
	}
	conns := map[string]*fedoidc.Connector{}
	reg, err := federation.NewRegistry(cfg.Banks, func(b *federation.Bank) (federation.Connector, error) {
		conn, err := fedoidc.New(b, fedoidc.Options{RedirectURL: cfg.Issuer + "/bank/callback"})
		conns[b.ID] = conn
		return conn, err
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	head := "ID\tNAME\tISSUER\tAUTH\tVOUCHES\tENABLED"
	if args[0] == "check" {
		head += "\tDISCOVERY"
	}
	fmt.Fprintln(tw, head)
	failed := 0
	for _, b := range reg.All() {
		auth := "client_secret_basic"
		if b.PrivateKey != "" {
			auth = "private_key_jwt"
		}
		vouches := make([]string, len(b.Vouches))
		for i, f := range b.Vouches {
			vouches[i] = string(f)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%t", b.ID, b.Name("ru"), b.Issuer, auth, strings.Join(vouches, ","), b.Enabled)
		if args[0] == "check" {
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			if err := conns[b.ID].Check(cctx); err != nil {
				failed++
				line += "\tFAILED: " + err.Error()
			} else {
				line += "\tok"
			}
			cancel()
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d banks failed the check", failed, len(reg.All()))
	}
	return nil
}
