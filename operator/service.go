package operator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// Verifier is what the console needs of package verify.
type Verifier interface {
	Get(ctx context.Context, accountID string) (*verify.Profile, *verify.Record, error)
	AccountBySNILS(ctx context.Context, snils string) (string, error)
	FindByPassport(ctx context.Context, seriesNumber string) (string, error)
	Confirm(ctx context.Context, accountID string, c verify.Confirmation) (*account.Account, error)
}

// Accounts is what the console needs of the account store.
type Accounts interface {
	GetAccount(ctx context.Context, id string) (*account.Account, error)
	FindAccountByPhone(ctx context.Context, phone string) (*account.Account, error)
}

// Cipher seals the operators' authenticator secrets.
type Cipher interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, ct, aad []byte) ([]byte, error)
}

// Transactor runs fn in one transaction of the durable stores.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Options are the service's dependencies.
type Options struct {
	Store     Store
	Accounts  Accounts
	Verify    Verifier
	Audit     audit.Store
	Tx        Transactor
	Cipher    Cipher
	Passwords *account.PasswordHasher
	Ephemeral storage.Ephemeral
	// TOTP checks authenticator codes (replay, attempts).
	TOTP *mfa.Verifier
	// Issuer names gosid in the operators' authenticator apps.
	Issuer string
	// SessionTTL is how long a console session lasts (short: 30 minutes by
	// default).
	SessionTTL time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service runs the console's actions.
type Service struct{ o Options }

// DefaultSessionTTL is how long a console session lasts.
const DefaultSessionTTL = 30 * time.Minute

// Sign-in limits: wrong passwords or codes per login.
const (
	maxSignInFails = 5
	signInLockout  = 15 * time.Minute
	caseTTL        = 30 * time.Minute
)

// New returns the service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	return &Service{o: o}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func secretAAD(operatorID string) []byte { return pii.AAD("operator", operatorID, "totp") }

// CreateCentre adds a centre.
func (s *Service) CreateCentre(ctx context.Context, c *Centre) error {
	c.Code = strings.TrimSpace(c.Code)
	if c.Code == "" || strings.TrimSpace(c.Name) == "" {
		return errors.New("operator: a centre needs a code and a name")
	}
	c.ID, c.Created = newID(), s.o.Now().UTC()
	return s.o.Store.CreateCentre(ctx, c)
}

// CreateOperator adds an operator at the centres with the given codes and
// returns the authenticator enrolment (otpauth URL) to hand over once.
func (s *Service) CreateOperator(ctx context.Context, login, name string, role Role, password string, centreCodes []string) (*Operator, *mfa.Enrollment, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" || strings.TrimSpace(name) == "" || !role.Valid() || len(centreCodes) == 0 {
		return nil, nil, errors.New("operator: login, name, a valid role and at least one centre are required")
	}
	if fe := account.CheckPassword(password, account.PersonalData{}); fe != nil {
		return nil, nil, fmt.Errorf("operator: password: %v", fe)
	}
	o := &Operator{ID: newID(), Login: login, Name: strings.TrimSpace(name), Role: role, Created: s.o.Now().UTC()}
	for _, code := range centreCodes {
		c, err := s.o.Store.GetCentreByCode(ctx, code)
		if err != nil {
			return nil, nil, fmt.Errorf("operator: centre %q: %w", code, err)
		}
		o.Centres = append(o.Centres, c.ID)
	}
	en, err := mfa.NewEnrollment(s.o.Issuer+" operator", login)
	if err != nil {
		return nil, nil, err
	}
	if o.TOTPSecret, err = s.o.Cipher.Encrypt([]byte(en.Secret), secretAAD(o.ID)); err != nil {
		return nil, nil, err
	}
	if o.PasswordHash, err = s.o.Passwords.Hash(ctx, password); err != nil {
		return nil, nil, err
	}
	if err := s.o.Store.CreateOperator(ctx, o); err != nil {
		return nil, nil, err
	}
	return o, en, nil
}

