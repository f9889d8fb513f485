package conformance

import (
	"testing"
	"time"

	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/storage"
)

var durClientCases = []durCase{
	{"RoundTrip", durClientRoundTrip},
	{"Minimal", durClientMinimal},
	{"Duplicate", durClientDuplicate},
	{"Missing", durClientMissing},
	{"Update", durClientUpdate},
	{"Delete", durClientDelete},
	{"List", durClientList},
}

// durFullClient sets every field to a value other than its zero value.
func durFullClient(id string) *clients.Client {
	return &clients.Client{
		ID: id, Name: "Портал госуслуг", SecretHash: []byte{0, 1, 2, 0xff},
		RedirectURIs: []string{"https://a.example/cb", "https://b.example/cb"}, PostLogoutRedirectURIs: []string{"https://a.example/bye"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile", "phone"}, Audience: []string{"https://api.example"}, Public: true,
		TokenEndpointAuthMethod: clients.AuthPrivateKeyJWT, JWKS: []byte(`{"keys":[]}`), JWKSURI: "https://a.example/jwks",
		IDTokenAlg: "ES256", FirstParty: true, MinLevel: "standard", RequireMFA: true,
		ApplicationType: clients.AppNative, RequireSignedRequestObject: true, RequestObjectSigningAlg: "PS256",
		AllowedCORSOrigins:    []string{"https://spa.example", "http://localhost:3000"},
		DPoPBoundAccessTokens: true, UserinfoSignedResponseAlg: "ES256",
		CreatedAt: durNow, UpdatedAt: durNow.Add(time.Second),
	}
}

func durClientRoundTrip(t *testing.T, s Durable) {
	ctx := t.Context()
	c := durFullClient("c1")
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	got, err := s.GetClient(ctx, "c1")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	durSame(t, "client round trip", got, c)
}

// durClientMinimal: a client with nothing optional comes back with nothing
// optional (nil or empty lists, no secret, no key set).
func durClientMinimal(t *testing.T, s Durable) {
	ctx := t.Context()
	c := &clients.Client{ID: "min", TokenEndpointAuthMethod: clients.AuthNone, CreatedAt: durNow, UpdatedAt: durNow}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	got, err := s.GetClient(ctx, "min")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	durSame(t, "minimal client", got, c)
	empty := &clients.Client{ID: "empty", RedirectURIs: []string{}, Scopes: []string{}, SecretHash: []byte{},
		TokenEndpointAuthMethod: clients.AuthNone, CreatedAt: durNow, UpdatedAt: durNow}
	if err := s.CreateClient(ctx, empty); err != nil {
		t.Fatalf("CreateClient with empty lists: %v", err)
	}
	got, err = s.GetClient(ctx, "empty")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	durSame(t, "client with empty lists", got, empty)
}

func durClientDuplicate(t *testing.T, s Durable) {
	ctx := t.Context()
	if err := s.CreateClient(ctx, durFullClient("c1")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	other := durFullClient("c1")
	other.Name = "impostor"
	durWant(t, "CreateClient with a taken id", s.CreateClient(ctx, other), storage.ErrConflict)
	if got, err := s.GetClient(ctx, "c1"); err != nil || got.Name != "Портал госуслуг" {
		t.Fatalf("after a refused duplicate: %+v, %v; want the original", got, err)
	}
}

func durClientMissing(t *testing.T, s Durable) {
	ctx := t.Context()
	_, err := s.GetClient(ctx, "nope")
	durWant(t, "GetClient of an unknown id", err, storage.ErrNotFound)
	durWant(t, "UpdateClient of an unknown id", s.UpdateClient(ctx, durFullClient("nope")), storage.ErrNotFound)
	durWant(t, "DeleteClient of an unknown id", s.DeleteClient(ctx, "nope"), storage.ErrNotFound)
}

func durClientUpdate(t *testing.T, s Durable) {
	ctx := t.Context()
	if err := s.CreateClient(ctx, durFullClient("c1")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	// Every field changes, and optional ones go back to empty.
	c := &clients.Client{ID: "c1", Name: "Новое имя", RedirectURIs: []string{"https://c.example/cb"},
		GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: clients.AuthSecretPost,
		IDTokenAlg: "RS256", CreatedAt: durNow, UpdatedAt: durNow.Add(time.Hour)}
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	got, err := s.GetClient(ctx, "c1")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	durSame(t, "updated client", got, c)
}

func durClientDelete(t *testing.T, s Durable) {
	ctx := t.Context()
	for _, id := range []string{"c1", "c2"} {
		if err := s.CreateClient(ctx, durFullClient(id)); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
	}
	if err := s.DeleteClient(ctx, "c1"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err := s.GetClient(ctx, "c1")
	durWant(t, "GetClient of a deleted client", err, storage.ErrNotFound)
	durWant(t, "second DeleteClient", s.DeleteClient(ctx, "c1"), storage.ErrNotFound)
	if _, err := s.GetClient(ctx, "c2"); err != nil {
		t.Fatalf("the other client is gone: %v", err)
	}
	// The id can be registered again.
	if err := s.CreateClient(ctx, durFullClient("c1")); err != nil {
		t.Fatalf("CreateClient after delete: %v", err)
	}
}

func durClientList(t *testing.T, s Durable) {
	ctx := t.Context()
	if list, err := s.ListClients(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListClients of an empty store = %d clients, %v", len(list), err)
	}
	want := map[string]*clients.Client{}
	for _, id := range []string{"b", "a", "c"} {
		c := durFullClient(id)
		c.Name = "client " + id
		want[id] = c
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
	}
	list, err := s.ListClients(ctx)
	if err != nil || len(list) != len(want) {
		t.Fatalf("ListClients = %d clients, %v; want %d", len(list), err, len(want))
	}
	for _, got := range list {
		w, ok := want[got.ID]
		if !ok {
			t.Fatalf("ListClients returned unknown client %q", got.ID)
		}
		durSame(t, "listed client "+got.ID, got, w)
		delete(want, got.ID)
	}
}
