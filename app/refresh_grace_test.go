package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/internal/testenv"
)

// tokenAnswer is a token endpoint's answer, success or error.
type tokenAnswer struct {
	Status       int
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// refreshWith posts a refresh_token grant as a client would.
func refreshWith(t *testing.T, env *apptest.Env, clientID, secret, rt string) tokenAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Errorf("refresh: %v", err)
		return tokenAnswer{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := tokenAnswer{Status: resp.StatusCode}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Errorf("refresh answer %d %q: %v", resp.StatusCode, body, err)
	}
	return out
}

// firstPartyLogin creates the test account and a first-party web client,
// and signs in through it.
func firstPartyLogin(t *testing.T, env *apptest.Env) (*clients.Client, string, *oauth2.Token) {
	t.Helper()
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	tok, _ := r.login(t, env.NewBrowser(t))
	return c, secret, tok
}

// refreshParallel presents one refresh token n times at once.
func refreshParallel(t *testing.T, env *apptest.Env, clientID, secret, rt string, n int) []tokenAnswer {
	t.Helper()
	answers := make([]tokenAnswer, n)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = refreshWith(t, env, clientID, secret, rt)
		}()
	}
	wg.Wait()
	return answers
}

// TestRefreshGraceNeverForks: inside the grace window a rotated-out
// refresh token gets the successor it already got, identical, whether it
// is presented again later or many times at once; once that successor has
// been used, the old token is refused and the chain lives on; outside the
// window (TestRefreshReuseRevokesGrant) reuse revokes the grant. Before the
// fix every reuse in the window started a chain of its own.
func TestRefreshGraceNeverForks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		cfg := apptest.NewConfig(t, backend)
		// A window no slow machine can outlast: the test asserts no timing.
		cfg.RefreshGrace = time.Hour
		env := apptest.Start(t, cfg)
		c, secret, tok := firstPartyLogin(t, env)

		first := refreshWith(t, env, c.ID, secret, tok.RefreshToken)
		if first.Status != http.StatusOK || first.RefreshToken == "" || first.RefreshToken == tok.RefreshToken {
			t.Fatalf("first refresh: %+v", first)
		}
		// A relying party checking "the old token fails after rotation"
		// some seconds later gets the identical successor.
		again := refreshWith(t, env, c.ID, secret, tok.RefreshToken)
		if again.Status != http.StatusOK || again.RefreshToken != first.RefreshToken {
			t.Fatalf("reuse inside the window: status %d, same successor %v (%s)", again.Status,
				again.RefreshToken == first.RefreshToken, again.Error)
		}

		// Many refreshes of one token at once: one successor for all.
		answers := refreshParallel(t, env, c.ID, secret, first.RefreshToken, 8)
		next := answers[0].RefreshToken
		for i, a := range answers {
			if a.Status != http.StatusOK || a.RefreshToken != next || next == first.RefreshToken {
				t.Fatalf("parallel refresh %d: status %d %s, successor %.12s…, others %.12s…", i, a.Status, a.Error, a.RefreshToken, next)
			}
		}

		// The client moves on: the successor is used. The rotated-out token
		// is now refused, without taking the chain down.
		third := refreshWith(t, env, c.ID, secret, next)
		if third.Status != http.StatusOK {
			t.Fatalf("refresh with the successor: %+v", third)
		}
		for _, old := range []string{tok.RefreshToken, first.RefreshToken} {
			if a := refreshWith(t, env, c.ID, secret, old); a.Status != http.StatusBadRequest || a.Error != "invalid_grant" {
				t.Fatalf("replay of a token whose successor was used: %d %s", a.Status, a.Error)
			}
		}
		if a := refreshWith(t, env, c.ID, secret, third.RefreshToken); a.Status != http.StatusOK {
			t.Fatalf("the chain's live token after a refused replay: %d %s", a.Status, a.Error)
		}
		if !introspect(t, env, c.ID, secret, third.AccessToken) {
			t.Fatal("a refused replay revoked the grant's access tokens")
		}
	})
}

// TestParallelRefreshOneChain: outside any grace window, parallel refreshes
// of one token give at most one new token, and the database holds exactly
// what was answered: a live successor for each 200 and none for a refresh
// that failed, so there are never two live chains and never a presented
// token marked used without its successor (the two writes are one
// transaction).
func TestParallelRefreshOneChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		cfg := apptest.NewConfig(t, backend)
		cfg.RefreshGrace = 0
		env := apptest.Start(t, cfg)
		c, secret, tok := firstPartyLogin(t, env)

		const parallel = 8
		answers := refreshParallel(t, env, c.ID, secret, tok.RefreshToken, parallel)
		ok := 0
		for _, a := range answers {
			switch {
			case a.Status == http.StatusOK:
				ok++
			case a.Status != http.StatusBadRequest:
				t.Fatalf("a parallel refresh answered %d %s: %s", a.Status, a.Error, a.Description)
			}
		}
		if ok > 1 {
			t.Fatalf("%d of %d parallel refreshes got a token; want at most one chain", ok, parallel)
		}
		var live, rows int
		for _, line := range strings.Split(testenv.DumpDatabase(t, env.Stores.DB), "\n") {
			if !strings.HasPrefix(line, "refresh_tokens:") {
				continue
			}
			rows++
			if strings.Contains(line, "\tused_at=NULL") && strings.Contains(line, "\trevoked_at=NULL") {
				live++
			}
		}
		// The first token and one successor per token answered.
		if rows != 1+ok {
			t.Fatalf("%d refresh tokens stored after %d answered refreshes; want %d", rows, ok, 1+ok)
		}
		if live > ok {
			t.Fatalf("%d live refresh tokens after %d answered refreshes", live, ok)
		}
	})
}
