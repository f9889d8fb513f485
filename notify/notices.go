package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"slices"
	"time"

	"github.com/gosid/gosid/account"
)

// Notices tell a citizen about something that happened to their account,
// on the channels they chose for that kind of event: a confirmed phone or
// e-mail address through the queue, and the inbox of the personal account.
type Notices struct {
	Queue interface {
		Enqueue(ctx context.Context, m Message) error
	}
	// Inbox keeps messages shown in the personal account; nil leaves it out.
	Inbox account.Inbox
	Now   func() time.Time
	Log   *slog.Logger
}

// Send routes the notice; lang is used when the account has no language of
// its own. Delivery problems are logged: a notice never fails the change it
// reports.
func (n *Notices) Send(ctx context.Context, a *account.Account, template, lang string, data map[string]string) {
	if a.Locale != "" {
		lang = a.Locale
	}
	channels := account.NotifyChannels
	if event := EventOf(template); event != "" {
		channels = account.ParseNotifyPrefs(a.NotifyPrefs).Channels(event)
	}
	var msgs []Message
	if a.PhoneVerified && a.Phone != "" && slices.Contains(channels, account.ChannelSMS) {
		msgs = append(msgs, Message{Channel: "sms", To: a.Phone, Template: template, Lang: lang, Data: data})
	}
	if a.EmailVerified && a.Email != "" && slices.Contains(channels, account.ChannelEmail) {
		msgs = append(msgs, Message{Channel: "email", To: a.Email, Template: template, Lang: lang, Data: data})
	}
	for _, msg := range msgs {
		if err := n.Queue.Enqueue(ctx, msg); err != nil {
			n.log().Error("notify: enqueue notice", "template", template, "err", err)
		}
	}
	if n.Inbox != nil && slices.Contains(channels, account.ChannelInbox) {
		err := n.Inbox.AddInboxMessage(ctx, &account.InboxMessage{ID: inboxID(), AccountID: a.ID,
			Template: template, Data: data, CreatedAt: n.now().UTC()})
		if err != nil {
			n.log().Error("notify: inbox message", "template", template, "err", err)
		}
	}
}

// Notify sends the notice in the account's language (for identity checks,
// which have no request to take a language from).
func (n *Notices) Notify(ctx context.Context, a *account.Account, template string, data map[string]string) {
	n.Send(ctx, a, template, a.Locale, data)
}

// EventOf is the notification event a message template belongs to, or ""
// for messages that are not routable (one-time codes go where asked).
func EventOf(template string) string {
	switch template {
	case "login_new_device":
		return account.EventLogin
	case "login_locked", "password_changed", "security_changed":
		return account.EventSecurity
	case "verification_done", "verification_failed", "identity_confirmed":
		return account.EventVerification
	}
	return ""
}

func (n *Notices) now() time.Time {
	if n.Now == nil {
		return time.Now()
	}
	return n.Now()
}

func (n *Notices) log() *slog.Logger {
	if n.Log == nil {
		return slog.Default()
	}
	return n.Log
}

func inboxID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
