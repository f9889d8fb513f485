package apptest

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Browser is a cookie-keeping HTTP client that follows redirects inside
// gosid and stops at any other host (the relying service's redirect_uri).
type Browser struct {
	t      testing.TB
	HTTP   *http.Client
	issuer *url.URL
	// Last is the last page fetched.
	Last *Page
	// Header is sent with every request (e.g. Accept-Language).
	Header http.Header
}

// Page is a fetched response with its body read.
type Page struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
}

// NewBrowser returns a browser for env.
func (e *Env) NewBrowser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	iss, _ := url.Parse(e.URL)
	b := &Browser{t: t, issuer: iss, Header: http.Header{}}
	b.HTTP = &http.Client{
		Jar:       jar,
		Timeout:   30 * time.Second,
		Transport: e.Transport(),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != iss.Host || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

func (b *Browser) do(req *http.Request) *Page {
	b.t.Helper()
	for k, v := range b.Header {
		req.Header[k] = v
	}
	resp, err := b.HTTP.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := &Page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Body: string(body)}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		if u, err := resp.Request.URL.Parse(loc); err == nil {
			p.URL = u
		}
	}
	b.Last = p
	return p
}

// Get fetches u.
func (b *Browser) Get(u string) *Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// Post submits a form to u.
func (b *Browser) Post(u string, form url.Values) *Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// Form is an HTML form found on a page.
type Form struct {
	Action string
	Values url.Values
}

// Form returns the first form on the page whose action ends with action.
func (p *Page) Form(action string) (*Form, error) {
	doc, err := html.Parse(strings.NewReader(p.Body))
	if err != nil {
		return nil, err
	}
	var found *Form
	var walk func(n *html.Node, cur *Form)
	walk = func(n *html.Node, cur *Form) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				if found != nil {
					return
				}
				act := attr(n, "action")
				if strings.HasSuffix(strings.SplitN(act, "?", 2)[0], action) {
					cur = &Form{Action: act, Values: url.Values{}}
					found = cur
				}
			case "input":
				// What a browser sends untouched: hidden fields and the
				// text fields the page filled in.
				if cur == nil || attr(n, "name") == "" {
					break
				}
				switch attr(n, "type") {
				case "hidden":
					cur.Values.Set(attr(n, "name"), attr(n, "value"))
				case "text", "email", "tel", "":
					if v := attr(n, "value"); v != "" {
						cur.Values.Set(attr(n, "name"), v)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, cur)
		}
	}
	walk(doc, nil)
	if found == nil {
		return nil, fmt.Errorf("no form with action %q on %s (status %d)", action, p.URL, p.Status)
	}
	return found, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// Submit fills the named form on the current page and posts it.
func (b *Browser) Submit(action string, fields url.Values) *Page {
	b.t.Helper()
	f, err := b.Last.Form(action)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range fields {
		f.Values[k] = v
	}
	target, err := b.Last.URL.Parse(f.Action)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Post(target.String(), f.Values)
}

// SubmitFile submits the form with action on the last page as
// multipart/form-data, with data as the file field file.
func (b *Browser) SubmitFile(action string, fields url.Values, file, name string, data []byte) *Page {
	b.t.Helper()
	f, err := b.Last.Form(action)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range fields {
		f.Values[k] = v
	}
	target, err := b.Last.URL.Parse(f.Action)
	if err != nil {
		b.t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range f.Values {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile(file, name)
	if err != nil {
		b.t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, target.String(), &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// SignIn opens authURL and, if the sign-in page appears, signs in; if the
// consent page appears it allows. It returns the final redirect (to the
// client) as a URL.
func (b *Browser) SignIn(authURL, login, password string) *url.URL {
	b.t.Helper()
	p := b.Get(authURL)
	if strings.HasSuffix(p.URL.Path, "/login") {
		p = b.Submit("/login", url.Values{"login": {login}, "password": {password}})
	}
	if strings.HasSuffix(p.URL.Path, "/consent") {
		p = b.Submit("/consent", url.Values{"decision": {"allow"}})
	}
	if p.URL.Host == b.issuer.Host {
		b.t.Fatalf("sign-in did not reach the client: status %d at %s\n%s", p.Status, p.URL, excerpt(p.Body))
	}
	return p.URL
}

func excerpt(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "..."
	}
	return s
}
