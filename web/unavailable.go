package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// UnavailableData is the page of a request that failed because a store is
// away (503). When the request posted one of gosid's forms, the page gives
// it back as a form that posts to the same address again, so that the
// citizen loses nothing they typed: the fields refilled, passwords and
// codes to be typed again (never echoed).
type UnavailableData struct {
	Page
	// Action is where the kept form posts ("" when no form is kept).
	Action string
	// Fields are the kept form's fields in the order they were sent.
	Fields []KeptField
	// RetryURL reloads a page that failed to load.
	RetryURL string
}

// KeptField is one field of a kept form.
type KeptField struct {
	Name  string
	Value string
	// Label is the translation key of the field's label; a field without
	// one is kept as a hidden field (the flow, the button pressed, a choice).
	Label string
	// Retype marks a secret (a password, a code): shown empty, to be typed
	// again; Type is its input type.
	Retype bool
	Type   string
}

// Bounds on a kept form: the page never grows with what a request sends.
const (
	maxKeptFields = 40
	maxKeptName   = 64
	maxKeptValue  = 1024
)

// Unavailable renders the 503 page. form is the urlencoded body the
// request posted ("" for none). The form comes back only when it was
// posted from gosid's pages in this browser (its CSRF token holds): the
// page is never a way for another site to fill a form a citizen then
// sends.
func (r *Renderer) Unavailable(w http.ResponseWriter, req *http.Request, form string) {
	d := &UnavailableData{Page: Page{Lang: Lang(req), Dev: r.opts.Dev}}
	p := "/" + strings.TrimLeft(req.URL.EscapedPath(), "/\\")
	if req.URL.RawQuery != "" {
		p += "?" + req.URL.RawQuery
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		d.RetryURL = p
	default:
		if fields, token := r.keptFields(form); token != "" && r.validCSRF(req, token) {
			d.Action, d.Fields, d.CSRF = p, fields, token
		}
	}
	r.Render(w, req, http.StatusServiceUnavailable, "unavailable", d)
}

// keptFields parses a urlencoded form in order and returns the fields to
// give back and the form's CSRF token. Fields that are malformed or over
// the bounds are dropped (the citizen types them again); secrets are kept
// empty; the CSRF token is the page's own.
func (r *Renderer) keptFields(form string) ([]KeptField, string) {
	var (
		out   []KeptField
		token string
		seen  = map[string]int{}
	)
	for _, pair := range strings.Split(form, "&") {
		k, v, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || !keptName(name) || !keptValue(value) {
			continue
		}
		if name == CSRFField {
			token = value
			continue
		}
		if len(out) == maxKeptFields {
			break
		}
		seen[name]++
		f := KeptField{Name: name, Value: value, Label: r.labelKey(name)}
		if secretField(name) {
			if f.Label == "" || seen[name] > 1 {
				continue // nothing to type it into: it cannot be kept
			}
			f.Value, f.Retype, f.Type = "", true, "text"
			if strings.Contains(name, "password") {
				f.Type = "password"
			}
		}
		out = append(out, f)
	}
	// A name sent more than once (a group of choices) stays hidden.
	for i := range out {
		if seen[out[i].Name] > 1 {
			out[i].Label = ""
		}
	}
	return out, token
}

func keptName(s string) bool {
	if s == "" || len(s) > maxKeptName {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func keptValue(s string) bool {
	if len(s) > maxKeptValue || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// secretField reports whether a field holds something never written back
// into a page: a password, a one-time or recovery code, a token, a
// security key's answer.
func secretField(name string) bool {
	for _, s := range []string{"password", "token", "secret", "credential"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return name == "code" || name == "recovery_code"
}

// choiceFields have a label but are not typed: they stay hidden.
var choiceFields = map[string]bool{"consent": true, "sex": true}

// specialLabels are the labels of fields whose page names them otherwise.
var specialLabels = map[string]string{"login": "login.field.login", "recovery_code": "mfa.recovery.code"}

// labelKey is the translation key of a field's label on gosid's pages, or
// "" for a field with none.
func (r *Renderer) labelKey(name string) string {
	if choiceFields[name] {
		return ""
	}
	if k, ok := specialLabels[name]; ok {
		return k
	}
	candidates := []string{"field." + name}
	if _, rest, ok := strings.Cut(name, "_"); ok {
		// Address and document fields are named prefix_field.
		candidates = append(candidates, "field.address."+rest, "field.doc."+rest)
	}
	for _, k := range candidates {
		if _, ok := r.tr[DefaultLang][k]; ok {
			return k
		}
	}
	return ""
}
