package web

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// ContentSecurityPolicy is sent with every page. There is deliberately no
// form-action: Chrome applies it to the redirect that follows a form POST,
// which would block the redirect back to a relying service.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"

// pageData is any page data that embeds Page.
type pageData interface{ basePage() *Page }

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render writes the named page (templates/<page>.html inside the layout)
// with status. data must embed Page (a pointer lets Render fill Lang and
// AltLangURL in place). The page is rendered into a buffer first: a
// template failure becomes a clean 500 page, never half a page.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, page string, data any) {
	data, p := pageOf(data)
	if !isLang(p.Lang) {
		p.Lang = Lang(req)
	}
	if l := req.URL.Query().Get("lang"); isLang(l) {
		r.SetLang(w, req, l)
	}
	if p.AltLangURL == "" {
		p.AltLangURL = altLangURL(req, page, otherLang(p.Lang))
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		buffers.Put(buf)
	}()
	t, ok := r.pages[p.Lang][page]
	if !ok {
		r.log.Error("web: unknown page", "page", page)
		r.renderFailure(w, req, p.Lang)
		return
	}
	if err := t.Execute(buf, data); err != nil {
		r.log.Error("web: render page", "page", page, "err", err)
		r.renderFailure(w, req, p.Lang)
		return
	}
	if len(p.FrameSrc) > 0 {
		w.Header().Set("Content-Security-Policy", ContentSecurityPolicy+"; frame-src "+strings.Join(p.FrameSrc, " "))
	}
	r.write(w, req, status, p.Lang, buf.Bytes())
}

// Error renders the generic error page. retryURL, when not empty, is the
// «Начать заново» link.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, status int, titleKey, messageKey, retryURL string) {
	r.Render(w, req, status, "error", &ErrorData{
		Page:     Page{Lang: Lang(req), Dev: r.opts.Dev},
		TitleKey: titleKey, MessageKey: messageKey, RetryURL: retryURL,
	})
}

// renderFailure answers 500 after a page failed to render. It does not go
// through Render again, so a broken error template cannot loop.
func (r *Renderer) renderFailure(w http.ResponseWriter, req *http.Request, lang string) {
	data := &ErrorData{Page: Page{Lang: lang, Dev: r.opts.Dev}, TitleKey: "error.title", MessageKey: "error.generic"}
	var buf bytes.Buffer
	if t, ok := r.pages[lang]["error"]; ok && t.Execute(&buf, data) == nil {
		r.write(w, req, http.StatusInternalServerError, lang, buf.Bytes())
		return
	}
	body := "<!DOCTYPE html><html lang=\"" + lang + "\"><meta charset=\"utf-8\"><title>500</title><p>" +
		r.T(lang, "error.generic") + "</p></html>"
	r.write(w, req, http.StatusInternalServerError, lang, []byte(body))
}

func (r *Renderer) write(w http.ResponseWriter, req *http.Request, status int, lang string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// pageOf returns data (as a pointer when it was a struct value) and its
// embedded Page. Data without a Page gets a detached one, which is enough
// for nil data.
func pageOf(data any) (any, *Page) {
	if d, ok := data.(pageData); ok {
		return d, d.basePage()
	}
	if data != nil {
		v := reflect.ValueOf(data)
		if v.Kind() == reflect.Struct {
			ptr := reflect.New(v.Type())
			ptr.Elem().Set(v)
			if d, ok := ptr.Interface().(pageData); ok {
				return d, d.basePage()
			}
		}
		return data, &Page{}
	}
	p := &Page{}
	return p, p
}

// altLangURL is this page in lang: the same URL for a GET; for a form
// post, the page the form came from (its path and flow), which the
// message and error pages that end a post do not have.
func altLangURL(req *http.Request, page, lang string) string {
	// A path of "//host" would make a link to another site.
	p := "/" + strings.TrimLeft(req.URL.EscapedPath(), "/\\")
	var q url.Values
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		q = req.URL.Query()
	default:
		if page == "message" || page == "error" || page == "unavailable" {
			return ""
		}
		q = url.Values{}
		if f := req.PostForm.Get("flow"); f != "" {
			q.Set("flow", f)
		}
	}
	q.Set("lang", lang)
	return p + "?" + q.Encode()
}
