package provider

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosid/gosid/clients"
)

// CORS (Fetch standard) for browser-based clients: a single-page app that
// runs the code flow with PKCE calls the token, userinfo, revocation and
// PAR endpoints from its own origin, and reads discovery and the key set.
//
//   - Discovery, RFC 8414 metadata and the JWKS are public documents that
//     carry nothing about anyone: any origin may read them
//     ("Access-Control-Allow-Origin: *"), as OpenID Connect Discovery
//     providers commonly serve them.
//   - The token, userinfo, revocation and PAR endpoints answer only the
//     origins of a registered client: those of its http(s) redirect URIs
//     and its allowed_cors_origins (clients.Client.CORSOrigins). A
//     preflight names no client, so it is allowed for an origin some client
//     registered; the response itself carries the headers only when the
//     origin belongs to the client the request is for (its client_id, its
//     Basic credentials, or the client of its access token). A request that
//     names no client gets them for a registered origin, so that the app
//     can read the error.
//   - Credentials mode is never allowed: these endpoints take no cookies
//     (clients authenticate with PKCE, a form parameter or a header).
//   - Every other endpoint (authorize, logout, introspection, the pages)
//     stays closed: a browser navigates to the pages, and introspection is
//     for servers.

// corsMaxAge is how long (seconds) a browser may cache a preflight answer.
const corsMaxAge = "600"

// corsIndexTTL bounds how long an origin added to a client takes to be
// allowed in preflights on this node, and how often an unknown origin can
// make the node list the clients again; corsIndexMaxAge how long a removed
// one stays allowed in preflights (a response still needs its client).
const (
	corsIndexTTL    = time.Second
	corsIndexMaxAge = 5 * time.Second
)

// originIndex knows every registered origin, rebuilt from the client store
// on a miss (at most once per corsIndexTTL) and when older than
// corsIndexMaxAge. Lookups do not wait for a rebuild in progress.
type originIndex struct {
	store clients.Store
	now   func() time.Time

	mu  sync.Mutex // one rebuild at a time
	cur atomic.Pointer[originSet]
}

type originSet struct {
	built   time.Time
	origins map[string]bool
}

// known reports whether some client registered origin. A store that fails
// leaves the last index in place.
func (x *originIndex) known(ctx context.Context, origin string) bool {
	if s := x.cur.Load(); s != nil {
		age := x.now().Sub(s.built)
		if s.origins[origin] && age < corsIndexMaxAge || !s.origins[origin] && age < corsIndexTTL {
			return s.origins[origin]
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if s := x.cur.Load(); s != nil && x.now().Sub(s.built) < corsIndexTTL {
		return s.origins[origin] // rebuilt meanwhile
	}
	all, err := x.store.ListClients(ctx)
	if err != nil {
		if s := x.cur.Load(); s != nil {
			return s.origins[origin]
		}
		return false
	}
	m := map[string]bool{}
	for _, c := range all {
		for _, o := range c.CORSOrigins() {
			m[o] = true
		}
	}
	x.cur.Store(&originSet{built: x.now(), origins: m})
	return m[origin]
}

// corsKey holds, in a request's context, the client a CORS endpoint's
// handler found the request to be for.
type corsKey struct{}

// setCORSClient tells the CORS layer which client the request is for, once
// the handler knows it (the client of an access token, an authenticated
// client).
func setCORSClient(ctx context.Context, clientID string) {
	if p, ok := ctx.Value(corsKey{}).(*string); ok && clientID != "" {
		*p = clientID
	}
}

// publicCORS opens a public document to every origin.
func publicCORS(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			if r.Method == http.MethodOptions {
				w.Header().Set("Allow", "GET, HEAD, OPTIONS")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
			if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
				w.Header().Set("Access-Control-Allow-Headers", rh)
			}
			w.Header().Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}
}

// clientCORS opens an endpoint to the origins of the client each request is
// for (see the comment at the top of this file). methods are the
// endpoint's own, such as "POST".
func (p *Provider) clientCORS(methods string, h http.HandlerFunc) http.HandlerFunc {
	allowHeaders := "Authorization, Content-Type, DPoP"
	return func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if r.Method == http.MethodOptions {
			w.Header().Add("Vary", "Origin")
			w.Header().Set("Allow", methods+", OPTIONS")
			if origin != "" && p.origins.known(r.Context(), origin) &&
				strings.Contains(", "+methods+",", ", "+r.Header.Get("Access-Control-Request-Method")+",") &&
				allowedRequestHeaders(r.Header.Get("Access-Control-Request-Headers")) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Allow-Methods", methods)
				w.Header().Set("Access-Control-Allow-Headers", allowHeaders)
				w.Header().Set("Access-Control-Max-Age", corsMaxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Add("Vary", "Origin")
		if origin == "" {
			h(w, r)
			return
		}
		var clientID string
		r = r.WithContext(context.WithValue(r.Context(), corsKey{}, &clientID))
		cw := &corsWriter{ResponseWriter: w, decide: func() {
			if p.corsAllowed(r, origin, clientID) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce")
			}
		}}
		h(cw, r)
		cw.once()
	}
}

// allowedRequestHeaders: a preflight may ask only for the headers these
// endpoints read (CORS-safelisted ones need no asking).
func allowedRequestHeaders(list string) bool {
	for h := range strings.SplitSeq(list, ",") {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "", "authorization", "content-type", "dpop":
		default:
			return false
		}
	}
	return true
}

// corsAllowed decides the actual (not preflight) request: the origin must
// be the client's. The client is the one the handler found (setCORSClient),
// or else the one the request names in client_id or Basic credentials (the
// handler has parsed the form by now); with no client at all, any
// registered origin. An unknown client's request gets none.
func (p *Provider) corsAllowed(r *http.Request, origin, found string) bool {
	id := found
	if id == "" {
		if user, _, ok := r.BasicAuth(); ok {
			id = user
		} else if r.PostForm != nil {
			id = r.PostForm.Get("client_id")
		}
	}
	if id == "" {
		return p.origins.known(r.Context(), origin)
	}
	c, err := p.o.Clients.GetClient(r.Context(), id)
	if err != nil {
		return false
	}
	return slices.Contains(c.CORSOrigins(), origin)
}

// corsWriter adds the CORS response headers just before the handler's
// answer goes out, when the handler has learnt whose request it is.
type corsWriter struct {
	http.ResponseWriter
	decide func()
	done   bool
}

func (w *corsWriter) once() {
	if !w.done {
		w.done = true
		w.decide()
	}
}

func (w *corsWriter) WriteHeader(code int) {
	w.once()
	w.ResponseWriter.WriteHeader(code)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	w.once()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *corsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
