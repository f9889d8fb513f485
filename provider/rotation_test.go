package provider

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
)

// TestSuccessorIsAFositeToken: a derived successor is a refresh token in
// fosite's own format (fosite validates it and computes the same
// signature), the same for every spelling of the presented token, and
// different for different tokens and server secrets.
func TestSuccessorIsAFositeToken(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	cfg := &fosite.Config{GlobalSecret: secret}
	hmacs := compose.NewOAuth2HMACStrategy(cfg)
	s, err := newSuccessorStrategy(hmacs, secret)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := hmacs.GenerateRefreshToken(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	refresh := &fosite.AccessRequest{GrantTypes: fosite.Arguments{"refresh_token"},
		Request: fosite.Request{Form: url.Values{"refresh_token": {first}}, Session: NewSession()}}
	next, sig, err := s.GenerateRefreshToken(t.Context(), refresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := hmacs.ValidateRefreshToken(t.Context(), refresh, next); err != nil {
		t.Fatalf("fosite refuses the successor %q: %v", next, err)
	}
	if got := hmacs.RefreshTokenSignature(t.Context(), next); got != sig || next == first {
		t.Fatalf("successor signature %q, fosite's %q", sig, got)
	}

	cases := []struct {
		name      string
		presented string
		secret    []byte
		same      bool
	}{
		{"the same token again", first, secret, true},
		{"the token without its prefix", strings.TrimPrefix(first, refreshPrefix), secret, true},
		{"the successor itself", next, secret, false},
		{"another server secret", first, bytes.Repeat([]byte{8}, 32), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := newSuccessorStrategy(hmacs, tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := st.successor(tc.presented)
			if err != nil {
				t.Fatal(err)
			}
			if (got == next) != tc.same {
				t.Fatalf("successor of %s equal to the first one: %v, want %v", tc.name, got == next, tc.same)
			}
		})
	}

	// The first refresh token of a grant (a code exchange) stays random.
	code := &fosite.AccessRequest{GrantTypes: fosite.Arguments{"authorization_code"}, Request: fosite.Request{Form: url.Values{}}}
	a, _, _ := s.GenerateRefreshToken(t.Context(), code)
	b, _, _ := s.GenerateRefreshToken(t.Context(), code)
	if a == b || a == "" {
		t.Fatal("refresh tokens of code exchanges are not random")
	}
	if _, _, err := s.successor("no-dot"); err == nil {
		t.Fatal("a token without a signature part got a successor")
	}
}
