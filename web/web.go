// Package web renders gosid's hosted pages: server-side html/template pages
// inside one layout, embedded static assets, Russian and English
// translations, CSRF tokens and the cookie conventions every page shares.
//
// Everything the pages need is embedded in the binary; a page never asks a
// third party for anything (no CDN, no web fonts), and it works without
// JavaScript.
package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/gosid/gosid/claimsreq"
)

//go:embed templates static i18n
var files embed.FS

// Options configure a Renderer.
type Options struct {
	// Dev shows the development banner on pages the Renderer builds itself
	// (error pages).
	Dev bool
	// Secure is true when the issuer is https: cookies get the Secure flag
	// and the __Host- prefix.
	Secure bool
	// CSRFKey keys the HMAC that turns the CSRF cookie into the form token.
	// At least 32 bytes, derived by the caller for this purpose only.
	CSRFKey []byte
	// Logger receives template and translation failures; nil discards.
	Logger *slog.Logger
	// Location is the zone pages and notices show times in; nil is
	// Moscow time.
	Location *time.Location
}

// Renderer renders pages. It is safe for concurrent use.
type Renderer struct {
	opts   Options
	log    *slog.Logger
	tr     translations
	static *staticFiles
	// pages holds, per language, one template set per page (the layout
	// plus the page), with t bound to that language.
	pages map[string]map[string]*template.Template
}

// New parses the embedded templates and translations.
func New(opts Options) (*Renderer, error) {
	if len(opts.CSRFKey) < 32 {
		return nil, errors.New("web: CSRF key must be at least 32 bytes")
	}
	if opts.Location == nil {
		opts.Location = Moscow
	}
	r := &Renderer{opts: opts, log: opts.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if r.tr, err = loadTranslations(files); err != nil {
		return nil, err
	}
	if r.static, err = loadStatic(files); err != nil {
		return nil, err
	}
	if r.pages, err = r.parsePages(); err != nil {
		return nil, err
	}
	return r, nil
}

// Page names are the template files under templates/ other than the shared
// ones.
var sharedTemplates = map[string]bool{"layout.html": true, "partials.html": true}

func (r *Renderer) parsePages() (map[string]map[string]*template.Template, error) {
	entries, err := fs.ReadDir(files, "templates")
	if err != nil {
		return nil, fmt.Errorf("web: read templates: %w", err)
	}
	out := map[string]map[string]*template.Template{}
	for _, lang := range languages {
		out[lang] = map[string]*template.Template{}
		funcs := r.funcs(lang)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".html") || sharedTemplates[name] {
				continue
			}
			t, err := template.New("layout.html").Funcs(funcs).ParseFS(files,
				"templates/layout.html", "templates/partials.html", path.Join("templates", name))
			if err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", name, err)
			}
			out[lang][strings.TrimSuffix(name, ".html")] = t
		}
	}
	return out, nil
}

// funcs are the template functions, with t bound to lang.
func (r *Renderer) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) string { return r.T(lang, key, args...) },
		// asset is the versioned URL of a static file: the version changes
		// with the content, so the file can be cached for a year.
		"asset":     r.static.url,
		"altLang":   func() string { return otherLang(lang) },
		"fields":    func(v any) []Field { return fieldsOf(func(t time.Time) string { return r.DateTime(lang, t) }, v) },
		"dict":      dict,
		"list":      func(v ...string) []string { return v },
		"consent":   func(entry string) string { return r.consentEntry(lang, entry) },
		"countries": func() []CountryOption { return countries(lang) },
		// datetime and date show a time in the deployment's zone:
		// «03.12.2026 11:12 МСК», «03.12.2026».
		"datetime": func(v any) string { return r.DateTime(lang, timeOf(v)) },
		"date":     func(v any) string { return r.Date(timeOf(v)) },
	}
}

// consentEntry names one entry of a remembered consent in words: a scope
// by its title, a claim agreed to on its own by its label; an entry with no
// translation (a service's own scope) as it is.
func (r *Renderer) consentEntry(lang, entry string) string {
	key := "scope." + entry + ".title"
	if claimsreq.IsItem(entry) {
		key = claimsreq.LabelKey(entry)
	}
	if s, ok := r.tr[normLang(lang)][key]; ok {
		return s
	}
	return entry
}

// dict builds the argument of a partial template from key, value pairs.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("web: dict needs key, value pairs")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("web: dict key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
