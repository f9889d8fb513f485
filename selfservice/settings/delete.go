package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"

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
//
//	(start) --> confirm (a code went to the phone, else the e-mail)
//	confirm --(code)--> done (the account is deleted, the flow ends)

// KindDelete is an account deletion in progress.
const KindDelete = "delete"

// deleteState is what the flow keeps (Flow.Data).
type deleteState struct {
	AccountID string `json:"account_id"`
	// Method is the second-factor method the code went by ("sms" or
	// "email"); Contact is where it went, masked.
	Method  string `json:"method"`
	Contact string `json:"contact,omitempty"`
}

type deleteFlow struct {
	*selfservice.Flow
	st deleteState
}

func decodeDelete(f *selfservice.Flow) (*deleteFlow, error) {
	df := &deleteFlow{Flow: f}
	if err := f.Decode(&df.st); err != nil {
		return nil, err
	}
	return df, nil
}

// DeletePage is the data of the deletion page.
type DeletePage struct {
	web.Page
	View *selfservice.View
}

func (s *Service) deleteView(f *deleteFlow) *selfservice.View {
	v := s.View(f.Flow)
	if f.State == selfservice.StateConfirm {
		v.Channel, v.Contact = f.st.Method, f.st.Contact
	}
	return v
}

// StartDeletion sends a code to the account's confirmed phone (else
// e-mail) and returns the flow awaiting it.
func (s *Service) StartDeletion(ctx context.Context, api bool, accountID string, m selfservice.Meta) (*selfservice.View, error) {
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("start deletion: load account: %w", err)
	}
	method := mfa.KindSMS
	if !(a.PhoneVerified && a.Phone != "") {
		method = mfa.KindEmail
	}
	f := &deleteFlow{Flow: &selfservice.Flow{Kind: KindDelete, State: selfservice.StateConfirm, API: api},
		st: deleteState{AccountID: accountID, Method: method, Contact: s.d.SecondFactor.MaskedContact(a, method)}}
	if err := f.Encode(f.st); err != nil {
		return nil, err
	}
	token, err := s.Start(ctx, f.Flow)
	if err != nil {
		return nil, fmt.Errorf("start deletion: %w", err)
	}
	v := s.deleteView(f)
	v.FlowToken = token
	if err := s.d.SecondFactor.SendSecondFactorCode(ctx, a, method, "delete", m); err != nil {
		key := selfservice.CodeErrorKey(err)
		if key == "" {
			return nil, fmt.Errorf("start deletion: send code: %w", err)
		}
		s.AddErr(v, m, "", key)
	}
	return v, nil
}

// ConfirmDeletion checks the code and deletes the account.
func (s *Service) ConfirmDeletion(ctx context.Context, f *deleteFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.deleteView(f)
	if s.rejectInput(v, in, m) {
		return v, nil
	}
	a, err := s.Accounts.GetAccount(ctx, f.st.AccountID)
	if err != nil {
		return nil, fmt.Errorf("confirm deletion: load account: %w", err)
	}
	contact := a.Phone
	if f.st.Method == mfa.KindEmail {
		contact = a.Email
	}
	if ok, err := s.VerifyCode(ctx, v, m, "mfa_delete", contact, in.Get("code")); !ok {
		return v, err
	}
	if err := s.DeleteAccount(ctx, a, m); err != nil {
		return nil, err
	}
	if err := s.Flows.Delete(ctx, f.ID); err != nil {
		s.Log().Error("settings: end deletion flow", "err", err)
	}
	f.State = selfservice.StateDone
	v = s.deleteView(f)
	s.AddMsg(v, m, "account.deleted")
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
	if err := s.d.Consent.Forget(ctx, accountID); err != nil {
		return err
	}
	if s.Factors != nil {
		if err := s.Factors.DeleteFactors(ctx, accountID); err != nil {
			return fmt.Errorf("remove factors: %w", err)
		}
	}
	if s.d.Verify != nil {
		if err := s.d.Verify.Delete(ctx, accountID); err != nil {
			return fmt.Errorf("remove profile: %w", err)
		}
	}
	if s.d.Scans != nil {
		if err := s.d.Scans.DeleteScans(ctx, accountID); err != nil {
			return fmt.Errorf("remove scans: %w", err)
		}
	}
	return nil
}

// The page: the flow must belong to the signed-in account.

func (s *Service) loadDelete(r *http.Request, sess *session.Session, id string) (*deleteFlow, error) {
	raw, err := s.Flows.Load(r.Context(), id, KindDelete, false, s.Cookie(r, selfservice.FlowCookie(KindDelete)))
	if err != nil {
		return nil, err
	}
	f, err := decodeDelete(raw)
	if err != nil {
		return nil, err
	}
	if f.st.AccountID != sess.AccountID {
		return nil, selfservice.ErrFlowExpired
	}
	return f, nil
}

func (s *Service) deletePage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	v := &selfservice.View{Type: KindDelete, State: selfservice.StateForm}
	if f, err := s.loadDelete(r, sess, r.URL.Query().Get("flow")); err == nil {
		v = s.deleteView(f)
	}
	s.Web.Render(w, r, http.StatusOK, "delete", &DeletePage{Page: s.Page(w, r), View: v})
}

func (s *Service) deleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, PathDelete)
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
		s.SetFlowCookie(w, KindDelete, v.FlowToken)
		v.FlowToken = ""
		s.Web.Render(w, r, http.StatusOK, "delete", &DeletePage{Page: s.Page(w, r), View: v})
		return
	}
	f, err := s.loadDelete(r, sess, r.PostForm.Get("flow"))
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

// The API: started at POST /api/v1/session/deletion with the session
// token, finished at /api/v1/flows/delete/{id} with {"code": ...}.

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

func (s *Service) showDelete(ctx context.Context, raw *selfservice.Flow, m selfservice.Meta) (*selfservice.View, error) {
	f, err := decodeDelete(raw)
	if err != nil {
		return nil, err
	}
	return s.deleteView(f), nil
}

func (s *Service) apiDeleteSubmit(w http.ResponseWriter, r *http.Request, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	f, err := decodeDelete(raw)
	if err != nil {
		return nil, err
	}
	return s.ConfirmDeletion(r.Context(), f, in, m)
}
