package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gosid/gosid/keys"
)

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		return errors.New("usage: gosid keys list|rotate [--alg ES256|RS256]")
	}
	var c common
	fs := newFlagSet("keys "+args[0], stderr)
	c.register(fs)
	alg := fs.String("alg", "", "algorithm to rotate (default: all)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Keys.Init(ctx); err != nil {
		return err
	}
	if args[0] == "rotate" {
		algs := []string{"ES256", "RS256"}
		if *alg != "" {
			algs = []string{*alg}
		}
		for _, a := range algs {
			if err := st.Keys.Rotate(ctx, a); err != nil {
				return fmt.Errorf("rotate %s: %w", a, err)
			}
			fmt.Fprintf(stdout, "rotated %s: the published next key now signs; a new next key is published\n", a)
		}
	}
	return printKeys(stdout, st.Keys.List())
}

func printKeys(w io.Writer, recs []keys.Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tGEN\tSTATE\tCREATED\tACTIVATED\tRETIRED\tPUBLISHED UNTIL")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.KID, r.Alg, r.Generation, r.State,
			stamp(r.CreatedAt), stamp(r.ActivatedAt), stamp(r.RetiredAt), stamp(r.ExpiresAt))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
