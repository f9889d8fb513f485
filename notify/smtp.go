package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP TLS modes (SMTPOptions.TLS).
const (
	SMTPStartTLS      = "starttls"      // STARTTLS required; refuse a server without it
	SMTPOpportunistic = "opportunistic" // STARTTLS when offered, else plain text
	SMTPImplicitTLS   = "tls"           // TLS from the first byte (port 465)
	SMTPNoTLS         = "none"          // plain text: a local relay only
)

// SMTPOptions configure the SMTP sender.
type SMTPOptions struct {
	Host string
	// Port defaults to 587, or 465 with implicit TLS.
	Port               int
	Username, Password string
	// From is the sender, e.g. "gosid <no-reply@gosid.example>".
	From string
	// TLS is one of "starttls" (the default), "opportunistic", "tls" and
	// "none". Credentials are only ever sent over an encrypted connection.
	TLS string
	// Timeout bounds connecting and each SMTP command (15 s when zero).
	Timeout time.Duration
	// InsecureSkipVerify accepts any server certificate. Tests only.
	InsecureSkipVerify bool
}

// SMTPSender delivers e-mail over SMTP, one connection per message: a
// multipart/alternative letter with a text and an HTML part, a UTF-8
// subject, a Message-ID and a Date.
type SMTPSender struct {
	opts   SMTPOptions
	from   *mail.Address
	domain string
}

// NewSMTPSender checks opts and returns the sender. It does not connect.
func NewSMTPSender(opts SMTPOptions) (*SMTPSender, error) {
	if opts.Host == "" {
		return nil, errors.New("notify: smtp host is empty")
	}
	if opts.TLS == "" {
		opts.TLS = SMTPStartTLS
	}
	switch opts.TLS {
	case SMTPStartTLS, SMTPOpportunistic, SMTPNoTLS:
		if opts.Port == 0 {
			opts.Port = 587
		}
	case SMTPImplicitTLS:
		if opts.Port == 0 {
			opts.Port = 465
		}
	default:
		return nil, fmt.Errorf("notify: smtp tls must be starttls, opportunistic, tls or none, got %q", opts.TLS)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp from %q: %w", opts.From, err)
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return &SMTPSender{opts: opts, from: from, domain: domain}, nil
}

// Send delivers r. A recipient or message the server refuses for good (a
// 5xx answer to RCPT or DATA) or an invalid address fails permanently;
// anything else (connection, TLS, authentication, 4xx) is retried.
func (s *SMTPSender) Send(ctx context.Context, r Rendered) error {
	if r.Channel != ChannelEmail {
		return permanent(fmt.Errorf("notify: smtp cannot send %q", r.Channel))
	}
	msg, err := s.message(r)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.opts.Host, s.clientOptions()...)
	if err != nil {
		return fmt.Errorf("notify: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() &&
			(se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPData || se.Reason == gomail.ErrSMTPDataClose) {
			return permanent(fmt.Errorf("notify: smtp: %w", err))
		}
		return fmt.Errorf("notify: smtp: %w", err)
	}
	return nil
}

func (s *SMTPSender) message(r Rendered) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(r.To)
	if err != nil || strings.ContainsAny(r.To, "<>,") {
		return nil, permanent(errors.New("notify: smtp: invalid recipient address"))
	}
	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	m.FromMailAddress(s.from)
	if err := m.To(to.Address); err != nil {
		return nil, permanent(errors.New("notify: smtp: invalid recipient address"))
	}
	m.Subject(r.Subject)
	m.SetMessageIDWithValue(messageID(s.domain))
	m.SetDate()
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, r.Text)
	if r.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	}
	return m, nil
}

func (s *SMTPSender) clientOptions() []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.opts.Port),
		gomail.WithTimeout(s.opts.Timeout),
		gomail.WithTLSConfig(&tls.Config{
			ServerName:         s.opts.Host,
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: s.opts.InsecureSkipVerify, //nolint:gosec // tests only, documented
		}),
	}
	switch s.opts.TLS {
	case SMTPStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case SMTPOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case SMTPImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case SMTPNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.opts.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers and
		// never one that sends the password in clear over plain text.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.opts.Username), gomail.WithPassword(s.opts.Password))
	}
	return opts
}

// messageID returns a random Message-ID in the sender's domain.
func messageID(domain string) string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)) + "@" + domain
}
