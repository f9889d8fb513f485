// Package notify delivers messages to citizens: e-mail and SMS.
package notify

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Channel is how a message travels.
type Channel string

// Channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Message is one notification: a template rendered in the citizen's
// language with the given data.
type Message struct {
	Channel  Channel
	To       string
	Template string
	Lang     string
	Data     map[string]string
}

// OutboxEntry is a message recorded by the development outbox.
type OutboxEntry struct {
	Message Message
	At      time.Time
}

// Outbox keeps the last messages in memory for development mode, where no
// SMS operator or mail server exists: a newcomer reads codes there.
type Outbox struct {
	mu   sync.Mutex
	list []OutboxEntry
	max  int
	log  *slog.Logger
}

// NewOutbox returns an outbox keeping the newest max messages.
func NewOutbox(max int, log *slog.Logger) *Outbox {
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{max: max, log: log}
}

// Enqueue records m (development mode only: the log line includes the data,
// codes included, so that a developer can read them).
func (o *Outbox) Enqueue(_ context.Context, m Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append([]OutboxEntry{{Message: m, At: time.Now().UTC()}}, o.list...)
	if len(o.list) > o.max {
		o.list = o.list[:o.max]
	}
	o.log.Info("DEV OUTBOX: message not sent, shown here", "channel", m.Channel, "to", m.To,
		"template", m.Template, "data", m.Data)
	return nil
}

// List returns the messages, newest first.
func (o *Outbox) List() []OutboxEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]OutboxEntry(nil), o.list...)
}

// Mask hides most of a contact for logs: +7******6789, i***@example.ru.
func Mask(to string) string {
	if at := strings.IndexByte(to, '@'); at > 0 {
		return to[:1] + "***" + to[at:]
	}
	if len(to) > 4 {
		return to[:2] + strings.Repeat("*", len(to)-6) + to[len(to)-4:]
	}
	return "***"
}
