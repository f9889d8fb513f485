package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/web"
)

// Deleting an account: confirmed with a code to a confirmed contact; every
// grant revoked, every session ended, personal data, documents, factors and
// consents removed, the account row anonymised (status "deleted", no
// contacts, names or password). The audit trail keeps its events (the
// operator must be able to answer for past sign-ins and data releases);
// they hold no documents, only the account id, IPs and devices.

// KindDelete is an account deletion in progress.
const KindDelete = "delete"

// PathDelete is the page that deletes the account.
const PathDelete = "/settings/delete"

// DeletePage is the data of the deletion page.
type DeletePage struct {
	web.Page
	View *selfservice.View
}

func (s *Service) registerDelete(r *mux.Router, api *mux.Router) {
	r.HandleFunc(PathDelete, s.deletePage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathDelete, s.deleteSubmit).Methods(http.MethodPost)
	api.HandleFunc("/session/deletion", s.apiDeleteStart).Methods(http.MethodPost)
}

// StartDeletion sends a code to the account's confirmed phone (else
// e-mail) and returns the flow awaiting it.
func (s *Service) StartDeletion(ctx context.Context, api bool, accountID string, m selfservice.Meta) (*selfservice.View, error) {
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	method := mfa.KindSMS
	if !(a.PhoneVerified && a.Phone != "") {
		method = mfa.KindEmail
	}
	f := withRec(newSelfFlow(KindDelete, selfservice.StateConfirm, api, ""), &recState{AccountID: accountID, Channel: method})
	v, err := s.start(ctx, f, m)
	if err != nil {
		return nil, err
	}
	v.Contact = s.sf.ContactView(a, method)
	if err := s.sf.SendConfirmationCode(ctx, a, method, "delete", m); err != nil {
		key := selfservice.CodeErrorKey(err)
		if key == "" {
			return nil, err
		}
		s.addErr(v, m, "", key)
	}
	return v, nil
}

// ConfirmDeletion checks the code and deletes the account.
func (s *Service) ConfirmDeletion(ctx context.Context, f *SelfFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	if rv := s.rejectInput(f, in, m); rv != nil {
		return rv, nil
	}
	a, err := s.Accounts.GetAccount(ctx, f.Rec.AccountID)
	if err != nil {
		return nil, err
	}
	v.Contact = s.sf.ContactView(a, f.Rec.Channel)
	contact := a.Phone
	if f.Rec.Channel == mfa.KindEmail {
		contact = a.Email
	}
	if ok, err := s.verifyCode(ctx, v, m, "mfa_delete", contact, in.Get("code")); !ok {
		return v, err
	}
	if err := s.DeleteAccount(ctx, a, m); err != nil {
		return nil, err
	}
	_ = s.self.delete(ctx, f.ID)
	f.State = selfservice.StateDone
	v = s.view(f, m)
	s.addMsg(v, m, "account.deleted")
	return v, nil
}

// DeleteAccount revokes, ends, removes and anonymises (see above). The
// durable changes are one transaction, the account row first (the lock
// order of every change spanning tables, so that concurrent ones wait
// rather than deadlock); the sessions' epoch and entries in the short-lived
// store follow its commit. The deny-list entries of the revoked grants are
// written by the provider as it revokes them, before the commit: should the
// commit fail, tokens were only refused early. a becomes the account as
// written.
func (s *Service) DeleteAccount(ctx context.Context, a *account.Account, m selfservice.Meta) error {
	var (
		updated *account.Account
		ended   []*account.SessionRecord
	)
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		updated, err = s.Accounts.UpdateAccount(ctx, a.ID, func(a *account.Account) error {
			a.Phone, a.PhoneVerified, a.Email, a.EmailVerified = "", false, "", false
			a.FamilyName, a.GivenName, a.MiddleName, a.PasswordHash = "", "", "", ""
			a.Status, a.Level, a.NotifyPrefs, a.UpdatedAt = account.StatusDeleted, account.LevelSimplified, "", s.Now().UTC()
			return nil
		})
		if err != nil {
			return fmt.Errorf("anonymise: %w", err)
		}
		if s.OAuth != nil {
			if err := s.OAuth.RevokeSubject(ctx, a.ID, ""); err != nil {
				return fmt.Errorf("revoke grants: %w", err)
			}
		}
		if ended, err = s.Sessions.Unindex(ctx, a.ID); err != nil {
			return err
		}
		if err := s.deleteData(ctx, a.ID); err != nil {
			return err
		}
		s.Record(ctx, m, a.ID, "account.deleted", "", nil)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	*a = *updated
	if _, err := s.Sessions.EndUnindexed(ctx, a.ID, ended); err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	return nil
}

