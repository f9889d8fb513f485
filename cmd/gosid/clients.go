package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gosid/gosid/app"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/storage"
)

// clientJSON is a client in RFC 7591 client-metadata names.
type clientJSON struct {
	ClientID                string          `json:"client_id"`
	ClientSecret            string          `json:"client_secret,omitempty"`
	ClientName              string          `json:"client_name"`
	RedirectURIs            []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types"`
	Scope                   string          `json:"scope"`
	Audience                []string        `json:"audience,omitempty"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	IDTokenSignedAlg        string          `json:"id_token_signed_response_alg"`
	ApplicationType         string          `json:"application_type,omitempty"`
	RequireSignedRequest    bool            `json:"require_signed_request_object"`
	RequestObjectAlg        string          `json:"request_object_signing_alg,omitempty"`
	AllowedCORSOrigins      []string        `json:"allowed_cors_origins,omitempty"`
	DPoPBoundAccessTokens   bool            `json:"dpop_bound_access_tokens"`
	UserinfoSignedAlg       string          `json:"userinfo_signed_response_alg,omitempty"`
	Public                  bool            `json:"public"`
	FirstParty              bool            `json:"first_party"`
	MinLevel                string          `json:"min_level,omitempty"`
	RequireMFA              bool            `json:"require_mfa"`
	CreatedAt               time.Time       `json:"created_at"`
}

func toJSON(c *clients.Client, secret string) clientJSON {
	return clientJSON{
		ClientID: c.ID, ClientSecret: secret, ClientName: c.Name, RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, GrantTypes: c.GrantTypes, ResponseTypes: c.ResponseTypes,
		Scope: strings.Join(c.Scopes, " "), Audience: c.Audience, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		JWKSURI: c.JWKSURI, JWKS: json.RawMessage(c.JWKS), IDTokenSignedAlg: c.IDTokenAlg, Public: c.Public,
		FirstParty: c.FirstParty, MinLevel: c.MinLevel, RequireMFA: c.RequireMFA, CreatedAt: c.CreatedAt,
		ApplicationType: c.ApplicationType, RequireSignedRequest: c.RequireSignedRequestObject,
		RequestObjectAlg: c.RequestObjectSigningAlg, AllowedCORSOrigins: c.AllowedCORSOrigins,
		DPoPBoundAccessTokens: c.DPoPBoundAccessTokens, UserinfoSignedAlg: c.UserinfoSignedResponseAlg,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func cmdClients(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: gosid clients create|list|get|delete|rotate-secret")
	}
	switch args[0] {
	case "create":
		return clientsCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return clientsList(ctx, args[1:], stdout, stderr)
	case "get":
		return clientsGet(ctx, args[1:], stdout, stderr)
	case "delete":
		return clientsDelete(ctx, args[1:], stdout, stderr)
	case "rotate-secret":
		return clientsRotate(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown clients command %q", args[0])
}

func clientsCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("clients create", stderr)
	c.register(fs)
	var redirects, postLogout, grants, scopes, audience, corsOrigins listFlag
	name := fs.String("name", "", "client name shown to citizens (required)")
	id := fs.String("id", "", "client id (default: random)")
	public := fs.Bool("public", false, "public client (no secret; PKCE required)")
	method := fs.String("auth-method", "", "token endpoint auth: client_secret_basic (default), client_secret_post, private_key_jwt, none")
	jwksURI := fs.String("jwks-uri", "", "client JWKS URL for private_key_jwt")
	jwksFile := fs.String("jwks", "", "file with the client's JWKS for private_key_jwt")
	idAlg := fs.String("id-token-alg", "", "id_token signing algorithm: RS256 (default) or ES256")
	firstParty := fs.Bool("first-party", false, "skip the consent page")
	minLevel := fs.String("min-level", "", "lowest account level accepted: simplified, standard, confirmed")
	requireMFA := fs.Bool("require-mfa", false, "require a second factor")
	appType := fs.String("application-type", "", "web (default) or native: a public native app may use any loopback port")
	requireSigned := fs.Bool("require-signed-request-object", false, "accept only signed request objects (RFC 9101) from this client")
	requestAlg := fs.String("request-object-signing-alg", "", "the one algorithm of the client's request objects: RS256, ES256 or PS256")
	dpopBound := fs.Bool("dpop-bound-access-tokens", false, "require DPoP (RFC 9449): every token of the client is bound to its proof key")
	userinfoAlg := fs.String("userinfo-signed-response-alg", "", "answer userinfo with a JWT signed with RS256 or ES256 (default: plain JSON)")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant-type", "grant type (repeatable): authorization_code, refresh_token, client_credentials")
	fs.Var(&scopes, "scope", "allowed scope (repeatable)")
	fs.Var(&audience, "audience", "allowed audience (repeatable)")
	fs.Var(&corsOrigins, "cors-origin", "web origin (https://spa.example) besides the redirect URIs' own from which browser code may call the token, userinfo, revocation and PAR endpoints (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cl := &clients.Client{
		ID: *id, Name: *name, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout, GrantTypes: grants,
		Scopes: scopes, Audience: audience, Public: *public, TokenEndpointAuthMethod: *method, JWKSURI: *jwksURI,
		IDTokenAlg: *idAlg, FirstParty: *firstParty, MinLevel: *minLevel, RequireMFA: *requireMFA,
		ApplicationType: *appType, RequireSignedRequestObject: *requireSigned, RequestObjectSigningAlg: *requestAlg,
		AllowedCORSOrigins: corsOrigins, DPoPBoundAccessTokens: *dpopBound, UserinfoSignedResponseAlg: *userinfoAlg,
	}
	if *public && cl.TokenEndpointAuthMethod == "" {
		cl.TokenEndpointAuthMethod = clients.AuthNone
	}
	if *jwksFile != "" {
		raw, err := os.ReadFile(*jwksFile)
		if err != nil {
			return err
		}
		cl.JWKS = raw
		if cl.TokenEndpointAuthMethod == "" {
			cl.TokenEndpointAuthMethod = clients.AuthPrivateKeyJWT
		}
	}
	if *jwksURI != "" && cl.TokenEndpointAuthMethod == "" {
		cl.TokenEndpointAuthMethod = clients.AuthPrivateKeyJWT
	}
	if cl.ID == "" {
		var err error
		if cl.ID, err = clients.NewID(); err != nil {
			return err
		}
	}
	clients.ApplyDefaults(cl)
	if err := clients.Validate(cl); err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	secret := ""
	if cl.TokenEndpointAuthMethod == clients.AuthSecretBasic || cl.TokenEndpointAuthMethod == clients.AuthSecretPost {
		if secret, err = clients.NewSecret(); err != nil {
			return err
		}
		if cl.SecretHash, err = st.Secrets.Hash(ctx, []byte(secret)); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	cl.CreatedAt, cl.UpdatedAt = now, now
	if err := st.DB.CreateClient(ctx, cl); errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("a client with id %q already exists", cl.ID)
	} else if err != nil {
		return err
	}
	return printClient(stdout, cl, secret, *asJSON)
}

func printClient(w io.Writer, c *clients.Client, secret string, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(toJSON(c, secret))
	}
	fmt.Fprintf(w, "client_id:     %s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(w, "client_secret: %s   (shown once; store it now)\n", secret)
	}
	fmt.Fprintf(w, "name:          %s\nauth method:   %s\ngrant types:   %s\nscopes:        %s\nredirect URIs: %s\n",
		c.Name, c.TokenEndpointAuthMethod, strings.Join(c.GrantTypes, " "), strings.Join(c.Scopes, " "),
		strings.Join(c.RedirectURIs, " "))
	return nil
}

func clientsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("clients list", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.DB.ListClients(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]clientJSON, 0, len(list))
		for _, cl := range list {
			out = append(out, toJSON(cl, ""))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tNAME\tAUTH\tGRANTS")
	for _, cl := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cl.ID, cl.Name, cl.TokenEndpointAuthMethod, strings.Join(cl.GrantTypes, ","))
	}
	return tw.Flush()
}

// parseWithArg parses flags that may come before or after the one
// positional argument (a client id): `get ID --json` and `get --json ID`.
func parseWithArg(fs *flag.FlagSet, args []string) (string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return "", errors.New("give exactly one client id")
	}
	return pos[0], nil
}

func clientsGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("clients get", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	id, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	cl, err := findClient(ctx, st, id)
	if err != nil {
		return err
	}
	return printClient(stdout, cl, "", *asJSON)
}

func clientsDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("clients delete", stderr)
	c.register(fs)
	id, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := findClient(ctx, st, id); err != nil {
		return err
	}
	if err := st.DB.DeleteClient(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted client %s\n", id)
	return nil
}

func clientsRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("clients rotate-secret", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	id, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	cl, err := findClient(ctx, st, id)
	if err != nil {
		return err
	}
	if cl.TokenEndpointAuthMethod != clients.AuthSecretBasic && cl.TokenEndpointAuthMethod != clients.AuthSecretPost {
		return fmt.Errorf("client %q authenticates with %s and has no secret", id, cl.TokenEndpointAuthMethod)
	}
	secret, err := clients.NewSecret()
	if err != nil {
		return err
	}
	if cl.SecretHash, err = st.Secrets.Hash(ctx, []byte(secret)); err != nil {
		return err
	}
	cl.UpdatedAt = time.Now().UTC()
	if err := st.DB.UpdateClient(ctx, cl); err != nil {
		return err
	}
	return printClient(stdout, cl, secret, *asJSON)
}

// findClient reads a client, saying plainly when there is none.
func findClient(ctx context.Context, st *app.Stores, id string) (*clients.Client, error) {
	cl, err := st.DB.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no client %q", id)
	}
	return cl, err
}
