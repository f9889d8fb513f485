package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// BenchmarkClientAuthentication is one client_credentials request at the
// token endpoint, through the whole HTTP stack (embedded SQLite), for a
// right secret, a wrong one and a client_id that does not exist: the two
// refusals should cost about the same (an unknown client's secret is
// compared with a decoy hash), so that timing does not tell which client
// ids exist.
func BenchmarkClientAuthentication(b *testing.B) {
	env := apptest.Start(b, apptest.NewConfig(b, apptest.SQLite))
	c := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	secret := env.CreateClient(b, c)
	client := env.Client()
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}.Encode()
	for _, bc := range []struct {
		name, id, secret string
		status           int
	}{
		{"right secret", c.ID, secret, http.StatusOK},
		{"wrong secret", c.ID, secret + "x", http.StatusUnauthorized},
		{"unknown client", "no-such-client", secret, http.StatusUnauthorized},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(bc.id, bc.secret)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != bc.status {
					b.Fatalf("status %d, want %d", resp.StatusCode, bc.status)
				}
			}
		})
	}
}

// BenchmarkTokenDPoP is the token endpoint's cost of DPoP (RFC 9449): one
// client_credentials request through the whole HTTP stack (embedded SQLite;
// PostgreSQL + Redis, where the replay cache is Redis), plain and with a
// DPoP proof (ES256, with the server's nonce).
// The proof is made outside the timer: what is measured is the server's
// work, verifying it (signature, thumbprint, replay cache write) and
// binding the token.
func BenchmarkTokenDPoP(b *testing.B) {
	for _, be := range []struct {
		name    string
		backend apptest.Backend
	}{{"sqlite", apptest.SQLite}, {"postgres+redis", apptest.PostgresRedis}} {
		b.Run(be.name, func(b *testing.B) { benchTokenDPoP(b, be.backend) })
	}
}

func benchTokenDPoP(b *testing.B, backend apptest.Backend) {
	env := apptest.Start(b, apptest.NewConfig(b, backend))
	c := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	secret := env.CreateClient(b, c)
	client := env.Client()
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}.Encode()
	htu := env.URL + "/oauth2/token"
	k := newDPoPKey(b)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}
	nonce := doDPoP(b, env, "POST", "/oauth2/token", form, c.ID, secret, "", k.proof(b, "POST", htu, "", "", proofOpts{})).Header.Get("DPoP-Nonce")
	for _, bc := range []struct {
		name string
		dpop bool
	}{{"plain client_credentials", false}, {"client_credentials with DPoP proof", true}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(c.ID, secret)
				if bc.dpop {
					b.StopTimer()
					req.Header.Set("DPoP", k.proof(b, "POST", htu, nonce, "", proofOpts{}))
					b.StartTimer()
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
