// Package bank is the citizen's side of partner banks: «Подтвердить через
// банк» from the personal account, «Войти через банк» from the sign-in
// page, the list of linked banks and unlinking one, as pages and over the
// JSON API. Package federation talks to the banks; this package decides
// what a bank's answer is worth.
//
// The rules: a bank identity is its stable (bank, subject) pair; it is
// linked to an account only when the identifiers the bank vouches for
// (SNILS, INN, passport, and the names and birth date) match the
// account's registry-verified data, and only for the citizen signed in to
// that account. A bank identity that is not linked never signs anyone in,
// even when its SNILS or phone matches an account: the citizen is asked to
// sign in and confirm first (auto-linking by a contact was an account
// takeover path elsewhere).
package bank

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// Purposes of a trip to the bank.
const (
	PurposeConfirm = "confirm"
	PurposeSignIn  = "signin"
)

// Verifier is what the flows need of package verify.
type Verifier interface {
	Get(ctx context.Context, accountID string) (*verify.Profile, *verify.Record, error)
	Confirm(ctx context.Context, accountID string, c verify.Confirmation) (*account.Account, error)
}

// Deps are what the flows need.
type Deps struct {
	Engine *selfservice.Engine
	Banks  *federation.Registry
	Links  federation.LinkStore
	Verify Verifier
	// TTL bounds a trip to the bank (10 minutes by default).
	TTL time.Duration
	// StartsPerIP caps the trips one client address may start a minute
	// (30 by default): each trip costs a stored request and, at the bank,
	// a sign-in page, so a flood from one address is cut short.
	StartsPerIP int
}

// Service runs the bank flows.
type Service struct {
	*selfservice.Engine
	d Deps
}

// New returns the service.
func New(d Deps) *Service {
	if d.TTL <= 0 {
		d.TTL = 10 * time.Minute
	}
	if d.StartsPerIP <= 0 {
		d.StartsPerIP = 30
	}
	return &Service{Engine: d.Engine, d: d}
}

// trip is a started trip to a bank, kept in the short-lived store under
// its state until the bank answers. Binding ties the answer to whoever
// started it: the browser's cookie or the app's flow token.
type trip struct {
	federation.Request
	Purpose   string `json:"purpose"`
	AccountID string `json:"account,omitempty"`
	Flow      string `json:"flow,omitempty"`
	Binding   string `json:"binding"`
	API       bool   `json:"api,omitempty"`
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tripKey(state string) string { return "bank:trip:" + state }

// Outcomes of a bank's answer that are not failures of gosid; the faces
// turn them into pages or JSON errors.
var (
	// ErrUnknownBank: no enabled bank by that id.
	ErrUnknownBank = errors.New("bank: no such bank")
	// ErrExpired: no trip with that state (finished, expired or forged).
	ErrExpired = errors.New("bank: the trip to the bank is over")
	// ErrNotLinked: the bank identity backs no account.
	ErrNotLinked = errors.New("bank: the bank identity is not linked")
	// ErrLinkedElsewhere: the bank identity backs another account.
	ErrLinkedElsewhere = errors.New("bank: the bank identity backs another account")
	// ErrNotVerified: the account's data is not registry-verified yet.
	ErrNotVerified = verify.ErrNotVerified
	// ErrWrongAccount: the trip was started by another session.
	ErrWrongAccount = errors.New("bank: the trip belongs to another session")
	// ErrTooMany: the client address started too many trips this minute.
	ErrTooMany = errors.New("bank: too many trips from this address")
)

// MismatchError names the fields where the bank and the verified data
// differ («Несоответствие данных»).
type MismatchError struct{ Fields []federation.Field }

func (e *MismatchError) Error() string {
	s := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		s[i] = string(f)
	}
	return "bank: data mismatch: " + strings.Join(s, ", ")
}

