package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// revoke calls RFC 7009 revocation as clientID.
func revoke(t *testing.T, env *apptest.Env, clientID, secret, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

// TestRevocationsSurviveEphemeralLoss (#10 defect 5): after the short-lived
// store loses every key (Redis restarted without its data), tokens revoked
// before stay refused at introspection and at userinfo — a grant with a
// refresh token, one without (no offline_access: nothing durable but the
// revocation itself) and a client_credentials token revoked by jti — while
// a token never revoked stays active.
func TestRevocationsSurviveEphemeralLoss(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		env.CreateAccount(t, testPhone, testPassword)
		c := webClient()
		c.FirstParty = true
		secret := env.CreateClient(t, c)
		b := env.NewBrowser(t)
		offline := newRP(t, env, c.ID, secret)
		online := newRP(t, env, c.ID, secret, oidc.ScopeOpenID, "profile", "phone")
		withRefresh, _ := offline.login(t, b)
		noRefresh, _ := online.login(t, b)
		kept, _ := online.login(t, b)

		svc := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
		svcSecret := env.CreateClient(t, svc)
		cc := clientcredentials.Config{ClientID: svc.ID, ClientSecret: svcSecret, TokenURL: env.URL + "/oauth2/token", Scopes: []string{"api"}}
		machine, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}

		revoke(t, env, c.ID, secret, withRefresh.AccessToken)
		revoke(t, env, c.ID, secret, noRefresh.AccessToken)
		revoke(t, env, svc.ID, svcSecret, machine.AccessToken)

		env.LoseEphemeral(t)

		for name, tok := range map[string]*oauth2.Token{"with refresh": withRefresh, "without refresh": noRefresh} {
			if introspect(t, env, c.ID, secret, tok.AccessToken) {
				t.Errorf("%s: a revoked access token is active again after the store was emptied", name)
			}
			if _, err := offline.provider.UserInfo(offline.ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Errorf("%s: a revoked access token works at userinfo again after the store was emptied", name)
			}
		}
		if introspect(t, env, svc.ID, svcSecret, machine.AccessToken) {
			t.Error("a revoked client_credentials token is active again after the store was emptied")
		}
		_, err = offline.oauth.TokenSource(offline.ctx, &oauth2.Token{RefreshToken: withRefresh.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")

		// Nothing revoked is refused either, before and after a second loss.
		for i := 0; i < 2; i++ {
			if !introspect(t, env, c.ID, secret, kept.AccessToken) {
				t.Fatal("a token never revoked is refused")
			}
			if _, err := online.provider.UserInfo(online.ctx, oauth2.StaticTokenSource(kept)); err != nil {
				t.Fatalf("userinfo of a token never revoked: %v", err)
			}
			env.LoseEphemeral(t)
		}
		if introspect(t, env, c.ID, secret, noRefresh.AccessToken) {
			t.Error("a revoked access token is active again after a second loss")
		}
	})
}

// TestLockoutSurvivesEphemeralLoss (#10 defect 5): a login locked after
// three wrong passwords stays locked when the short-lived store loses its
// data; the right password is refused as locked, not checked.
func TestLockoutSurvivesEphemeralLoss(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		env.CreateAccount(t, testPhone, testPassword)
		a := &api{t: t, env: env}
		for i := 0; i < 3; i++ {
			f := a.start("login")
			a.submit(f, "login", map[string]any{"login": testPhone, "password": "Wrong-password-1"})
		}
		env.LoseEphemeral(t)
		for i := 0; i < 2; i++ {
			f := a.start("login")
			if _, v := a.submit(f, "login", map[string]any{"login": testPhone, "password": testPassword}); v.errCode("") != "login.locked" {
				t.Fatalf("attempt %d after the loss: not locked: %+v", i+1, v)
			}
		}
	})
}
