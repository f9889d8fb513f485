package signin

import (
	"context"
	"fmt"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/selfservice"
)

// The password step and the start of a session, written once for the
// sign-in page and the JSON API: the two faces differ only in how they show
// the outcome (a page and a cookie, or JSON and a token), never in limits,
// counters, audit events, notices or the offer of a second factor.

// Outcomes of a password attempt, for metrics (Options.OnLogin).
const (
	outcomeSuccess     = selfservice.PasswordRight
	outcomeInvalid     = selfservice.PasswordWrong
	outcomeLocked      = selfservice.PasswordLocked
	outcomeRateLimited = "rate_limited"
)

// passwordResult is what the password step decided.
type passwordResult struct {
	// Account is the citizen who proved the password; nil on any failure.
	Account *account.Account
	// Field and Code name the failure (Code is an err.* message key:
	// login.required, login.invalid, login.locked, login.rate or a field
	// check such as field.too_long); both empty on success.
	Field, Code string
	// NeedMFA is set on success when a second factor must follow.
	NeedMFA bool
}

// passwordStep checks a login and password with the per-IP rate limit and
// the per-account lockout, and decides whether a second factor must
// follow. clientWantsMFA is the relying service's policy (false for a
// sign-in to gosid itself).
func (s *Service) passwordStep(ctx context.Context, in selfservice.Input, clientWantsMFA bool, m selfservice.Meta) (*passwordResult, error) {
	if fe := selfservice.CheckInput(in); fe != nil {
		return &passwordResult{Field: fe.Field, Code: fe.Code}, nil
	}
	login, password := in.Get("login"), in["password"]
	if login == "" || password == "" {
		return &passwordResult{Code: "login.required"}, nil
	}
	acct, outcome, err := s.checkPassword(ctx, m, login, password)
	s.o.OnLogin(outcome)
	if err != nil {
		return nil, fmt.Errorf("sign-in: check password: %w", err)
	}
	switch outcome {
	case outcomeRateLimited:
		return &passwordResult{Code: "login.rate"}, nil
	case outcomeLocked:
		return &passwordResult{Code: "login.locked"}, nil
	case outcomeInvalid:
		return &passwordResult{Code: "login.invalid"}, nil
	}
	need, err := s.sf.NeedSecondFactor(ctx, acct, clientWantsMFA)
	if err != nil {
		return nil, fmt.Errorf("sign-in: second factor policy: %w", err)
	}
	return &passwordResult{Account: acct, NeedMFA: need}, nil
}
