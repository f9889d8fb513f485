package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/gosid/gosid/clients"
)

const testIssuer = "https://id.example"

func plaintext(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + "."
}

func TestReadPlaintextRequestObject(t *testing.T) {
	p := &Provider{o: Options{Issuer: testIssuer}}
	lax := &fositeClient{c: &clients.Client{ID: "c1"}}
	strict := &fositeClient{c: &clients.Client{ID: "c1", RequireSignedRequestObject: true}}
	future := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name   string
		client *fositeClient
		claims string
		want   map[string]string // nil: refused as invalid_request_object
	}{
		{"values of every JSON type", lax, `{"response_type":"code","max_age":300,"claims":{"userinfo":{"email":null}},"x":true,"n":null}`,
			map[string]string{"response_type": "code", "max_age": "300", "claims": `{"userinfo":{"email":null}}`, "x": "true"}},
		{"JWT claims are not parameters", lax, `{"iss":"c1","aud":"` + testIssuer + `","exp":` + jsonInt(future) + `,"jti":"j","scope":"openid"}`,
			map[string]string{"scope": "openid"}},
		{"aud in a list", lax, `{"aud":["x","` + testIssuer + `"],"scope":"openid"}`, map[string]string{"scope": "openid"}},
		{"another issuer", lax, `{"iss":"c2"}`, nil},
		{"another client_id", lax, `{"client_id":"c2"}`, nil},
		{"another audience", lax, `{"aud":"https://other.example"}`, nil},
		{"expired", lax, `{"exp":1000}`, nil},
		{"exp not a number", lax, `{"exp":"tomorrow"}`, nil},
		{"not valid yet", lax, `{"nbf":` + jsonInt(future) + `}`, nil},
		{"nested request", lax, `{"request":"x"}`, nil},
		{"nested request_uri", lax, `{"request_uri":"https://a.example/r"}`, nil},
		{"not an object", lax, `["a"]`, nil},
		{"unsigned for a client that signs", strict, `{"scope":"openid"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.readRequestObject(context.Background(), tt.client, plaintext(tt.claims))
			if tt.want == nil {
				if !errors.Is(err, fosite.ErrInvalidRequestObject) {
					t.Fatalf("got %v, %v; want invalid_request_object", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got.Get(k) != v {
					t.Fatalf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
		})
	}
	for _, raw := range []string{"a.b", "a.b.c.d.e", "e30.e30.sig", plaintext("{}") + "x"} {
		if _, err := p.readRequestObject(context.Background(), lax, raw); !errors.Is(err, fosite.ErrInvalidRequestObject) {
			t.Fatalf("%q: %v", raw, err)
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// FuzzRequestObject: whatever a client sends as a request object, reading
// it never panics, and what it yields never names another request object
// or carries the JWT's own claims as parameters.
func FuzzRequestObject(f *testing.F) {
	for _, seed := range []string{`{"scope":"openid"}`, `{"claims":{"id_token":{"acr":{"essential":true}}}}`, `{"exp":1e300}`, `{"aud":[1,2]}`, `null`} {
		f.Add(plaintext(seed))
	}
	p := &Provider{o: Options{Issuer: testIssuer}}
	c := &fositeClient{c: &clients.Client{ID: "c1"}}
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := p.readRequestObject(context.Background(), c, raw)
		if err != nil {
			return
		}
		for k := range params {
			if k == "request" || k == "request_uri" || slices.Contains(jwtOnlyClaims, k) {
				t.Fatalf("parameter %q from %q", k, raw)
			}
		}
	})
}
