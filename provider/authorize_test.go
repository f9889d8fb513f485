package provider

import (
	"testing"

	"github.com/ory/fosite"

	"github.com/gosid/gosid/clients"
)

func TestDuplicated(t *testing.T) {
	tests := []struct {
		form map[string][]string
		want string
	}{
		{map[string][]string{"a": {"1"}, "b": {"2"}}, ""},
		{map[string][]string{"b": {"1", "2"}, "a": {"1", "1"}}, "a"},
		{map[string][]string{"resource": {"https://a", "https://b"}}, ""},
		{map[string][]string{"state": {"", ""}}, "state"},
	}
	for _, tt := range tests {
		if got := duplicated(tt.form); got != tt.want {
			t.Errorf("duplicated(%v) = %q, want %q", tt.form, got, tt.want)
		}
	}
}

func TestRedirectFor(t *testing.T) {
	web := &fositeClient{c: &clients.Client{RedirectURIs: []string{"http://127.0.0.1:9/cb"}}}
	spa := &fositeClient{c: &clients.Client{RedirectURIs: []string{"http://127.0.0.1:9/cb"}, Public: true,
		TokenEndpointAuthMethod: clients.AuthNone}}
	native := &fositeClient{c: &clients.Client{RedirectURIs: []string{"http://127.0.0.1/cb", "com.example.app:/cb"}, Public: true,
		TokenEndpointAuthMethod: clients.AuthNone, ApplicationType: clients.AppNative}}
	tests := []struct {
		name   string
		client *fositeClient
		raw    string
		want   string
	}{
		{"web exact", web, "http://127.0.0.1:9/cb", "http://127.0.0.1:9/cb"},
		{"web omitted, one registered", web, "", "http://127.0.0.1:9/cb"},
		{"web other port", web, "http://127.0.0.1:10/cb", ""},
		{"public web client other port", spa, "http://127.0.0.1:10/cb", ""},
		{"native any port", native, "http://127.0.0.1:53123/cb", "http://127.0.0.1:53123/cb"},
		{"native other path", native, "http://127.0.0.1:53123/other", ""},
		{"native other host", native, "http://127.0.0.2:53123/cb", ""},
		{"native omitted, two registered", native, "", ""},
		{"native private-use scheme", native, "com.example.app:/cb", "com.example.app:/cb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redirectFor(tt.client, tt.raw)
			if (got == nil) != (tt.want == "") || (got != nil && got.String() != tt.want) {
				t.Fatalf("redirectFor(%q) = %v, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestRegisteredAuthorizeError(t *testing.T) {
	tests := map[*fosite.RFC6749Error]string{
		fosite.ErrInvalidState:            "invalid_request",
		fosite.ErrUnsupportedResponseMode: "invalid_request",
		fosite.ErrInsufficientEntropy:     "invalid_request",
		fosite.ErrRequestForbidden:        "invalid_request",
		fosite.ErrMisconfiguration:        "server_error",
		fosite.ErrLoginRequired:           "login_required",
		fosite.ErrInvalidRequestObject:    "invalid_request_object",
		fosite.ErrAccessDenied:            "access_denied",
	}
	for in, want := range tests {
		if got := registeredAuthorizeError(in.WithHint("h")); got.ErrorField != want || got.HintField != "h" {
			t.Errorf("%s: got %s (%q)", in.ErrorField, got.ErrorField, got.HintField)
		}
	}
}
