package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosid/gosid/app"
	"github.com/gosid/gosid/operator"
	"github.com/gosid/gosid/post"
)

func cmdCentres(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		return errors.New("usage: gosid centres create --code C --name N [--address A] [--hours H] | gosid centres list")
	}
	var c common
	fs := newFlagSet("centres "+args[0], stderr)
	c.register(fs)
	code := fs.String("code", "", "the centre's code, e.g. MSK-001")
	name := fs.String("name", "", "name")
	address := fs.String("address", "", "address")
	hours := fs.String("hours", "", "opening hours")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := app.NewOperators(st, nil)
	if args[0] == "list" {
		cs, err := st.DB.ListCentres(ctx)
		if err != nil {
			return err
		}
		for _, ce := range cs {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", ce.Code, ce.Name, ce.Address, ce.Hours)
		}
		return nil
	}
	ce := &operator.Centre{Code: *code, Name: *name, Address: *address, Hours: *hours}
	if err := svc.CreateCentre(ctx, ce); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "centre %s created\n", ce.Code)
	return nil
}

func cmdOperators(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "disable") {
		return errors.New("usage: gosid operators create --login L --name N --role operator|supervisor|admin --centre CODE... " +
			"--password PW|--password-stdin [--json] | list | disable LOGIN")
	}
	var c common
	fs := newFlagSet("operators "+args[0], stderr)
	c.register(fs)
	login := fs.String("login", "", "the operator's login")
	name := fs.String("name", "", "full name")
	role := fs.String("role", string(operator.RoleOperator), "operator, supervisor or admin")
	var centres listFlag
	fs.Var(&centres, "centre", "code of a centre the operator works at (repeatable)")
	password := fs.String("password", "", "password (or --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "list":
		ops, err := st.DB.ListOperators(ctx)
		if err != nil {
			return err
		}
		for _, o := range ops {
			state := "active"
			if o.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", o.Login, o.Name, o.Role, state)
		}
		return nil
	case "disable":
		if fs.NArg() != 1 {
			return errors.New("usage: gosid operators disable LOGIN")
		}
		o, err := st.DB.GetOperatorByLogin(ctx, strings.ToLower(fs.Arg(0)))
		if err != nil {
			return err
		}
		return st.DB.SetOperatorDisabled(ctx, o.ID, true)
	}
	if *fromStdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	o, en, err := app.NewOperators(st, nil).CreateOperator(ctx, *login, *name, operator.Role(*role), *password, centres)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"id": o.ID, "login": o.Login, "role": string(o.Role),
			"totp_secret": en.Secret, "totp_url": en.URL})
	}
	fmt.Fprintf(stdout, "operator %s created (%s)\nauthenticator secret (shown once): %s\n%s\n", o.Login, o.Role, en.Secret, en.URL)
	return nil
}

func cmdPost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New("usage: gosid post export --dir DIR [--limit N]")
	}
	var c common
	fs := newFlagSet("post export", stderr)
	c.register(fs)
	dir := fs.String("dir", ".", "where to write the batch (a CSV and a PDF)")
	limit := fs.Int("limit", 0, "at most this many letters (0: all)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	stamp := time.Now().UTC().Format("20060102-150405")
	n, err := app.NewPost(st, nil).Export(ctx, *limit, func(b *post.Batch) error {
		base := filepath.Join(*dir, "letters-"+stamp)
		if err := os.WriteFile(base+".csv", b.CSV, 0o600); err != nil {
			return err
		}
		return os.WriteFile(base+".pdf", b.PDF, 0o600)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d letters exported\n", n)
	return nil
}
