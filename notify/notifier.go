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

// Enqueuer accepts a message for durable delivery (the Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, m Message) error
}

// Notifier sends a notice about an account where its owner wants it: by SMS
// to the confirmed phone, by e-mail to the confirmed address, and into the
// personal account's messages, as the citizen's notification settings say
// for the notice's event. Security notices always reach the account's
// messages, whatever the settings.
type Notifier struct {
	Queue Enqueuer
	// Inbox keeps in-account messages; nil leaves them out.
	Inbox account.Inbox
	Log   *slog.Logger
	Now   func() time.Time
}

// EventOf is the notification event a message template belongs to, or ""
// for messages that are not routable by preference (one-time codes go
// where they were asked for).
func EventOf(template string) string {
	switch template {
	case "login_new_device":
		return account.EventLogin
	case "login_locked", "password_changed", "security_changed":
		return account.EventSecurity
	case "verification_done", "verification_failed":
		return account.EventVerification
	}
	return ""
}

// ToAccount sends the notice rendered from template in the account's
// language (lang when the account has none). A failure to enqueue is
// logged, not returned: a notice never undoes the action it reports.
func (r *Notifier) ToAccount(ctx context.Context, a *account.Account, template, lang string, data map[string]string) {
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
		if err := r.Queue.Enqueue(ctx, msg); err != nil {
			r.log().Error("notify: enqueue", "template", template, "channel", msg.Channel, "err", err)
		}
	}
	if r.Inbox != nil && slices.Contains(channels, account.ChannelInbox) {
		err := r.Inbox.AddInboxMessage(ctx, &account.InboxMessage{ID: inboxID(), AccountID: a.ID,
			Template: template, Data: data, CreatedAt: r.now().UTC()})
		if err != nil {
			r.log().Error("notify: inbox message", "template", template, "err", err)
		}
	}
}

func (r *Notifier) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *Notifier) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func inboxID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
