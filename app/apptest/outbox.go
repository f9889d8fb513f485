package apptest

import (
	"testing"

	"github.com/gosid/gosid/account"
)

func normContact(t testing.TB, c string) string {
	if p, err := account.NormalizePhone(c); err == nil {
		return p
	}
	if e, err := account.NormalizeEmail(c); err == nil {
		return e
	}
	t.Fatalf("not a contact: %q", c)
	return ""
}

// LatestCode returns the one-time code of the newest message to contact.
func (e *Env) LatestCode(t testing.TB, contact string) string {
	t.Helper()
	to := normContact(t, contact)
	for _, m := range e.Server.Outbox.List() {
		if m.Message.To == to && m.Message.Data["code"] != "" {
			return m.Message.Data["code"]
		}
	}
	t.Fatalf("no code was sent to %s", to)
	return ""
}

// LatestTemplate returns the template of the newest message to contact.
func (e *Env) LatestTemplate(t testing.TB, contact string) string {
	t.Helper()
	to := normContact(t, contact)
	for _, m := range e.Server.Outbox.List() {
		if m.Message.To == to {
			return m.Message.Template
		}
	}
	t.Fatalf("nothing was sent to %s", to)
	return ""
}

// Sent returns how many messages went to contact.
func (e *Env) Sent(t testing.TB, contact string) int {
	t.Helper()
	to, n := normContact(t, contact), 0
	for _, m := range e.Server.Outbox.List() {
		if m.Message.To == to {
			n++
		}
	}
	return n
}
