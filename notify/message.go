package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel is how a message travels.
type Channel string

// Channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Message is one notification: a template rendered in the citizen's
// language with the given data. Data may hold a one-time code: a Message
// prints and logs without it (see String and LogValue).
type Message struct {
	Channel  Channel
	To       string
	Template string
	Lang     string // "ru" (the default when empty) or "en"
	Data     map[string]string
	// Decoy marks a message that is queued like any other and never
	// delivered: a step that must not tell whether a contact is an
	// account's (recovery) does the same work for one that is not.
	Decoy bool
	// Expires is when the one-time code in Data stops being valid (zero for
	// messages without one): a delivery after it sends nothing.
	Expires time.Time
	// CodeRef names the code in Data for QueueOptions.Pending (codes.Ref):
	// a code already used or replaced is not sent.
	CodeRef string
}

// String describes m without its data or its full recipient, so that a
// Message that slips into a log line or an error leaks no code.
func (m Message) String() string {
	return fmt.Sprintf("%s %s to %s", m.Template, m.Channel, Mask(m.To))
}

// LogValue is what slog records for a Message: never the data.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("template", m.Template),
		slog.String("channel", string(m.Channel)),
		slog.String("to", Mask(m.To)),
	)
}

// Rendered is a message ready for a Sender: for SMS only Text is set; for
// e-mail Subject, Text (the text/plain part) and HTML.
type Rendered struct {
	Channel Channel
	To      string
	Subject string
	Text    string
	HTML    string
}

// String describes r without its content.
func (r Rendered) String() string {
	return fmt.Sprintf("%s to %s", r.Channel, Mask(r.To))
}

// LogValue is what slog records for a Rendered message: never the content.
func (r Rendered) LogValue() slog.Value {
	return slog.GroupValue(slog.String("channel", string(r.Channel)), slog.String("to", Mask(r.To)))
}

// ErrPermanent marks a delivery failure that retrying cannot fix: an
// invalid address, a message the gateway refuses (4xx), a template that does
// not render. The queue stops retrying a message whose error wraps it.
var ErrPermanent = errors.New("notify: permanent delivery failure")

// permanent wraps err with ErrPermanent.
func permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// Mask hides most of a contact for logs: +7******6789, i***@example.com.
func Mask(to string) string {
	if at := strings.LastIndexByte(to, '@'); at >= 0 {
		if at == 0 {
			return "***" + to[at:]
		}
		_, size := utf8.DecodeRuneInString(to)
		return to[:size] + "***" + to[at:]
	}
	n := utf8.RuneCountInString(to)
	if n < 8 {
		return "***"
	}
	r := []rune(to)
	return string(r[:2]) + strings.Repeat("*", n-6) + string(r[n-4:])
}
