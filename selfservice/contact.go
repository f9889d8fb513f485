package selfservice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/storage"
)

// Validity of a one-time code sent to a phone or an e-mail (DESIGN.md
// "Decisions").
const (
	SMSCodeTTL   = 5 * time.Minute
	EmailCodeTTL = 10 * time.Minute
)

// Notifier delivers a message to a contact (the durable queue of package
// notify): one-time codes, and warnings to a contact that may not be an
// account's yet.
type Notifier interface {
	Enqueue(ctx context.Context, m notify.Message) error
}

// CodeTTL is how long a code sent to a contact of kind ("phone" or
// "email") is valid, and the same in minutes as the message says it.
func CodeTTL(kind string) (time.Duration, string) {
	if kind == "email" {
		return EmailCodeTTL, "10"
	}
	return SMSCodeTTL, "5"
}

// ContactChannel is how a message reaches a contact of kind ("phone" or
// "email").
func ContactChannel(kind string) notify.Channel {
	if kind == "phone" {
		return notify.ChannelSMS
	}
	return notify.ChannelEmail
}

// AccountByContact returns the account whose phone or e-mail (kind "phone"
// or "email", normalised) is contact; nil when there is none.
func (e *Engine) AccountByContact(ctx context.Context, kind, contact string) (*account.Account, error) {
	var (
		a   *account.Account
		err error
	)
	if kind == "phone" {
		a, err = e.Accounts.FindAccountByPhone(ctx, contact)
	} else {
		a, err = e.Accounts.FindAccountByEmail(ctx, contact)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find account by %s: %w", kind, err)
	}
	return a, nil
}