// Session is a signed-in operator at one centre.
type Session struct {
	OperatorID string    `json:"operator"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	CentreID   string    `json:"centre"`
	CentreName string    `json:"centre_name"`
	Started    time.Time `json:"started"`
}

func sessionKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return "op:sess:" + hex.EncodeToString(h[:])
}

// SignIn checks the login, password and authenticator code and opens a
// session at the centre with centreCode (the operator's only centre when
// empty). Every wrong password or code counts towards the login's lockout;
// the answers do not say which part was wrong.
func (s *Service) SignIn(ctx context.Context, login, password, code, centreCode, ip string) (token string, sess *Session, err error) {
	login = strings.ToLower(strings.TrimSpace(login))
	failKey := "op:fail:" + login
	fails, err := s.o.Ephemeral.Incr(ctx, failKey, signInLockout)
	if err != nil {
		return "", nil, err
	}
	if fails > maxSignInFails {
		return "", nil, ErrLocked
	}
	o, err := s.o.Store.GetOperatorByLogin(ctx, login)
	if errors.Is(err, storage.ErrNotFound) {
		_ = s.o.Passwords.DummyVerify(ctx, password)
		return "", nil, ErrBadSignIn
	} else if err != nil {
		return "", nil, err
	}
	ok, _, err := s.o.Passwords.Verify(ctx, o.PasswordHash, password)
	if err != nil {
		return "", nil, err
	}
	if !ok || o.Disabled {
		return "", nil, ErrBadSignIn
	}
	secret, err := s.o.Cipher.Decrypt(ctx, o.TOTPSecret, secretAAD(o.ID))
	if err != nil {
		return "", nil, err
	}
	switch err := s.o.TOTP.Verify(ctx, "op:"+o.ID, string(secret), strings.TrimSpace(code)); {
	case errors.Is(err, mfa.ErrTooMany):
		return "", nil, ErrLocked
	case errors.Is(err, mfa.ErrInvalidCode), errors.Is(err, mfa.ErrReplayed):
		return "", nil, ErrBadSignIn
	case err != nil:
		return "", nil, err
	}
	centre, err := s.centreOf(ctx, o, centreCode)
	if err != nil {
		return "", nil, err
	}
	sess = &Session{OperatorID: o.ID, Name: o.Name, Role: o.Role, CentreID: centre.ID, CentreName: centre.Name, Started: s.o.Now().UTC()}
	raw, _ := json.Marshal(sess)
	token = newID()
	err = s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.journal(ctx, sess, "signin", "", "", "", ip); err != nil {
			return err
		}
		return s.o.Ephemeral.Put(ctx, sessionKey(token), raw, s.o.SessionTTL)
	})
	if err != nil {
		return "", nil, err
	}
	_ = s.o.Ephemeral.Delete(ctx, failKey)
	return token, sess, nil
}

// centreOf is the centre the operator signs in at.
func (s *Service) centreOf(ctx context.Context, o *Operator, code string) (*Centre, error) {
	if strings.TrimSpace(code) == "" {
		if len(o.Centres) != 1 {
			return nil, ErrNoCentre
		}
		return s.o.Store.GetCentre(ctx, o.Centres[0])
	}
	c, err := s.o.Store.GetCentreByCode(ctx, strings.TrimSpace(code))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoCentre
	} else if err != nil {
		return nil, err
	}
	for _, id := range o.Centres {
		if id == c.ID {
			return c, nil
		}
	}
	return nil, ErrNoCentre
}

// Current returns the session of token, or nil when there is none (or the
// operator was disabled since).
func (s *Service) Current(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, nil
	}
	raw, err := s.o.Ephemeral.Get(ctx, sessionKey(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var sess Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return nil, err
	}
	o, err := s.o.Store.GetOperator(ctx, sess.OperatorID)
	if err != nil {
		return nil, err
	}
	if o.Disabled {
		return nil, nil
	}
	return &sess, nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.o.Ephemeral.Delete(ctx, sessionKey(token))
}

// journal appends a journal row for the session's operator and centre.
func (s *Service) journal(ctx context.Context, sess *Session, action, accountID, reason, detail, ip string) error {
	return s.o.Store.AppendJournal(ctx, &Entry{CentreID: sess.CentreID, OperatorID: sess.OperatorID, Role: sess.Role,
		Action: action, AccountID: accountID, Reason: reason, Detail: detail, IP: ip, At: s.o.Now().UTC()})
}

// audit appends an event to the citizen's trail, naming the operator, role
// and centre.
func (s *Service) audit(ctx context.Context, sess *Session, accountID, typ, ip string, extra map[string]string) error {
	data := map[string]string{"operator": sess.OperatorID, "role": string(sess.Role), "centre": sess.CentreID,
		"centre_name": sess.CentreName}
	for k, v := range extra {
		data[k] = v
	}
	return s.o.Audit.AppendEvent(ctx, &audit.Event{AccountID: accountID, Type: typ, IP: ip, Data: data, At: s.o.Now().UTC()})
}

// allow refuses an action the session's role may not do.
func allow(sess *Session, a Action) error {
	if sess == nil || !sess.Role.Can(a) {
		return ErrDenied
	}
	return nil
}

// Case is a citizen found by an operator: the only way to reach a
// citizen's page, bound to the operator and centre that looked them up.
type Case struct {
	ID         string `json:"-"`
	OperatorID string `json:"operator"`
	CentreID   string `json:"centre"`
	AccountID  string `json:"account"`
}

// Lookup kinds.
const (
	BySNILS    = "snils"
	ByPassport = "passport"
	ByPhone    = "phone"
)

// normalizeQuery checks a lookup value of kind and returns it normalised.
func normalizeQuery(kind, value string) (string, error) {
	switch kind {
	case BySNILS:
		v, fe := account.NormalizeSNILS("snils", value)
		if fe != nil {
			return "", ErrBadQuery
		}
		return v, nil
	case ByPassport:
		d := digits(value)
		if len(d) != 10 {
			return "", ErrBadQuery
		}
		return d, nil
	case ByPhone:
		v, err := account.NormalizePhone(value)
		if err != nil {
			return "", ErrBadQuery
		}
		return v, nil
	}
	return "", ErrBadQuery
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r != ' ' && r != '-' {
			return ""
		}
	}
	return b.String()
}

// Lookup finds a citizen by an exact SNILS, passport (series and number)
// or phone, for reason. Every lookup, found or not, is a journal row; a
// found citizen also gets an event in their activity log. It returns the
// case to open the citizen's page with.
func (s *Service) Lookup(ctx context.Context, sess *Session, kind, value, reason, ip string) (*Case, error) {
	if err := allow(sess, ActFind); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return nil, ErrNoReason
	}
	q, err := normalizeQuery(kind, value)
	if err != nil {
		return nil, err
	}
	var id string
	switch kind {
	case BySNILS:
		id, err = s.o.Verify.AccountBySNILS(ctx, q)
	case ByPassport:
		id, err = s.o.Verify.FindByPassport(ctx, q)
	case ByPhone:
		var a *account.Account
		if a, err = s.o.Accounts.FindAccountByPhone(ctx, q); err == nil {
			id = a.ID
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		if err := s.journal(ctx, sess, "lookup", "", reason, kind+":not_found", ip); err != nil {
			return nil, err
		}
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	c := &Case{ID: newID(), OperatorID: sess.OperatorID, CentreID: sess.CentreID, AccountID: id}
	raw, _ := json.Marshal(c)
	err = s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.journal(ctx, sess, "lookup", id, reason, kind, ip); err != nil {
			return err
		}
		if err := s.audit(ctx, sess, id, "operator.lookup", ip, map[string]string{"by": kind}); err != nil {
			return err
		}
		return s.o.Ephemeral.Put(ctx, "op:case:"+c.ID, raw, caseTTL)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Case returns the session's case id; ErrNotFound for a case of another
// operator or centre, or one that expired.
func (s *Service) Case(ctx context.Context, sess *Session, id string) (*Case, error) {
	if err := allow(sess, ActFind); err != nil {
		return nil, err
	}
	raw, err := s.o.Ephemeral.Get(ctx, "op:case:"+id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	var c Case
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	if c.OperatorID != sess.OperatorID || c.CentreID != sess.CentreID {
		return nil, ErrNotFound
	}
	c.ID = id
	return &c, nil
}

// Citizen is what an operator sees of a citizen: names, level and the
// documents masked, except the fields being checked.
type Citizen struct {
	AccountID string
	Name      string
	BirthDate string // ДД.ММ.ГГГГ
	Level     account.Level
	Phone     string // masked
	SNILS     string // masked
	Passport  string // masked
	Verified  bool
}

// View returns the citizen of a case.
func (s *Service) View(ctx context.Context, c *Case) (*Citizen, error) {
	a, err := s.o.Accounts.GetAccount(ctx, c.AccountID)
	if err != nil {
		return nil, err
	}
	cz := &Citizen{AccountID: a.ID, Name: strings.TrimSpace(a.FamilyName + " " + a.GivenName + " " + a.MiddleName),
		Level: a.Level, Phone: maskTail(a.Phone, 2)}
	p, _, err := s.o.Verify.Get(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if d := p.Verified; d != nil {
		cz.Verified = true
		if t, err := time.Parse(time.DateOnly, d.BirthDate); err == nil {
			cz.BirthDate = t.Format("02.01.2006")
		}
		cz.SNILS = maskTail(d.SNILS, 2)
		cz.Passport = d.Passport.Series[:2] + "** ***" + d.Passport.Number[len(d.Passport.Number)-2:]
	}
	return cz, nil
}

// maskTail hides all but the last n characters of s.
func maskTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.Repeat("*", len(s)-n) + s[len(s)-n:]
}

// Confirm records that the operator checked the citizen's passport in
// person: the series and number read from the document must be those the
// registries verified. The level change, the journal row and the audit
// events are one transaction; the returned entry is the journal row, whose
// number the slip carries.
func (s *Service) Confirm(ctx context.Context, sess *Session, c *Case, passportShown string, checked bool, ip string) (*Entry, error) {
	if err := allow(sess, ActConfirm); err != nil {
		return nil, err
	}
	if !checked {
		return nil, ErrMismatch
	}
	p, _, err := s.o.Verify.Get(ctx, c.AccountID)
	if err != nil {
		return nil, err
	}
	if p.Verified == nil {
		return nil, verify.ErrNotVerified
	}
	if digits(passportShown) != p.Verified.Passport.Series+p.Verified.Passport.Number {
		if err := s.journal(ctx, sess, "confirm", c.AccountID, "", "mismatch", ip); err != nil {
			return nil, err
		}
		return nil, ErrMismatch
	}
	a, err := s.o.Accounts.GetAccount(ctx, c.AccountID)
	if err != nil {
		return nil, err
	}
	if a.Level == account.LevelConfirmed {
		return nil, verify.ErrAlreadyConfirmed
	}
	e := &Entry{CentreID: sess.CentreID, OperatorID: sess.OperatorID, Role: sess.Role, Action: "confirm",
		AccountID: c.AccountID, Detail: "confirmed", IP: ip, At: s.o.Now().UTC()}
	// The journal row and the centre's event ride in the confirmation's
	// transaction: one change with the level.
	_, err = s.o.Verify.Confirm(ctx, c.AccountID, verify.Confirmation{Cause: verify.CauseCentre, By: sess.OperatorID,
		Subject: sess.CentreID, Name: sess.CentreName, Also: func(ctx context.Context) error {
			if err := s.o.Store.AppendJournal(ctx, e); err != nil {
				return err
			}
			return s.audit(ctx, sess, c.AccountID, "identity.confirmed_centre", ip, map[string]string{"journal": fmt.Sprint(e.ID)})
		}})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Slip is the printable confirmation slip.
type Slip struct {
	Entry    *Entry
	Centre   *Centre
	Operator string
	Citizen  string
}

// Slip returns the slip of a confirmation of the session's centre.
func (s *Service) Slip(ctx context.Context, sess *Session, id int64, ip string) (*Slip, error) {
	if err := allow(sess, ActSlip); err != nil {
		return nil, err
	}
	e, err := s.o.Store.GetJournalEntry(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	if e.CentreID != sess.CentreID || e.Action != "confirm" || e.Detail != "confirmed" {
		return nil, ErrNotFound
	}
	c, err := s.o.Store.GetCentre(ctx, e.CentreID)
	if err != nil {
		return nil, err
	}
	o, err := s.o.Store.GetOperator(ctx, e.OperatorID)
	if err != nil {
		return nil, err
	}
	a, err := s.o.Accounts.GetAccount(ctx, e.AccountID)
	if err != nil {
		return nil, err
	}
	if err := s.journal(ctx, sess, "slip", e.AccountID, "", fmt.Sprint(e.ID), ip); err != nil {
		return nil, err
	}
	return &Slip{Entry: e, Centre: c, Operator: o.Name,
		Citizen: strings.TrimSpace(a.FamilyName + " " + a.GivenName + " " + a.MiddleName)}, nil
}

// Journal returns the newest entries of the session's centre.
func (s *Service) Journal(ctx context.Context, sess *Session, limit int) ([]*Entry, error) {
	if err := allow(sess, ActJournal); err != nil {
		return nil, err
	}
	return s.o.Store.ListJournal(ctx, sess.CentreID, limit)
}

// Operators lists the operators of the session's centre (administrators).
func (s *Service) Operators(ctx context.Context, sess *Session) ([]*Operator, error) {
	if err := allow(sess, ActOperators); err != nil {
		return nil, err
	}
	all, err := s.o.Store.ListOperators(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Operator
	for _, o := range all {
		for _, c := range o.Centres {
			if c == sess.CentreID {
				out = append(out, o)
				break
			}
		}
	}
	return out, nil
}

// Disable turns an operator of the session's centre off (administrators);
// their sessions end at their next request.
func (s *Service) Disable(ctx context.Context, sess *Session, operatorID, ip string) error {
	ops, err := s.Operators(ctx, sess)
	if err != nil {
		return err
	}
	for _, o := range ops {
		if o.ID == operatorID {
			return s.o.Tx.InTx(ctx, func(ctx context.Context) error {
				if err := s.o.Store.SetOperatorDisabled(ctx, operatorID, true); err != nil {
					return err
				}
				return s.journal(ctx, sess, "disable", "", "", operatorID, ip)
			})
		}
	}
	return ErrNotFound
}
