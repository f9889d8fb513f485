package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/web"
)

// Notification settings (per event and channel, one record: the sign-in
// notice of the security settings is the "login" event) and in-account
// messages.

// NotificationsPage is the data of that page.
type NotificationsPage struct {
	web.Page
	Events   []string
	Channels []string
	// On[event][channel] tells whether the event goes to the channel.
	On       map[string]map[string]bool
	Messages []InboxView
	Saved    bool
}

// InboxView is an in-account message as shown: its subject and text in
// the citizen's language.
type InboxView struct {
	ID      string    `json:"id"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
	Read    bool      `json:"read"`
}

// inboxLimit is how many messages the page and the API show.
const inboxLimit = 50

// InboxMessages renders the account's newest messages in lang.
func (s *Service) InboxMessages(ctx context.Context, accountID, lang string) ([]InboxView, error) {
	if s.d.Inbox == nil {
		return nil, nil
	}
	list, err := s.d.Inbox.ListInbox(ctx, accountID, inboxLimit)
	if err != nil {
		return nil, err
	}
	out := make([]InboxView, 0, len(list))
	for _, m := range list {
		r, err := notify.Render(notify.Message{Channel: notify.Channel("email"), To: "inbox", Template: m.Template, Lang: lang, Data: m.Data})
		if err != nil {
			continue
		}
		out = append(out, InboxView{ID: m.ID, Subject: r.Subject, Text: r.Text, At: m.CreatedAt, Read: !m.ReadAt.IsZero()})
	}
	return out, nil
}

func prefsTable(a *account.Account) map[string]map[string]bool {
	prefs := account.ParseNotifyPrefs(a.NotifyPrefs)
	on := map[string]map[string]bool{}
	for _, e := range account.NotifyEvents {
		on[e] = map[string]bool{}
		for _, c := range prefs.Channels(e) {
			on[e][c] = true
		}
	}
	return on
}

// SetNotifyPrefs replaces the routing of the given events.
func (s *Service) SetNotifyPrefs(ctx context.Context, accountID string, set map[string][]string) (bool, error) {
	_, err := s.Accounts.UpdateAccount(ctx, accountID, func(a *account.Account) error {
		prefs := account.ParseNotifyPrefs(a.NotifyPrefs)
		for event, channels := range set {
			if !prefs.Set(event, channels) {
				return selfservice.ErrBadSetting
			}
		}
		a.NotifyPrefs, a.UpdatedAt = prefs.String(), s.Now().UTC()
		return nil
	})
	if errors.Is(err, selfservice.ErrBadSetting) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("set notification preferences: %w", err)
	}
	return true, nil
}

func (s *Service) renderNotifications(w http.ResponseWriter, r *http.Request, sess *session.Session, saved bool) {
	ctx := r.Context()
	a, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	msgs, err := s.InboxMessages(ctx, a.ID, s.Web.Lang(r))
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if s.d.Inbox != nil {
		if err := s.d.Inbox.MarkInboxRead(ctx, a.ID, s.Now()); err != nil {
			s.Log().Warn("settings: mark messages read", "err", err)
		}
	}
	s.Web.Render(w, r, http.StatusOK, "notifications", &NotificationsPage{Page: s.Page(w, r),
		Events: account.NotifyEvents, Channels: account.NotifyChannels, On: prefsTable(a), Messages: msgs, Saved: saved})
}

func (s *Service) notificationsPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	s.renderNotifications(w, r, sess, false)
}

func (s *Service) notificationsSubmit(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, PathNotifications)
	if !ok {
		return
	}
	set := map[string][]string{}
	for _, e := range account.NotifyEvents {
		set[e] = r.PostForm[e]
	}
	if _, err := s.SetNotifyPrefs(r.Context(), sess.AccountID, set); err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.renderNotifications(w, r, sess, true)
}

func (s *Service) apiNotifications(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	a, err := s.Accounts.GetAccount(r.Context(), sess.AccountID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	msgs, err := s.InboxMessages(r.Context(), a.ID, s.Meta(r).Lang)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	prefs := map[string][]string{}
	p := account.ParseNotifyPrefs(a.NotifyPrefs)
	for _, e := range account.NotifyEvents {
		prefs[e] = p.Channels(e)
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"preferences": prefs, "messages": msgs})
}

func (s *Service) apiNotificationsPut(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	var body struct {
		Preferences map[string][]string `json:"preferences"`
	}
	dec := selfservice.JSONDecoder(r)
	if err := dec.Decode(&body); err != nil || len(body.Preferences) == 0 {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", `The body must be {"preferences": {"<event>": ["sms","email","inbox"]}}; events: login, security, verification.`)
		return
	}
	ok, err := s.SetNotifyPrefs(r.Context(), sess.AccountID, body.Preferences)
	switch {
	case err != nil:
		s.APIServerError(w, r, err)
	case !ok:
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "Unknown event; events: login, security, verification.")
	default:
		s.apiNotifications(w, r)
	}
}

// apiSettings changes account settings: {"login_notice": "all"|"phone"|"email"|"none"}.
func (s *Service) apiSettings(w http.ResponseWriter, r *http.Request) {
	sess, in, ok := s.APIInput(w, r)
	if !ok {
		return
	}
	v, set := in["login_notice"]
	if !set {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "Nothing to change; known settings: login_notice.")
		return
	}
	err := s.SetLoginNotice(r.Context(), sess.AccountID, v)
	switch {
	case errors.Is(err, selfservice.ErrBadSetting):
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "login_notice must be one of all, phone, email, none.")
	case err != nil:
		s.APIServerError(w, r, err)
	default:
		selfservice.WriteJSON(w, http.StatusOK, map[string]any{"login_notice": v})
	}
}
