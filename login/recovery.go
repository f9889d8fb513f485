package login

import (
	"context"

	"github.com/gosid/gosid/selfservice"
)

// ChangePassword changes the password of a signed-in citizen who proved the
// current one. Other sessions end; the caller's session is replaced.
func (s *Service) ChangePassword(ctx context.Context, accountID string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := &selfservice.View{Type: "password", State: selfservice.StateForm}
	if fe := selfservice.CheckInput(in); fe != nil {
		s.addErr(v, m, fe.Field, fe.Code)
		return v, nil
	}
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	ok, _, err := s.Passwords.Verify(ctx, a.PasswordHash, in["current_password"])
	if err != nil {
		return nil, err
	}
	if !ok {
		s.Record(ctx, m, a.ID, "password.change_failed", "", nil)
		s.addErr(v, m, "current_password", "password.current_wrong")
		return v, nil
	}
	if fe := selfservice.CheckNewPassword(a, in); fe != nil {
		s.addErr(v, m, fe.Field, fe.Code)
		return v, nil
	}
	if in["password"] == in["current_password"] {
		s.addErr(v, m, "password", "password.same")
		return v, nil
	}
	if err := s.SetPassword(ctx, a, in["password"], m, "password.changed"); err != nil {
		return nil, err
	}
	v.State = selfservice.StateDone
	v.AccountID = a.ID
	s.addMsg(v, m, "password.changed")
	return v, nil
}
