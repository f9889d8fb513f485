package signature

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/web"
)

// Paths of the pages.
const (
	PathSignIn    = "/login/esign"
	PathChallenge = "/login/esign/challenge/"
)

// LoginPage is «Войти с электронной подписью»: the challenge to sign with
// any CMS tool and the form that takes the signature file.
type LoginPage struct {
	web.Page
	FlowID, ChallengeID, Challenge, Expires string
}

func (s *Service) signInPage(w http.ResponseWriter, r *http.Request) {
	flow := r.URL.Query().Get("flow")
	if len(flow) > 100 {
		flow = ""
	}
	c, err := s.NewChallenge(r.Context(), PurposeSignIn, Binding{Flow: flow})
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.Render(w, r, http.StatusOK, "esign_login", &LoginPage{Page: s.Page(w, r), FlowID: flow,
		ChallengeID: c.ID, Challenge: c.Text,
		Expires: c.ExpiresAt.In(moscow).Format("02.01.2006 15:04 MST")})
}

var moscow = time.FixedZone("MSK", 3*60*60)

// challengeText serves a challenge's text as a file, so that the citizen
// signs its bytes exactly.
func (s *Service) challengeText(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Path[len(PathChallenge):]
	k, err := s.peek(r, id)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="challenge.txt"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, k.Text)
}

func (s *Service) signInSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(2 * esign.MaxSignatureSize); err != nil {
		s.BadRequest(w, r)
		return
	}
	flow := r.PostForm.Get("flow")
	back := PathSignIn + "?flow=" + url.QueryEscape(flow)
	if !s.Web.CheckCSRF(r) {
		s.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", back)
		return
	}
	var sig []byte
	if f, _, err := r.FormFile("signature"); err == nil {
		sig, _ = io.ReadAll(io.LimitReader(f, esign.MaxSignatureSize+1))
		_ = f.Close()
	}
	a, bound, err := s.SignIn(r.Context(), r.PostForm.Get("challenge_id"), sig, s.Meta(r))
	if err != nil {
		s.pageFail(w, r, err, back)
		return
	}
	s.SignInAccount(w, r, bound, a, AMR)
}

// pageFail answers a page in the citizen's language with what to do.
func (s *Service) pageFail(w http.ResponseWriter, r *http.Request, err error, back string) {
	code := Code(err)
	if code == "" {
		s.ServerError(w, r, err)
		return
	}
	var mm *MismatchError
	if !errors.As(err, &mm) && (code == "esign_unavailable" || code == "revocation_unknown") {
		s.Log().Warn("esign: check not completed", "err", err)
	}
	s.Web.Error(w, r, statusOf(code), "esign.error.title", "esign.error."+code, back)
}
