// Command gosid is the identity provider's one binary: the server and the
// operator's tools.
//
//	gosid serve [--config FILE] [--no-migrate]
//	gosid migrate
//	gosid keys list|rotate
//	gosid clients create|list|get|delete|rotate-secret
//	gosid accounts create
//	gosid centres create|list
//	gosid operators create|list|disable
//	gosid post export
//	gosid banks list|check
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gosid/gosid/app"
	"github.com/gosid/gosid/config"
)

const usage = `gosid: an OpenID Connect identity provider for government e-services.

Usage:
  gosid serve [--config FILE] [--no-migrate]   run the server
  gosid migrate [--config FILE]                apply database migrations
  gosid keys list|rotate [--alg ES256|RS256]   manage signing keys
  gosid clients create|list|get|delete|rotate-secret ...
  gosid accounts create --phone P --password PW ...
  gosid centres create|list                    service centres
  gosid operators create|list|disable          service-centre staff (password + authenticator)
  gosid post export --dir DIR                  the batch of Post letters for the print house
  gosid banks list|check                       partner banks; check fetches each bank's discovery
  gosid pii rotate|rewrap                      new data key; re-wrap data keys after a master-key change
  gosid registry-sim [--addr A] [--seed FILE]  run the reference state registry (development)

Settings come from the YAML file (--config or GOSID_CONFIG) and GOSID_*
environment variables; see README.md.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "gosid:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "keys":
		return cmdKeys(ctx, rest, stdout, stderr)
	case "clients":
		return cmdClients(ctx, rest, stdout, stderr)
	case "accounts":
		return cmdAccounts(ctx, rest, stdout, stderr)
	case "centres":
		return cmdCentres(ctx, rest, stdout, stderr)
	case "operators":
		return cmdOperators(ctx, rest, stdout, stderr)
	case "post":
		return cmdPost(ctx, rest, stdout, stderr)
	case "pii":
		return cmdPII(ctx, rest, stdout, stderr)
	case "banks":
		return cmdBanks(ctx, rest, stdout, stderr)
	case "registry-sim":
		return runRegistrySim(rest)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// common holds the flags every command takes.
type common struct {
	configPath string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", os.Getenv("GOSID_CONFIG"), "YAML configuration file")
}

func (c *common) load() (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(c.configPath, nil)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, newLogger(cfg.LogLevel, os.Stderr), nil
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlagSet("serve", stderr)
	c.register(fs)
	noMigrate := fs.Bool("no-migrate", false, "do not apply migrations at start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	stores, err := app.Open(ctx, cfg, log, cfg.Migrate && !*noMigrate)
	if err != nil {
		return err
	}
	defer stores.Close()
	srv, err := app.NewServer(ctx, stores)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("migrate", stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	stores, err := app.Open(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer stores.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", stores.DB.Dialect())
	return nil
}

// openStores opens storage for an operator command, applying migrations so
// that the CLI works on a fresh database too.
func openStores(ctx context.Context, c *common) (*app.Stores, error) {
	cfg, log, err := c.load()
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, log, cfg.Migrate)
}

// listFlag collects a repeatable string flag; commas also separate values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
