package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The languages of the pages; the first is the default.
var languages = []string{"ru", "en"}

// DefaultLang is the language of a citizen who has not chosen one.
const DefaultLang = "ru"

// LangCookie remembers the language a citizen chose.
const LangCookie = "lang"

// langCookieAge keeps the choice for a year.
const langCookieAge = 365 * 24 * time.Hour

// translations maps a language to its flat key → text table.
type translations map[string]map[string]string

func loadTranslations(fsys fs.FS) (translations, error) {
	tr := translations{}
	for _, lang := range languages {
		raw, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("web: read translations: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("web: parse i18n/%s.json: %w", lang, err)
		}
		tr[lang] = m
	}
	return tr, nil
}

// T returns the text of key in lang (falling back to Russian, then to the
// key itself), formatted with args when the text has verbs. Texts without
// verbs ignore args, so callers may pass context a language does not use.
func (r *Renderer) T(lang, key string, args ...any) string {
	s, ok := r.tr[normLang(lang)][key]
	if !ok {
		if s, ok = r.tr[DefaultLang][key]; !ok {
			r.log.Warn("web: missing translation", "lang", lang, "key", key)
			return key
		}
	}
	if len(args) == 0 || !strings.Contains(s, "%") {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Lang is the language of the page for r: the lang query parameter, else
// the lang cookie, else the best of ru and en in Accept-Language, else ru.
func Lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); isLang(l) {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil && isLang(c.Value) {
		return c.Value
	}
	if l := acceptLanguage(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return DefaultLang
}

// Lang is the package function Lang, for callers holding a Renderer.
func (r *Renderer) Lang(req *http.Request) string { return Lang(req) }

// SetLang remembers lang (ru or en; anything else is ignored) in the lang
// cookie.
func (r *Renderer) SetLang(w http.ResponseWriter, req *http.Request, lang string) {
	if !isLang(lang) {
		return
	}
	if c, err := req.Cookie(LangCookie); err == nil && c.Value == lang {
		return
	}
	r.setCookie(w, LangCookie, lang, langCookieAge)
}

func isLang(l string) bool { return l == "ru" || l == "en" }

func normLang(l string) string {
	if isLang(l) {
		return l
	}
	return DefaultLang
}

func otherLang(l string) string {
	if l == "en" {
		return "ru"
	}
	return "en"
}

// acceptLanguage picks ru or en from an Accept-Language header by quality
// (earlier wins a tie), or "" when neither is acceptable.
func acceptLanguage(h string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if !isLang(primary) {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(k) == "q" {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}
