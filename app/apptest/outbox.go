package apptest

import (
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
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

// waitFor polls the development outbox (delivery goes through the durable
// queue, so it is asynchronous) until find matches or 10 s pass.
func (e *Env) waitFor(t testing.TB, find func(notify.OutboxEntry) bool) (notify.OutboxEntry, bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range e.Server.Outbox.List() {
			if find(m) {
				return m, true
			}
		}
		if time.Now().After(deadline) {
			return notify.OutboxEntry{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// LatestCode waits for a message carrying a one-time code to contact that
// no earlier call returned, and returns its code.
func (e *Env) LatestCode(t testing.TB, contact string) string {
	t.Helper()
	to := normContact(t, contact)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	m, ok := e.waitFor(t, func(m notify.OutboxEntry) bool {
		return m.Message.To == to && m.Message.Data["code"] != "" && !e.seen[entryKey(m)]
	})
	if !ok {
		t.Fatalf("no new code was sent to %s", to)
	}
	e.seen[entryKey(m)] = true
	return m.Message.Data["code"]
}

func entryKey(m notify.OutboxEntry) string {
	return m.At.Format(time.RFC3339Nano) + "|" + m.Message.To + "|" + m.Message.Data["code"]
}

// WaitTemplate waits for a message to contact with the given template.
func (e *Env) WaitTemplate(t testing.TB, contact, template string) {
	t.Helper()
	to := normContact(t, contact)
	if _, ok := e.waitFor(t, func(m notify.OutboxEntry) bool { return m.Message.To == to && m.Message.Template == template }); !ok {
		t.Fatalf("no %s message reached %s; outbox: %d messages", template, to, len(e.Server.Outbox.List()))
	}
}

// WaitCount waits until at least n messages of template reached contact
// and returns how many did.
func (e *Env) WaitCount(t testing.TB, contact, template string, n int) int {
	t.Helper()
	to := normContact(t, contact)
	count := func() int {
		c := 0
		for _, m := range e.Server.Outbox.List() {
			if m.Message.To == to && m.Message.Template == template {
				c++
			}
		}
		return c
	}
	deadline := time.Now().Add(10 * time.Second)
	for c := count(); c < n; c = count() {
		if time.Now().After(deadline) {
			t.Fatalf("%d %s messages reached %s, want at least %d", c, template, to, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return count()
}

// Sent returns how many messages reached contact so far.
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
