package login

import (
	"context"

	"github.com/gosid/gosid/selfservice"
)

// view renders the public state of a flow: the engine's view plus the
// masked contact a code went to.
func (s *Service) view(f *SelfFlow, m selfservice.Meta) *selfservice.View {
	v := s.View(f.Flow)
	switch {
	case f.Rec != nil && f.State == selfservice.StateConfirm:
		v.Channel = f.Rec.Channel
		v.Contact = selfservice.MaskContact(f.Rec.Channel, f.Rec.Contact)
	}
	return v
}

func (s *Service) addErr(v *selfservice.View, m selfservice.Meta, field, code string) {
	s.AddErr(v, m, field, code)
}

func (s *Service) addMsg(v *selfservice.View, m selfservice.Meta, code string) { s.AddMsg(v, m, code) }

// start stores a new flow and returns its view with the flow token.
func (s *Service) start(ctx context.Context, f *SelfFlow, m selfservice.Meta) (*selfservice.View, error) {
	token, err := s.self.create(ctx, f)
	if err != nil {
		return nil, err
	}
	v := s.view(f, m)
	v.FlowToken = token
	return v, nil
}

// rejectInput returns a view with the error when the submitted fields are
// oversize, invalid UTF-8 or hold control characters; nil when they are fine.
func (s *Service) rejectInput(f *SelfFlow, in selfservice.Input, m selfservice.Meta) *selfservice.View {
	fe := selfservice.CheckInput(in)
	if fe == nil {
		return nil
	}
	v := s.view(f, m)
	s.addErr(v, m, fe.Field, fe.Code)
	return v
}

// unknownAction answers an action the flow's state does not accept.
func (s *Service) unknownAction(f *SelfFlow, m selfservice.Meta) *selfservice.View {
	v := s.view(f, m)
	s.addErr(v, m, "", "flow.error.action")
	return v
}

// sendCode runs send and turns a limit (too soon, blocked...) into a
// form-level error on v; other errors are returned.
func (s *Service) sendCode(ctx context.Context, f *SelfFlow, v *selfservice.View, m selfservice.Meta, send func(context.Context, *SelfFlow, selfservice.Meta) error) (bool, error) {
	return s.SendCode(v, m, func() error { return send(ctx, f, m) })
}

// resend sends a new code for a flow awaiting one.
func (s *Service) resend(ctx context.Context, f *SelfFlow, m selfservice.Meta, msg string, send func(context.Context, *SelfFlow, selfservice.Meta) error) (*selfservice.View, error) {
	return s.Resend(s.view(f, m), m, msg, func() error { return send(ctx, f, m) })
}

// verifyCode checks a code for the flow and puts the error on the code
// field; ok reports success.
func (s *Service) verifyCode(ctx context.Context, v *selfservice.View, m selfservice.Meta, purpose, contact, code string) (bool, error) {
	return s.VerifyCode(ctx, v, m, purpose, contact, code)
}
