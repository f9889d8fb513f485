package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func smsText(t *testing.T) Rendered {
	t.Helper()
	r, err := Render(otpTo("+79161234567", "123456"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSMSGatewayPosts(t *testing.T) {
	type req struct {
		method, auth, ctype string
		body                map[string]string
	}
	got := make(chan req, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- req{r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"id":"42"}`)
	}))
	defer srv.Close()
	g, err := NewSMSGateway(SMSOptions{URL: srv.URL + "/send", Token: "s3cret", Sender: "gosid"})
	if err != nil {
		t.Fatal(err)
	}
	r := smsText(t)
	if err := g.Send(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	q := <-got
	if q.method != http.MethodPost || q.auth != "Bearer s3cret" || q.ctype != "application/json" {
		t.Errorf("request %+v", q)
	}
	if q.body["to"] != "+79161234567" || q.body["text"] != r.Text || q.body["sender"] != "gosid" || len(q.body) != 3 {
		t.Errorf("body %v", q.body)
	}
}

func TestSMSGatewayTemplate(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer srv.Close()
	g, err := NewSMSGateway(SMSOptions{URL: srv.URL, Sender: "gosid",
		Template: `{"messages":[{"phone":{{json .To}},"message":{{json .Text}}}],"from":{{json .Sender}}}`})
	if err != nil {
		t.Fatal(err)
	}
	r := Rendered{Channel: ChannelSMS, To: "+79161234567", Text: `Код "1" \ </script>`}
	if err := g.Send(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Messages []struct{ Phone, Message string }
		From     string
	}
	if err := json.Unmarshal([]byte(<-got), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Messages) != 1 || body.Messages[0].Phone != r.To || body.Messages[0].Message != r.Text || body.From != "gosid" {
		t.Errorf("body %+v", body)
	}
}

func TestSMSGatewayOptions(t *testing.T) {
	for name, o := range map[string]SMSOptions{
		"no url":           {},
		"relative url":     {URL: "/send"},
		"ftp":              {URL: "ftp://sms.example/"},
		"broken template":  {URL: "https://sms.example/", Template: `{"to":{{json .To}`},
		"not json":         {URL: "https://sms.example/", Template: `{"to":{{.To}}}`},
		"unknown variable": {URL: "https://sms.example/", Template: `{"to":{{json .Phone}}}`},
	} {
		if _, err := NewSMSGateway(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSMSGatewayErrors(t *testing.T) {
	tests := []struct {
		status    int
		permanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusUnauthorized, true},
		{http.StatusUnprocessableEntity, true},
		{http.StatusTooManyRequests, false},
		{http.StatusRequestTimeout, false},
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
		{http.StatusFound, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == http.StatusFound {
					w.Header().Set("Location", "https://elsewhere.example/")
				}
				w.WriteHeader(tt.status)
				// A huge answer: the error must stay short.
				_, _ = io.WriteString(w, strings.Repeat("ошибка ", 200_000))
			}))
			defer srv.Close()
			g, err := NewSMSGateway(SMSOptions{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			err = g.Send(context.Background(), smsText(t))
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrPermanent) != tt.permanent {
				t.Errorf("permanent=%v: %v", !tt.permanent, err)
			}
			if len(err.Error()) > 700 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

func TestSMSGatewayNetworkErrorsAreRetried(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond)
	}))
	defer slow.Close()
	g, err := NewSMSGateway(SMSOptions{URL: slow.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), smsText(t)); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("timeout: %v", err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	g, err = NewSMSGateway(SMSOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	err = g.Send(context.Background(), smsText(t))
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("connection refused: %v", err)
	}
	if strings.Contains(err.Error(), "123456") {
		t.Errorf("the error carries the code: %v", err)
	}
}

func TestSMSGatewayRefusesEmail(t *testing.T) {
	g, err := NewSMSGateway(SMSOptions{URL: "https://sms.example/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), Rendered{Channel: ChannelEmail, To: "a@example.com"}); !errors.Is(err, ErrPermanent) {
		t.Errorf("%v", err)
	}
}
