package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// DefaultSMSTemplate is the JSON body posted to the SMS operator when
// SMSOptions.Template is empty.
const DefaultSMSTemplate = `{"to":{{json .To}},"text":{{json .Text}},"sender":{{json .Sender}}}`

// SMSOptions configure the SMS gateway adapter.
type SMSOptions struct {
	// URL is the operator's HTTP(S) endpoint; messages are POSTed to it.
	URL string
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token string
	// Sender is the sender name registered with the operator.
	Sender string
	// Timeout bounds one request (10 s when zero).
	Timeout time.Duration
	// Template is a text/template producing the JSON body, for operators
	// whose API differs from DefaultSMSTemplate. Its data has To, Text and
	// Sender; the function json encodes a value as JSON (quotes included).
	Template string
}

// SMSGateway delivers SMS through an operator's HTTP/JSON API: a 2xx answer
// is success, a 4xx one (except 408, 425, 429) a permanent refusal, and a
// 5xx answer or a network failure is retried.
type SMSGateway struct {
	opts   SMSOptions
	body   *template.Template
	client *http.Client
}

// smsResponseCap bounds how much of the operator's answer is read.
const smsResponseCap = 64 << 10

// NewSMSGateway checks opts and returns the adapter.
func NewSMSGateway(opts SMSOptions) (*SMSGateway, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("notify: sms gateway url must be an absolute http(s) URL")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Template == "" {
		opts.Template = DefaultSMSTemplate
	}
	t, err := template.New("sms").Option("missingkey=error").
		Funcs(template.FuncMap{"json": jsonValue}).Parse(opts.Template)
	if err != nil {
		return nil, fmt.Errorf("notify: sms gateway template: %w", err)
	}
	g := &SMSGateway{opts: opts, body: t, client: &http.Client{
		Timeout: opts.Timeout,
		// A redirect would carry the bearer token and the message elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if _, err := g.render(Rendered{Channel: ChannelSMS, To: "+70000000000", Text: "test"}); err != nil {
		return nil, fmt.Errorf("notify: sms gateway template: %w", err)
	}
	return g, nil
}

func jsonValue(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func (g *SMSGateway) render(r Rendered) ([]byte, error) {
	var b bytes.Buffer
	data := struct{ To, Text, Sender string }{r.To, r.Text, g.opts.Sender}
	if err := g.body.Execute(&b, data); err != nil {
		return nil, err
	}
	if !json.Valid(b.Bytes()) {
		return nil, errors.New("the template does not produce valid JSON")
	}
	return b.Bytes(), nil
}

// Send posts r to the operator.
func (g *SMSGateway) Send(ctx context.Context, r Rendered) error {
	if r.Channel != ChannelSMS {
		return permanent(fmt.Errorf("notify: sms gateway cannot send %q", r.Channel))
	}
	if r.To == "" {
		return permanent(errors.New("notify: sms: no recipient"))
	}
	body, err := g.render(r)
	if err != nil {
		return permanent(fmt.Errorf("notify: sms body: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.opts.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: sms request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if g.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.opts.Token)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		// The error names the URL, never the body.
		return fmt.Errorf("notify: sms gateway: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, smsResponseCap))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("notify: sms gateway answered %s: %s", resp.Status, printable(snippet))
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return err
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return permanent(err)
	}
	return err
}

// printable makes an operator's answer safe to put in an error: valid
// UTF-8, one line, short.
func printable(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return s
}
