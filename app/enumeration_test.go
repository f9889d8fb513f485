package app_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/app/apptest"
)

// The enumeration checks (issue 10): whatever a stranger types, gosid's
// answers do not tell whether an account exists. Each check drives the two
// paths on a running server, compares their answers (status and body) and,
// on PostgreSQL + Redis, their median timing (pace_test.go).

// answer is what a client sees of one attempt: its status and its body,
// with what differs between any two requests (flow ids and tokens, expiry
// times, CSRF tokens) and what the client typed itself (and its masked
// echo) replaced by placeholders.
type answer struct {
	Status int
	Body   string
}

// wrongPassword is a password no test account has.
const wrongPassword = "Wrong-password-1"

// jsonAnswer normalises a flows-API answer; typed are the strings the
// client typed, or their echoes.
func jsonAnswer(status int, raw []byte, typed ...string) answer {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return answer{status, string(raw)}
	}
	for _, k := range []string{"id", "expires_at", "flow_token"} {
		delete(v, k)
	}
	body, _ := json.Marshal(v)
	return answer{status, replaceTyped(string(body), typed, "")}
}

var (
	perRequestFields = regexp.MustCompile(`name="(csrf_token|flow)" value="[^"]*"`)
	flowParams       = regexp.MustCompile(`flow=[^"&]+`)
	// htmlAttr escapes as html/template does in text and quoted attributes.
	htmlAttr = strings.NewReplacer(`&`, "&amp;", `"`, "&#34;", `'`, "&#39;", `+`, "&#43;", `<`, "&lt;", `>`, "&gt;")
)

// pageAnswer normalises a page.
func pageAnswer(p *apptest.Page, typed ...string) answer {
	body := perRequestFields.ReplaceAllString(p.Body, `name="$1" value="X"`)
	body = flowParams.ReplaceAllString(body, "flow=X")
	return answer{p.Status, replaceTyped(body, typed, "html")}
}

func replaceTyped(body string, typed []string, escaping string) string {
	for _, s := range typed {
		body = strings.ReplaceAll(body, s, "TYPED")
		if escaping == "html" {
			body = strings.ReplaceAll(body, html.EscapeString(s), "TYPED")
			body = strings.ReplaceAll(body, htmlAttr.Replace(s), "TYPED")
		}
	}
	return body
}

// sameAnswers fails the test where the two sequences of answers differ.
func sameAnswers(t *testing.T, what string, known, unknown []answer) {
	t.Helper()
	for i := range known {
		if known[i] == unknown[i] {
			continue
		}
		k, u := known[i].Body, unknown[i].Body
		at := 0
		for at < len(k) && at < len(u) && k[at] == u[at] {
			at++
		}
		from := max(at-200, 0)
		t.Errorf("%s, attempt %d: status %d against %d; bodies part at byte %d:\n%s\n---\n%s", what, i+1,
			known[i].Status, unknown[i].Status, at, k[from:min(at+200, len(k))], u[from:min(at+200, len(u))])
	}
}

// validSNILS returns a SNILS with body n (nine digits above the range
// without check digits) and its check digits, formatted as a citizen
// writes it.
func validSNILS(t *testing.T, n int) string {
	t.Helper()
	for c := 0; c < 100; c++ {
		s := fmt.Sprintf("%09d%02d", n, c)
		if norm, fe := account.NormalizeSNILS("snils", s); fe == nil {
			return account.FormatSNILS(norm)
		}
	}
	t.Fatalf("no check digits for %09d", n)
	return ""
}

// signInAttempts is how many wrong passwords each login gets: two wrong,
// the lock, two refused while locked.
const signInAttempts = 5

// apiSignIns makes signInAttempts wrong-password attempts for login
// through the flows API, each in a new flow, and returns the answers and
// their error codes.
func apiSignIns(a *api, login string) ([]answer, []string) {
	a.t.Helper()
	var out []answer
	var codes []string
	for i := 0; i < signInAttempts; i++ {
		ans, code, _ := apiSignIn(a, login)
		out, codes = append(out, ans), append(codes, code)
	}
	return out, codes
}

// apiSignIn makes one wrong-password attempt in a new API flow and returns
// the answer, its error code and how long the password step took.
func apiSignIn(a *api, login string) (answer, string, time.Duration) {
	a.t.Helper()
	f := a.start("login")
	status, raw, took := a.send(http.MethodPost, "/api/v1/flows/login/"+f.ID, f.FlowToken,
		map[string]any{"login": login, "password": wrongPassword})
	v := &flowView{}
	_ = json.Unmarshal(raw, v)
	return jsonAnswer(status, raw, login), v.errCode(""), took
}