// deleteData removes the account's consents, factors, profile and scans.
func (s *Service) deleteData(ctx context.Context, accountID string) error {
	grants, err := s.o.Consents.ListConsents(ctx, accountID)
	if err != nil {
		return fmt.Errorf("list consents: %w", err)
	}
	for _, g := range grants {
		if err := s.o.Consents.DeleteConsent(ctx, accountID, g.ClientID); err != nil {
			return fmt.Errorf("remove consent: %w", err)
		}
	}
	if s.Engine.Factors != nil {
		if err := s.Engine.Factors.DeleteFactors(ctx, accountID); err != nil {
			return fmt.Errorf("remove factors: %w", err)
		}
	}
	if s.o.Verify != nil {
		if err := s.o.Verify.Delete(ctx, accountID); err != nil {
			return fmt.Errorf("remove profile: %w", err)
		}
	}
	if s.o.Scans != nil {
		if err := s.o.Scans.DeleteScans(ctx, accountID); err != nil {
			return fmt.Errorf("remove scans: %w", err)
		}
	}
	return nil
}

func (s *Service) deleteFlow(r *http.Request, sess *session.Session, id string) (*SelfFlow, error) {
	f, err := s.self.load(r.Context(), id, KindDelete, false, s.Cookie(r, selfservice.FlowCookie(KindDelete)))
	if err != nil {
		return nil, err
	}
	if f.Rec == nil || f.Rec.AccountID != sess.AccountID {
		return nil, selfservice.ErrFlowExpired
	}
	return f, nil
}

func (s *Service) deletePage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, PathLogin)
	if !ok {
		return
	}
	v := &selfservice.View{Type: KindDelete, State: selfservice.StateForm}
	if f, err := s.deleteFlow(r, sess, r.URL.Query().Get("flow")); err == nil {
		v = s.view(f, s.Meta(r))
	}
	s.Web.Render(w, r, http.StatusOK, "delete", &DeletePage{Page: s.Page(w, r), View: v})
}

func (s *Service) deleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedInForm(w, r, PathLogin, PathDelete)
	if !ok {
		return
	}
	m := s.Meta(r)
	if r.PostForm.Get("action") == "start" {
		v, err := s.StartDeletion(ctx, false, sess.AccountID, m)
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(KindDelete)), v.FlowToken, s.Flows.TTL())
		v.FlowToken = ""
		s.Web.Render(w, r, http.StatusOK, "delete", &DeletePage{Page: s.Page(w, r), View: v})
		return
	}
	f, err := s.deleteFlow(r, sess, r.PostForm.Get("flow"))
	if errors.Is(err, selfservice.ErrFlowExpired) || errors.Is(err, selfservice.ErrFlowToken) {
		s.Web.Error(w, r, http.StatusGone, "flow.error.title", "flow.error.expired", PathDelete)
		return
	} else if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v, err := s.ConfirmDeletion(ctx, f, selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		s.Web.ClearCookie(w, s.Sessions.Cookie())
	}
	s.Web.Render(w, r, status, "delete", &DeletePage{Page: s.Page(w, r), View: v})
}

// apiDeleteStart begins deleting the account; finish at
// /flows/delete/{id} with {"code": ...}.
func (s *Service) apiDeleteStart(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	v, err := s.StartDeletion(r.Context(), true, sess.AccountID, s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	status := http.StatusCreated
	if len(v.Errors) > 0 {
		status = http.StatusTooManyRequests
	}
	selfservice.WriteJSON(w, status, v)
}
