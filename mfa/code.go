package mfa

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/notify"
)

// CodeMethod is a one-time code sent by SMS to the confirmed phone or by
// e-mail to the confirmed address. The limits (resend interval, hourly
// cap, burned codes, blocked contacts) are package codes'; its errors
// reach the caller unchanged.
//
// With no factor on, a code to a confirmed contact is always usable, so a
// service or the global setting can demand a second factor of anyone.
type CodeMethod struct {
	kind    string
	channel string // "phone" or "email"
	amr     string
	ttl     time.Duration
	deps    CodeDeps
}

// CodeDeps are what code methods need.
type CodeDeps struct {
	Codes *codes.Service
	// Queue delivers the code (the durable queue of package notify).
	Queue interface {
		Enqueue(ctx context.Context, m notify.Message) error
	}
	Factors Store
	Now     func() time.Time
}

var _ interface {
	Sender
	Enroller
} = (*CodeMethod)(nil)

// NewSMS returns the SMS code method; codes live ttl.
func NewSMS(d CodeDeps, ttl time.Duration) *CodeMethod {
	return &CodeMethod{kind: KindSMS, channel: "phone", amr: "sms", ttl: ttl, deps: d}
}

// NewEmail returns the e-mail code method. RFC 8176 has no value for an
// e-mailed code: it is a one-time password.
func NewEmail(d CodeDeps, ttl time.Duration) *CodeMethod {
	return &CodeMethod{kind: KindEmail, channel: "email", amr: "otp", ttl: ttl, deps: d}
}

func (m *CodeMethod) Kind() string       { return m.kind }
func (m *CodeMethod) AMR(*Factor) string { return m.amr }

func (m *CodeMethod) Contact(a *account.Account) Contact {
	if m.channel == "phone" {
		return Contact{Channel: m.channel, Address: a.Phone, Confirmed: a.PhoneVerified}
	}
	return Contact{Channel: m.channel, Address: a.Email, Confirmed: a.EmailVerified}
}

func (m *CodeMethod) Usable(_ context.Context, s *Subject) (bool, error) {
	return m.Contact(s.Account).usable() && (len(s.Factors) == 0 || s.factor(m.kind) != nil), nil
}

// Send issues a code scoped to purpose and queues the message.
func (m *CodeMethod) Send(ctx context.Context, s *Subject, purpose string) error {
	to := m.Contact(s.Account).Address
	code, err := m.deps.Codes.Issue(ctx, "mfa_"+purpose, to, m.ttl)
	if err != nil {
		return fmt.Errorf("mfa: issue %s code: %w", m.kind, err)
	}
	// The message says "sign-in code" for a sign-in or step-up.
	shown := "login"
	if purpose == "enroll" {
		shown = "mfa_enroll"
	}
	ch := notify.ChannelEmail
	if m.channel == "phone" {
		ch = notify.ChannelSMS
	}
	err = m.deps.Queue.Enqueue(ctx, notify.Message{Channel: ch, To: to, Lang: s.lang(), Template: "otp",
		Data:    map[string]string{"code": code, "minutes": strconv.Itoa(int(m.ttl.Minutes())), "purpose": shown},
		Expires: time.Now().Add(m.ttl), CodeRef: m.deps.Codes.Ref("mfa_"+purpose, to)})
	if err != nil {
		return fmt.Errorf("mfa: queue %s code: %w", m.kind, err)
	}
	return nil
}

// Check takes the code sent for the challenge's purpose. A code typed
// before one was sent is not an attempt; anything else refused is.
func (m *CodeMethod) Check(ctx context.Context, c *Challenge, in Answer) (*Factor, error) {
	if c.Sent != m.kind {
		return nil, ErrNotSent
	}
	if err := m.verify(ctx, &c.Subject, "mfa_"+c.Purpose, in.Code); err != nil {
		if isCodeRefusal(err) {
			return nil, attempt(err)
		}
		return nil, err
	}
	f := c.factor(m.kind)
	if f == nil {
		return nil, nil
	}
	if err := m.deps.Factors.UpdateFactorUse(ctx, c.Account.ID, f.ID, m.deps.Now().UTC(), nil); err != nil {
		return nil, fmt.Errorf("mfa: record %s use: %w", m.kind, err)
	}
	return f, nil
}

func (m *CodeMethod) verify(ctx context.Context, s *Subject, purpose, code string) error {
	if code == "" {
		return ErrNoAnswer
	}
	err := m.deps.Codes.Verify(ctx, purpose, m.Contact(s.Account).Address, code)
	if err != nil && !isCodeRefusal(err) {
		return fmt.Errorf("mfa: verify %s code: %w", m.kind, err)
	}
	return err
}

func isCodeRefusal(err error) bool {
	return errors.Is(err, ErrNoAnswer) || errors.Is(err, codes.ErrInvalid) || errors.Is(err, codes.ErrExpired) ||
		errors.Is(err, codes.ErrBurned) || errors.Is(err, codes.ErrBlocked)
}

// BeginEnroll sends the first code; an account has one factor of each
// contact kind at most, and only to a confirmed contact.
func (m *CodeMethod) BeginEnroll(ctx context.Context, e *Enrolment) (*Setup, error) {
	if e.factor(m.kind) != nil {
		return nil, ErrExists
	}
	if !m.Contact(e.Account).usable() {
		return nil, ErrNoContact
	}
	return &Setup{}, m.Send(ctx, &e.Subject, "enroll")
}

// Pending shows nothing: the page shows the masked contact.
func (*CodeMethod) Pending(*Enrolment) (*Setup, error) { return nil, nil }

// FinishEnroll takes the code sent for the enrolment.
func (m *CodeMethod) FinishEnroll(ctx context.Context, e *Enrolment, in Answer) (*Factor, error) {
	if err := m.verify(ctx, &e.Subject, "mfa_enroll", in.Code); err != nil {
		return nil, err
	}
	return newFactor(e, m.kind, m.deps.Now().UTC()), nil
}
