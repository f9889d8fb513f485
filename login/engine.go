package login

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/gosid/gosid/audit"
)

// view renders the public state of a flow.
func (s *Service) view(f *SelfFlow, m Meta) *View {
	v := &View{ID: f.ID, Type: f.Kind, State: f.State, ExpiresAt: f.ExpiresAt, ReturnTo: f.ReturnTo}
	switch {
	case f.Reg != nil && f.State == StateConfirm:
		v.Channel = f.Reg.Channel
		v.Contact = maskContact(f.Reg.Channel, f.Reg.contact())
	case f.Rec != nil && f.State == StateConfirm:
		v.Channel = f.Rec.Channel
		v.Contact = maskContact(f.Rec.Channel, f.Rec.Contact)
	}
	return v
}

func (s *Service) addErr(v *View, m Meta, field, code string) {
	v.Errors = append(v.Errors, Message{Field: field, Code: code, Text: s.o.Web.T(m.Lang, "err."+code)})
}

func (s *Service) addMsg(v *View, m Meta, code string) {
	v.Messages = append(v.Messages, Message{Code: code, Text: s.o.Web.T(m.Lang, "msg."+code, v.Contact)})
}

func (s *Service) recordMeta(ctx context.Context, m Meta, accountID, typ, clientID string, data map[string]string) {
	if s.o.Audit == nil {
		return
	}
	err := s.o.Audit.AppendEvent(ctx, &audit.Event{
		AccountID: accountID, Type: typ, ClientID: clientID, IP: m.IP,
		UserAgent: truncate(m.UserAgent, 200), Data: data, At: s.o.Now().UTC(),
	})
	if err != nil {
		s.log.Error("login: audit", "type", typ, "err", err)
	}
}

// start stores a new flow and returns its view with the flow token.
func (s *Service) start(ctx context.Context, f *SelfFlow, m Meta) (*View, error) {
	token, err := s.self.create(ctx, f, s.o.Now().UTC())
	if err != nil {
		return nil, err
	}
	v := s.view(f, m)
	v.FlowToken = token
	return v, nil
}

// rejectInput returns a view with the error when the submitted fields are
// oversize, invalid UTF-8 or hold control characters; nil when they are fine.
func (s *Service) rejectInput(f *SelfFlow, in Input, m Meta) *View {
	fe := checkInput(in)
	if fe == nil {
		return nil
	}
	v := s.view(f, m)
	s.addErr(v, m, fe.Field, fe.Code)
	return v
}

// unknownAction answers an action the flow's state does not accept.
func (s *Service) unknownAction(f *SelfFlow, m Meta) *View {
	v := s.view(f, m)
	s.addErr(v, m, "", "flow.error.action")
	return v
}

// sendCode runs send and turns a limit (too soon, blocked...) into a
// form-level error on v; other errors are returned.
func (s *Service) sendCode(ctx context.Context, f *SelfFlow, v *View, m Meta, send func(context.Context, *SelfFlow, Meta) error) (bool, error) {
	if err := send(ctx, f, m); err != nil {
		key := codeErrorKey(err)
		if key == "" {
			return false, err
		}
		s.addErr(v, m, "", key)
		return false, nil
	}
	return true, nil
}

// resend sends a new code for a flow awaiting one.
func (s *Service) resend(ctx context.Context, f *SelfFlow, m Meta, msg string, send func(context.Context, *SelfFlow, Meta) error) (*View, error) {
	v := s.view(f, m)
	ok, err := s.sendCode(ctx, f, v, m, send)
	if ok {
		s.addMsg(v, m, msg)
	}
	return v, err
}

// verifyCode checks a code for the flow and puts the error on the code
// field; ok reports success.
func (s *Service) verifyCode(ctx context.Context, v *View, m Meta, purpose, contact, code string) (bool, error) {
	if code == "" {
		s.addErr(v, m, "code", "code.required")
		return false, nil
	}
	if err := s.o.Codes.Verify(ctx, purpose, contact, code); err != nil {
		key := codeErrorKey(err)
		if key == "" {
			return false, err
		}
		s.addErr(v, m, "code", key)
		return false, nil
	}
	return true, nil
}

// randomToken returns n random bytes, base64url-encoded: flow ids, flow
// tokens and record ids.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