// Start begins a trip to bankID for purpose and returns the bank's URL and
// the binding to present with the answer.
func (s *Service) Start(ctx context.Context, bankID, purpose, accountID, flow, ip string, api bool) (string, string, error) {
	_, conn, ok := s.d.Banks.Bank(bankID)
	if !ok {
		return "", "", ErrUnknownBank
	}
	n, err := s.Ephemeral.Incr(ctx, "bank:rate:ip:"+ip, time.Minute)
	if err != nil {
		return "", "", fmt.Errorf("bank: rate limit: %w", err)
	}
	if n > int64(s.d.StartsPerIP) {
		return "", "", ErrTooMany
	}
	t := &trip{Request: federation.Request{Bank: bankID, State: random(), Nonce: random(), Verifier: random()},
		Purpose: purpose, AccountID: accountID, Flow: flow, Binding: random(), API: api}
	u, err := conn.AuthURL(ctx, &t.Request)
	if err != nil {
		return "", "", err
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return "", "", err
	}
	if err := s.Ephemeral.Put(ctx, tripKey(t.State), raw, s.d.TTL); err != nil {
		return "", "", fmt.Errorf("bank: keep the trip: %w", err)
	}
	return u, t.Binding, nil
}

// finish takes the trip the answer belongs to (once: of two callbacks for
// one trip only one gets it) and has the bank's connector check the
// answer.
func (s *Service) finish(ctx context.Context, answer url.Values, binding string) (*trip, *federation.Bank, *federation.Identity, error) {
	state := answer.Get("state")
	if state == "" || len(state) > 100 {
		return nil, nil, nil, ErrExpired
	}
	raw, err := s.Ephemeral.Take(ctx, tripKey(state))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil, ErrExpired
	} else if err != nil {
		return nil, nil, nil, err
	}
	var t trip
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, nil, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(t.Binding), []byte(binding)) != 1 {
		return nil, nil, nil, ErrExpired
	}
	b, conn, ok := s.d.Banks.Bank(t.Bank)
	if !ok {
		return nil, nil, nil, ErrUnknownBank
	}
	id, err := conn.Callback(ctx, &t.Request, answer)
	if err != nil {
		return &t, b, nil, err
	}
	return &t, b, id, nil
}

// Confirm checks the bank's identity against the account's verified data
// and, on a match, links it and raises the account to confirmed (one
// change, in verify.Confirm).
func (s *Service) Confirm(ctx context.Context, accountID string, b *federation.Bank, id *federation.Identity, m selfservice.Meta) (*account.Account, error) {
	p, _, err := s.d.Verify.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if p.Verified == nil || p.Status != verify.StatusVerified {
		return nil, ErrNotVerified
	}
	if diff := Compare(b, id, p.Verified); len(diff) > 0 {
		s.Record(ctx, m, accountID, "bank.mismatch", "", map[string]string{"bank": b.ID, "fields": (&MismatchError{diff}).Error()})
		return nil, &MismatchError{diff}
	}
	now := s.Now().UTC()
	a, err := s.d.Verify.Confirm(ctx, accountID, verify.Confirmation{Cause: verify.CauseBank, By: b.ID,
		Subject: id.Subject, ACR: id.ACR, Name: b.Name("ru"),
		Also: func(ctx context.Context) error {
			l, err := s.d.Links.LinkBySubject(ctx, b.ID, id.Subject)
			switch {
			case err == nil && l.AccountID == accountID:
				return s.d.Links.TouchLink(ctx, b.ID, id.Subject, now)
			case err == nil:
				return ErrLinkedElsewhere
			case !errors.Is(err, storage.ErrNotFound):
				return err
			}
			err = s.d.Links.CreateLink(ctx, &federation.Link{Bank: b.ID, Subject: id.Subject, Issuer: id.Issuer,
				AccountID: accountID, LinkedAt: now, LastUsedAt: now})
			if errors.Is(err, storage.ErrConflict) {
				// Another callback linked it meanwhile: to this account
				// or another, the unique key decided.
				return ErrLinkedElsewhere
			}
			return err
		}})
	if errors.Is(err, ErrLinkedElsewhere) {
		return nil, ErrLinkedElsewhere
	}
	return a, err
}

