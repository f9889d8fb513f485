package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/storage"
)

func cmdAccounts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: gosid accounts create --phone P | --email E --password PW [--family-name ...]")
	}
	var c common
	fs := newFlagSet("accounts create", stderr)
	c.register(fs)
	phone := fs.String("phone", "", "mobile phone (+7...)")
	email := fs.String("email", "", "e-mail")
	password := fs.String("password", "", "password (or --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	family := fs.String("family-name", "", "surname")
	given := fs.String("given-name", "", "first name")
	middle := fs.String("middle-name", "", "patronymic")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *fromStdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	a := &account.Account{
		FamilyName: *family, GivenName: *given, MiddleName: *middle,
		Level: account.LevelSimplified, Status: account.StatusActive, Locale: "ru",
	}
	var err error
	if *phone != "" {
		if a.Phone, err = account.NormalizePhone(*phone); err != nil {
			return fmt.Errorf("--phone: %w", err)
		}
		a.PhoneVerified = true
	}
	if *email != "" {
		if a.Email, err = account.NormalizeEmail(*email); err != nil {
			return fmt.Errorf("--email: %w", err)
		}
		a.EmailVerified = true
	}
	if a.Phone == "" && a.Email == "" {
		return errors.New("give --phone or --email")
	}
	if n := len([]rune(*password)); n < 8 || n > 128 {
		return errors.New("--password must be 8 to 128 characters")
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	if a.PasswordHash, err = st.Passwords.Hash(ctx, *password); err != nil {
		return err
	}
	now := time.Now().UTC()
	a.ID = uuid.NewString()
	a.CreatedAt, a.UpdatedAt, a.PasswordChangedAt = now, now, now
	if err := st.DB.CreateAccount(ctx, a); errors.Is(err, storage.ErrConflict) {
		return errors.New("an account with this phone or e-mail already exists")
	} else if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"id": a.ID, "phone": a.Phone, "email": a.Email, "level": a.Level, "created_at": a.CreatedAt,
		})
	}
	fmt.Fprintf(stdout, "created account %s\n", a.ID)
	return nil
}
