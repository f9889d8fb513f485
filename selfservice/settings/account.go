package settings

import (
	"net/http"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/web"
)

// AccountPage is the data of the personal account page.
type AccountPage struct {
	web.Page
	Account *account.Account
	// Phone is the phone formatted for display.
	Phone string
	// OfferMFA shows the offer to turn a second factor on.
	OfferMFA bool
	// MFA tells whether a second factor is on.
	MFA bool
}

// accountPage is the citizen's own page: who is signed in, with links to
// the settings and to sign out; without a session, the sign-in form.
func (s *Service) accountPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	a, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	on := false
	if s.Factors != nil {
		fs, err := s.Factors.ListFactors(ctx, a.ID)
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		on = len(fs) > 0
	}
	s.Web.Render(w, r, http.StatusOK, "account", &AccountPage{Page: s.Page(w, r), Account: a,
		Phone: account.FormatPhone(a.Phone), OfferMFA: s.OfferMFA(ctx, a, sess.AMR), MFA: on})
}

// logoutHere ends the gosid session from the account page.
func (s *Service) logoutHere(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !s.Web.CheckCSRF(r) {
		s.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", "")
		return
	}
	if sess, err := s.Sessions.Current(r); err == nil && sess != nil {
		s.Record(r.Context(), s.Meta(r), sess.AccountID, "logout", "", nil)
	}
	done := &web.MessageData{TitleKey: "logout.done.title", MessageKey: "logout.done.message"}
	s.LogoutFrames(r, done)
	if err := s.Sessions.End(r); err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.ClearCookie(w, s.Sessions.Cookie())
	frameSrc := done.FrameSrc
	done.Page = s.Page(w, r)
	done.FrameSrc = frameSrc
	s.Web.Render(w, r, http.StatusOK, "message", done)
}

// OutboxPage is the data of the development outbox.
type OutboxPage struct {
	web.Page
	Entries []notify.OutboxEntry
}

// outboxPage lists the messages gosid sent, so that a newcomer can register
// without an SMS operator. It is mounted only in development mode.
func (s *Service) outboxPage(w http.ResponseWriter, r *http.Request) {
	s.Web.Render(w, r, http.StatusOK, "outbox", &OutboxPage{Page: s.Page(w, r), Entries: s.d.Outbox.List()})
}
