package login

import (
	"context"

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