// pageSignIns makes signInAttempts wrong-password attempts for login on the
// sign-in page, as one browser retyping the password, and returns the
// answers.
func pageSignIns(t *testing.T, env *apptest.Env, login string) []answer {
	t.Helper()
	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")
	var out []answer
	for i := 0; i < signInAttempts; i++ {
		p := b.Submit("/login", url.Values{"login": {login}, "password": {wrongPassword}})
		out = append(out, pageAnswer(p, login))
	}
	return out
}

// TestSignInDoesNotRevealAccounts (issue 10, defect 1): a login that names
// an account and one that names none get the same answers to five wrong
// passwords, attempt by attempt (two "wrong login or password", then
// "locked"), on the flows API and on the sign-in page, for each kind of
// login: a phone, an e-mail, and the SNILS of a verified account against
// an unknown valid SNILS. On PostgreSQL + Redis, with the real argon2id
// parameters, the answers also take the same time: a wrong password (the
// password hashed, or the decoy hash of a login with no account: 42 ms
// against 2 ms before the decoy) and, for each kind, an attempt refused
// while locked.
func TestSignInDoesNotRevealAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		cfg := apptest.NewConfig(t, backend)
		cfg.LoginRatePerIP = 1 << 20 // the per-IP limit is not what is compared
		env := apptest.Start(t, cfg)
		a := &api{t: t, env: env}

		phoneAcct := env.CreateAccount(t, "+79161000001", testPassword)
		emailAcct := env.CreateAccountWith(t, testPassword, func(a *account.Account) {
			a.Email, a.EmailVerified = "olga.k@example.ru", true
		})
		snilsAcct := env.CreateAccount(t, "+79161000003", testPassword)
		_, v := a.password("+79161000003", testPassword)
		if status := a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil); status != http.StatusAccepted {
			t.Fatalf("verify the SNILS: %d", status)
		}
		if p := a.waitProfile(v.SessionToken); p.Level != "standard" {
			t.Fatalf("the SNILS was not verified: %+v", p)
		}

		n := 0
		kinds := []struct {
			name      string
			known     string
			accountID string
			unknown   func() string
		}{
			{"phone", "+7 916 100-00-01", phoneAcct.ID, func() string { n++; return fmt.Sprintf("+7 916 5%02d-%02d-%02d", n/10000, n/100%100, n%100) }},
			{"e-mail", "olga.k@example.ru", emailAcct.ID, func() string { n++; return fmt.Sprintf("olga.%d@example.ru", n) }},
			{"SNILS", "123-456-789 64", snilsAcct.ID, func() string { n++; return validSNILS(t, 200000000+n*7) }},
		}
		wantCodes := []string{"login.invalid", "login.invalid", "login.locked", "login.locked", "login.locked"}
		wantStatus := []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusForbidden, http.StatusForbidden, http.StatusForbidden}
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				a := &api{t: t, env: env}
				lift := func() {
					if err := env.Server.SignIn.LiftLockout(t.Context(), k.accountID, ""); err != nil {
						t.Fatal(err)
					}
				}
				known, codes := apiSignIns(a, k.known)
				unknown, _ := apiSignIns(a, k.unknown())
				if strings.Join(codes, " ") != strings.Join(wantCodes, " ") {
					t.Errorf("API answers for an account: %v, want %v", codes, wantCodes)
				}
				sameAnswers(t, "API", known, unknown)
				lift()

				known, unknown = pageSignIns(t, env, k.known), pageSignIns(t, env, k.unknown())
				for i, ans := range known {
					if ans.Status != wantStatus[i] {
						t.Errorf("page attempt %d for an account: %d, want %d", i+1, ans.Status, wantStatus[i])
					}
				}
				sameAnswers(t, "sign-in page", known, unknown)
				lift()

				if backend != apptest.PostgresRedis {
					return
				}
				attempt := func(login, want string) time.Duration {
					_, code, took := apiSignIn(a, login)
					if code != want {
						t.Fatalf("timed attempt for %s: %q, want %q", login, code, want)
					}
					return took
				}
				// A wrong password costs argon2 for any kind of login, in
				// code all kinds share; it is timed once (each sample hashes,
				// which a busy machine makes slow). What differs by kind, the
				// lookup, is in every attempt, and timed below for each.
				if k.name == "phone" {
					samePace(t, "a wrong password: "+k.name+" of an account against one of none",
						func() time.Duration { defer lift(); return attempt(k.known, "login.invalid") },
						func() time.Duration { return attempt(k.unknown(), "login.invalid") })
				}

				locked := k.unknown()
				for range 3 {
					apiSignIn(a, k.known)
					apiSignIn(a, locked)
				}
				samePace(t, "refused while locked: "+k.name+" of an account against one of none",
					func() time.Duration { return attempt(k.known, "login.locked") },
					func() time.Duration { return attempt(locked, "login.locked") })
			})
		}
	})
}
