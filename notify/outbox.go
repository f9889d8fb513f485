package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultOutboxSize is how many messages an Outbox keeps by default.
const DefaultOutboxSize = 200

// OutboxEntry is a message recorded by the development outbox: what was
// rendered and, when known, the message it came from. The development page
// lists its exported fields; the HTML body is kept apart (HTMLBody) so that
// the page shows the text, not pages of markup.
type OutboxEntry struct {
	At       time.Time
	Channel  Channel
	To       string
	Template string
	Subject  string
	Text     string
	// Message is the message as enqueued (Data holds the code), for tests;
	// only Channel and To are set when just the rendering was known.
	Message Message

	html string
}

// HTMLBody is the HTML part of an e-mail ("" for SMS).
func (e OutboxEntry) HTMLBody() string { return e.html }

// Outbox keeps the newest messages in memory and logs each one, for
// development mode, where no SMS operator or mail server exists: a newcomer
// reads codes there.
//
// DEVELOPMENT ONLY. Every message is logged at INFO with its full text,
// one-time codes and links included, and kept in memory where the
// development page shows it. Never give an Outbox to a production Router.
// It is safe for concurrent use.
type Outbox struct {
	log *slog.Logger

	mu   sync.Mutex
	ring []OutboxEntry // ring[next-1] is the newest
	next int
	full bool
}

// NewOutbox returns an outbox keeping the newest size messages
// (DefaultOutboxSize when size <= 0), logging to log (slog.Default when nil).
func NewOutbox(size int, log *slog.Logger) *Outbox {
	if size <= 0 {
		size = DefaultOutboxSize
	}
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{log: log, ring: make([]OutboxEntry, size)}
}

// Send records r. It makes the Outbox a Sender, for a Router channel with
// no real sender.
func (o *Outbox) Send(_ context.Context, r Rendered) error {
	o.record(Message{Channel: r.Channel, To: r.To}, r)
	return nil
}

// Enqueue renders m and records it at once, with no queue and no delivery:
// the notifier of a development server that runs without the job queue.
// A decoy is rendered and dropped.
func (o *Outbox) Enqueue(_ context.Context, m Message) error {
	r, err := Render(m)
	if err != nil || m.Decoy {
		return err
	}
	o.record(m, r)
	return nil
}

func (o *Outbox) record(m Message, r Rendered) {
	e := OutboxEntry{
		At: time.Now().UTC(), Channel: r.Channel, To: r.To, Template: m.Template,
		Subject: r.Subject, Text: r.Text, Message: m, html: r.HTML,
	}
	o.mu.Lock()
	o.ring[o.next] = e
	o.next++
	if o.next == len(o.ring) {
		o.next, o.full = 0, true
	}
	o.mu.Unlock()
	// The text is logged on purpose: this is the development outbox.
	o.log.Info("DEV OUTBOX: message recorded (development mode only; codes are shown)",
		"channel", string(r.Channel), "to", r.To, "template", m.Template,
		"subject", r.Subject, "text", r.Text)
}

// List returns the recorded messages, newest first.
func (o *Outbox) List() []OutboxEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.next
	if o.full {
		n = len(o.ring)
	}
	out := make([]OutboxEntry, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, o.ring[(o.next-i+len(o.ring))%len(o.ring)])
	}
	return out
}

// Latest returns the newest message to to, for tests.
func (o *Outbox) Latest(to string) (OutboxEntry, bool) {
	for _, e := range o.List() {
		if e.To == to {
			return e, true
		}
	}
	return OutboxEntry{}, false
}
