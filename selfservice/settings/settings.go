// Package settings is the citizen's personal account: the account page,
// changing the password, adding a phone or e-mail, sessions and devices,
// connected services, notification settings and messages, personal data
// with its documents and scans, the activity log and the export of a
// citizen's data, and deleting the account. Pages and the JSON API
// (/api/v1/session/...) run the same steps on the self-service engine;
// each capability reads top to bottom in its own file.
package settings

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/verify"
)

// SecondFactor is what the settings need of the second factor: a code to a
// confirmed contact confirms a change of verified data and a deletion, and
// the export lists the factors that are on.
type SecondFactor interface {
	// SendSecondFactorCode sends a one-time code for purpose by method
	// ("sms" or "email") to the account's confirmed contact, with the
	// limits of package codes; the code is checked as "mfa_"+purpose.
	SendSecondFactorCode(ctx context.Context, a *account.Account, method, purpose string, m selfservice.Meta) error
	// MaskedContact is the masked contact method sends codes to.
	MaskedContact(a *account.Account, method string) string
	// Factors lists the account's factors and how many recovery codes are
	// left.
	Factors(ctx context.Context, accountID string) ([]selfservice.FactorView, int, error)
}

// Notifier delivers messages to citizens (the durable queue of package
// notify).
type Notifier interface {
	Enqueue(ctx context.Context, m notify.Message) error
}

// Deps are what the settings need.
type Deps struct {
	Engine *selfservice.Engine
	// Consent lists the connected services and withdraws their access.
	Consent      *consent.Service
	SecondFactor SecondFactor
	// Notifier sends the code confirming a new contact.
	Notifier Notifier
	// Verify keeps personal data and checks it; nil means no profile,
	// activity and export pages.
	Verify *verify.Service
	// Scans keeps the (encrypted) scans of documents; nil means none.
	Scans verify.ScanStore
	// Inbox keeps messages shown in the personal account; nil means none.
	Inbox account.Inbox
	// Outbox is the development outbox, shown at /dev/outbox; set it only
	// in development mode.
	Outbox *notify.Outbox
}

// Service runs the settings on the self-service engine.
type Service struct {
	*selfservice.Engine
	d Deps
}

// New returns the service and registers its flows with the engine's API.
func New(d Deps) *Service {
	s := &Service{Engine: d.Engine, d: d}
	s.HandleFlow(KindContact, selfservice.APIFlow{Show: s.showContact, Submit: s.apiContactSubmit})
	s.HandleFlow(KindDelete, selfservice.APIFlow{Show: s.showDelete, Submit: s.apiDeleteSubmit})
	return s
}

// Paths of the settings pages.
const (
	PathAccount       = selfservice.PathAccount
	PathLogout        = selfservice.PathLogout
	PathOutbox        = selfservice.PathOutbox
	PathPassword      = selfservice.PathPassword
	PathContacts      = selfservice.PathContacts
	PathSessions      = selfservice.PathSessions
	PathServices      = selfservice.PathServices
	PathNotifications = "/settings/notifications"
	PathProfile       = "/profile"
	PathScans         = "/profile/scans"
	PathActivity      = "/settings/activity"
	PathExport        = "/settings/export"
	PathDelete        = "/settings/delete"
)

// Register mounts the settings pages on r and their JSON API under
// /api/v1/session (every endpoint takes the bearer session token).
func (s *Service) Register(r *mux.Router) {
	get, post := []string{http.MethodGet, http.MethodHead}, http.MethodPost
	api := r.PathPrefix(selfservice.PathAPI + "/session").Subrouter()

	r.HandleFunc(PathAccount, s.accountPage).Methods(get...)
	r.HandleFunc(PathLogout, s.logoutHere).Methods(post)
	if s.d.Outbox != nil {
		r.HandleFunc(PathOutbox, s.outboxPage).Methods(http.MethodGet)
	}

	r.HandleFunc(PathPassword, s.passwordPage).Methods(get...)
	r.HandleFunc(PathPassword, s.passwordSubmit).Methods(post)
	api.HandleFunc("/password", s.apiPassword).Methods(post)

	r.HandleFunc(PathContacts, s.contactsPage).Methods(get...)
	r.HandleFunc(PathContacts, s.contactsSubmit).Methods(post)
	api.HandleFunc("/contacts", s.apiContactStart).Methods(post)

	r.HandleFunc(PathSessions, s.sessionsPage).Methods(get...)
	r.HandleFunc(PathSessions, s.sessionsSubmit).Methods(post)
	api.HandleFunc("/sessions", s.apiSessions).Methods(http.MethodGet)
	api.HandleFunc("/sessions", s.apiEndOthers).Methods(http.MethodDelete)
	api.HandleFunc("/sessions/{id}", s.apiEndSession).Methods(http.MethodDelete)

	r.HandleFunc(PathServices, s.servicesPage).Methods(get...)
	r.HandleFunc(PathServices, s.servicesSubmit).Methods(post)
	api.HandleFunc("/services", s.apiServices).Methods(http.MethodGet)
	api.HandleFunc("/services/{client_id}", s.apiRevokeService).Methods(http.MethodDelete)

	r.HandleFunc(PathNotifications, s.notificationsPage).Methods(get...)
	r.HandleFunc(PathNotifications, s.notificationsSubmit).Methods(post)
	api.HandleFunc("/notifications", s.apiNotifications).Methods(http.MethodGet)
	api.HandleFunc("/notifications", s.apiNotificationsPut).Methods(http.MethodPut)
	api.HandleFunc("/settings", s.apiSettings).Methods(http.MethodPatch)

	if s.d.Verify != nil {
		s.registerProfile(r, api)
		if s.d.Scans != nil {
			s.registerScans(r, api)
		}
	}

	r.HandleFunc(PathDelete, s.deletePage).Methods(get...)
	r.HandleFunc(PathDelete, s.deleteSubmit).Methods(post)
	api.HandleFunc("/deletion", s.apiDeleteStart).Methods(post)
}

// rejectInput puts an error on v when the submitted fields are oversize,
// invalid UTF-8 or hold control characters.
func (s *Service) rejectInput(v *selfservice.View, in selfservice.Input, m selfservice.Meta) bool {
	fe := selfservice.CheckInput(in)
	if fe == nil {
		return false
	}
	s.AddErr(v, m, fe.Field, fe.Code)
	return true
}
