package web

import (
	"net/http"
	"strings"
	"time"
)

// hostPrefix binds a cookie to the exact host, over https, for every path:
// a sibling subdomain or a plain-http response cannot plant or overwrite it.
const hostPrefix = "__Host-"

// CookieName is the name of a gosid cookie: base with the __Host- prefix
// when the issuer is https.
func (r *Renderer) CookieName(base string) string {
	if r.opts.Secure && !strings.HasPrefix(base, hostPrefix) {
		return hostPrefix + base
	}
	return base
}

// SetCookie sets a gosid cookie: HttpOnly, SameSite=Lax, Path=/, Secure and
// __Host- prefixed when the issuer is https (name may be a base name or the
// result of CookieName). A maxAge of zero or less makes a browser-session
// cookie.
func (r *Renderer) SetCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	r.setCookie(w, r.CookieName(name), value, maxAge)
}

// ClearCookie removes a cookie set by SetCookie.
func (r *Renderer) ClearCookie(w http.ResponseWriter, name string) {
	c := r.cookie(r.CookieName(name), "")
	c.MaxAge = -1
	c.Expires = time.Unix(1, 0)
	http.SetCookie(w, c)
}

// setCookie sets a cookie under exactly name.
func (r *Renderer) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := r.cookie(name, value)
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = time.Now().Add(maxAge).UTC()
	}
	http.SetCookie(w, c)
}

func (r *Renderer) cookie(name, value string) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/",
		HttpOnly: true, Secure: r.opts.Secure, SameSite: http.SameSiteLaxMode,
	}
}

// responseCookie returns the value of a cookie already set on w in this
// response, so that two calls in one request agree.
func responseCookie(w http.ResponseWriter, name string) (string, bool) {
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name && c.MaxAge >= 0 {
			return c.Value, true
		}
	}
	return "", false
}
