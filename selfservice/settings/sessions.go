package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// Sessions and devices: the citizen's signed-in sessions, and ending one
// or every other one.

// SessionsPage lists the citizen's sessions.
type SessionsPage struct {
	web.Page
	Sessions []SessionView
	// Ended is how many sessions the last action ended (-1: none taken).
	Ended int
}

// SessionView is a session in the list.
type SessionView struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	Device     string    `json:"device"`
	IP         string    `json:"ip"`
	Location   string    `json:"location,omitempty"`
	AMR        []string  `json:"amr"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// SessionViews lists the account's sessions, marking current.
func (s *Service) SessionViews(ctx context.Context, accountID, current string) ([]SessionView, error) {
	recs, err := s.Sessions.List(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]SessionView, 0, len(recs))
	for _, x := range recs {
		out = append(out, SessionView{ID: x.ID, Current: x.ID == current, Device: session.DeviceName(x.UserAgent),
			IP: x.IP, Location: x.Location, AMR: x.AMR, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt})
	}
	return out, nil
}

// EndSessions ends one session ("end", by id) or every other one
// ("end_others") of the signed-in citizen and returns how many.
// storage.ErrNotFound means no such session or action.
func (s *Service) EndSessions(ctx context.Context, sess *session.Session, action, id string, m selfservice.Meta) (int, error) {
	switch action {
	case "end":
		if !httpx.ValidID(id) {
			return 0, storage.ErrNotFound
		}
		if err := s.Sessions.EndByID(ctx, sess.AccountID, id); err != nil {
			return 0, err
		}
		s.Record(ctx, m, sess.AccountID, "session.ended", "", map[string]string{"session": id})
		return 1, nil
	case "end_others":
		n, err := s.Sessions.EndOthers(ctx, sess.AccountID, sess.ID)
		if err != nil {
			return n, fmt.Errorf("end other sessions: %w", err)
		}
		s.Record(ctx, m, sess.AccountID, "session.ended_others", "", map[string]string{"count": strconv.Itoa(n)})
		return n, nil
	}
	return 0, storage.ErrNotFound
}

func (s *Service) sessionsPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	s.renderSessions(w, r, sess, -1)
}

func (s *Service) renderSessions(w http.ResponseWriter, r *http.Request, sess *session.Session, ended int) {
	list, err := s.SessionViews(r.Context(), sess.AccountID, sess.ID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.Render(w, r, http.StatusOK, "sessions", &SessionsPage{Page: s.Page(w, r), Sessions: list, Ended: ended})
}

func (s *Service) sessionsSubmit(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, PathSessions)
	if !ok {
		return
	}
	n, err := s.EndSessions(r.Context(), sess, r.PostForm.Get("action"), r.PostForm.Get("session"), s.Meta(r))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.ServerError(w, r, err)
		return
	}
	if r.PostForm.Get("session") == sess.ID {
		s.Web.ClearCookie(w, s.Sessions.Cookie())
		http.Redirect(w, r, selfservice.PathLogin, http.StatusSeeOther)
		return
	}
	s.renderSessions(w, r, sess, n)
}

func (s *Service) apiSessions(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	list, err := s.SessionViews(r.Context(), sess.AccountID, sess.ID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

func (s *Service) apiEndOthers(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	n, err := s.EndSessions(r.Context(), sess, "end_others", "", s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"ended": n})
}

func (s *Service) apiEndSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	_, err := s.EndSessions(r.Context(), sess, "end", mux.Vars(r)["id"], s.Meta(r))
	s.APINoContent(w, r, err, "The account has no such session.")
}
