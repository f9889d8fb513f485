package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// csrfCookie is the base name of the per-browser CSRF cookie.
const csrfCookie = "gosid_csrf"

// CSRFField is the form field that carries the token.
const CSRFField = "csrf_token"

// csrfSecretLen is the size of the random cookie value, in bytes.
const csrfSecretLen = 32

// CSRFToken returns the token for this browser's forms, setting the CSRF
// cookie (a random value for the browser session) when the browser has
// none. The token is an HMAC of the cookie value, so a page never carries
// the cookie itself, and an attacker who cannot read or set the
// cookie cannot forge it.
func (r *Renderer) CSRFToken(w http.ResponseWriter, req *http.Request) string {
	name := r.CookieName(csrfCookie)
	if v, ok := responseCookie(w, name); ok && validSecret(v) {
		return r.csrfMAC(v)
	}
	if c, err := req.Cookie(name); err == nil && validSecret(c.Value) {
		return r.csrfMAC(c.Value)
	}
	b := make([]byte, csrfSecretLen)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	v := base64.RawURLEncoding.EncodeToString(b)
	r.setCookie(w, name, v, 0)
	return r.csrfMAC(v)
}

// CheckCSRF reports whether the csrf_token form field matches this
// browser's CSRF cookie.
func (r *Renderer) CheckCSRF(req *http.Request) bool {
	return r.validCSRF(req, req.PostFormValue(CSRFField))
}

// validCSRF reports whether token is the form token of this browser's
// CSRF cookie.
func (r *Renderer) validCSRF(req *http.Request, token string) bool {
	c, err := req.Cookie(r.CookieName(csrfCookie))
	if err != nil || !validSecret(c.Value) || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(r.csrfMAC(c.Value)))
}

func (r *Renderer) csrfMAC(secret string) string {
	m := hmac.New(sha256.New, r.opts.CSRFKey)
	m.Write([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func validSecret(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == csrfSecretLen
}
