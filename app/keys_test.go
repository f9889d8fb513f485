package app_test

import (
	"context"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// TestKeyRotation: the next key is published before it signs, and tokens
// signed by the retired key stay valid and verifiable.
func TestKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		c := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
		secret := env.CreateClient(t, c)
		cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: env.URL + "/oauth2/token"}
		ctx := context.Background()

		before := fetchJWKS(t, env)
		if len(before.Keys) != 4 {
			t.Fatalf("want an active and a next key per algorithm (4), got %d", len(before.Keys))
		}
		old, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		oldKid := kidOf(t, old.AccessToken)

		if err := env.Stores.Keys.Rotate(ctx, "ES256"); err != nil {
			t.Fatalf("rotate: %v", err)
		}
		fresh, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		newKid := kidOf(t, fresh.AccessToken)
		if newKid == oldKid {
			t.Fatal("rotation did not change the signing key")
		}
		if len(before.Key(newKid)) == 0 {
			t.Fatalf("the new signing key %s was not published before it signed", newKid)
		}
		after := fetchJWKS(t, env)
		if len(after.Key(oldKid)) == 0 {
			t.Fatal("the retired key left the JWKS while its tokens are still valid")
		}
		if len(after.Keys) != 5 {
			t.Fatalf("want retired + active + next for ES256 and active + next for RS256 (5), got %d", len(after.Keys))
		}
		if !introspect(t, env, c.ID, secret, old.AccessToken) {
			t.Fatal("a token signed before the rotation is no longer accepted")
		}
	})
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	parsed, err := josejwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Headers[0].KeyID
}