// SignIn returns the account a linked bank identity signs in to.
func (s *Service) SignIn(ctx context.Context, b *federation.Bank, id *federation.Identity, m selfservice.Meta) (*account.Account, error) {
	l, err := s.d.Links.LinkBySubject(ctx, b.ID, id.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotLinked
	} else if err != nil {
		return nil, err
	}
	a, err := s.Accounts.GetAccount(ctx, l.AccountID)
	if err != nil {
		return nil, err
	}
	if a.Status != account.StatusActive {
		return nil, ErrNotLinked
	}
	if err := s.d.Links.TouchLink(ctx, b.ID, id.Subject, s.Now()); err != nil {
		s.Log().Warn("bank: touch link", "err", err)
	}
	return a, nil
}

// AMR is the session's amr after a bank sign-in: "fed" (RFC 8176) and the
// bank's own values, so that a second factor at the bank counts as one
// only when the bank asserts it.
func AMR(id *federation.Identity) []string {
	out := []string{"fed"}
	for _, v := range id.AMR {
		if v != "fed" && len(out) < 8 && len(v) <= 32 {
			out = append(out, v)
		}
	}
	return out
}

// Compare returns the vouched fields where the bank's identity differs
// from the verified data; a field the bank vouches for but did not send
// differs. A field the account has no value for (an INN never entered) is
// not compared, but at least one identifier must match.
func Compare(b *federation.Bank, id *federation.Identity, d *verify.Data) []federation.Field {
	ours := map[federation.Field]string{
		federation.FamilyName: d.FamilyName, federation.GivenName: d.GivenName, federation.MiddleName: d.MiddleName,
		federation.BirthDate: d.BirthDate, federation.SNILS: digits(d.SNILS), federation.INN: d.INN,
		federation.Passport: digits(d.Passport.Series + d.Passport.Number),
	}
	var diff []federation.Field
	identifiers := 0
	for _, f := range federation.Fields {
		if !b.Vouch(f) || f == federation.Phone {
			continue
		}
		want := ours[f]
		if want == "" && f != federation.MiddleName {
			continue
		}
		if !same(f, want, id.Values[f]) {
			diff = append(diff, f)
			continue
		}
		if f == federation.SNILS || f == federation.INN || f == federation.Passport {
			identifiers++
		}
	}
	if len(diff) == 0 && identifiers == 0 {
		diff = append(diff, federation.SNILS)
	}
	return diff
}

func same(f federation.Field, a, b string) bool {
	switch f {
	case federation.FamilyName, federation.GivenName, federation.MiddleName:
		fold := strings.NewReplacer("ё", "е", "Ё", "Е")
		return strings.EqualFold(fold.Replace(strings.TrimSpace(a)), fold.Replace(strings.TrimSpace(b)))
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Links lists the account's linked banks with their names.
func (s *Service) Links(ctx context.Context, accountID, lang string) ([]LinkView, error) {
	ls, err := s.d.Links.ListLinks(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]LinkView, 0, len(ls))
	for _, l := range ls {
		v := LinkView{Link: l, Name: l.Bank}
		if b, _, ok := s.d.Banks.Bank(l.Bank); ok {
			v.Name = b.Name(lang)
		}
		out = append(out, v)
	}
	return out, nil
}

// LinkView is a linked bank as pages and the API show it.
type LinkView struct {
	federation.Link
	Name string `json:"name"`
}

// Unlink removes the account's link to bankID; storage.ErrNotFound when
// there is none. The level stays: the confirmation happened.
func (s *Service) Unlink(ctx context.Context, accountID, bankID string, m selfservice.Meta) error {
	if err := s.d.Links.DeleteLink(ctx, accountID, bankID); err != nil {
		return err
	}
	s.Record(ctx, m, accountID, "bank.unlinked", "", map[string]string{"bank": bankID})
	// A link signs the citizen in: its removal is a security change the
	// owner hears of on every contact, as a new sign-in method is.
	if a, err := s.Accounts.GetAccount(ctx, accountID); err == nil {
		name := bankID
		if b, _, ok := s.d.Banks.Bank(bankID); ok {
			name = b.Name(m.Lang)
		}
		s.Notify(ctx, a, "security_changed", m, map[string]string{"change": "bank_unlinked", "bank": name,
			"time": s.Web.DateTime(m.Lang, s.Now())})
	}
	return nil
}
