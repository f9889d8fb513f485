package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is an in-process SMTP server: STARTTLS when tls is set, AUTH
// PLAIN when user is set (offered only over TLS unless insecureAuth).
type mailServer struct {
	addr       string
	host       string
	port       int
	user, pass string

	mu       sync.Mutex
	mail     []received
	authSeen int // AUTH exchanges that carried credentials
}

type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed bool
}

type mailServerOptions struct {
	tls          bool
	user, pass   string
	insecureAuth bool
}

func startMailServer(t *testing.T, o mailServerOptions) *mailServer {
	t.Helper()
	ms := &mailServer{user: o.user, pass: o.pass}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{ms: ms, conn: c}, nil
	}))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = o.insecureAuth
	if o.tls {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}, MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	ms.addr = l.Addr().String()
	ms.host = "127.0.0.1"
	ms.port = l.Addr().(*net.TCPAddr).Port
	return ms
}

func (ms *mailServer) received() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.mail...)
}

type mailSession struct {
	ms     *mailServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.ms.mu.Lock()
		s.ms.authSeen++
		s.ms.mu.Unlock()
		if user != s.ms.user || pass != s.ms.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.ms.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, "nobody@"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox: " + to}
	case strings.HasPrefix(to, "busy@"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	s.ms.mail = append(s.ms.mail, received{from: s.from, to: s.to, data: b, tls: isTLS, authed: s.authed})
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestSMTPSenderDeliversAConfirmationLetter(t *testing.T) {
	ms := startMailServer(t, mailServerOptions{tls: true, user: "gosid", pass: "mail-pass"})
	s, err := NewSMTPSender(SMTPOptions{
		Host: ms.host, Port: ms.port, Username: "gosid", Password: "mail-pass",
		From: "gosid <no-reply@gosid.test>", Timeout: 5 * time.Second, InsecureSkipVerify: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	link := "https://id.example/register/link?token=abc_DEF-123&flow=7"
	r, err := Render(Message{Channel: ChannelEmail, To: "ivan.petrov@example.com", Template: "email_confirm", Lang: "ru",
		Data: map[string]string{"code": "604218", "link": link, "minutes": "10", "hours": "24"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), r); err != nil {
		t.Fatal(err)
	}

	got := ms.received()
	if len(got) != 1 {
		t.Fatalf("%d letters delivered", len(got))
	}
	letter := got[0]
	if !letter.tls || !letter.authed {
		t.Errorf("delivered with tls=%v auth=%v", letter.tls, letter.authed)
	}
	if letter.from != "no-reply@gosid.test" || len(letter.to) != 1 || letter.to[0] != "ivan.petrov@example.com" {
		t.Errorf("envelope %s → %v", letter.from, letter.to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(letter.data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Подтвердите адрес электронной почты" {
		t.Errorf("subject %q (raw %q)", subject, msg.Header.Get("Subject"))
	}
	if from, err := msg.Header.AddressList("From"); err != nil || from[0].Address != "no-reply@gosid.test" || from[0].Name != "gosid" {
		t.Errorf("From %v %v", from, err)
	}
	if id := msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@gosid.test>") {
		t.Errorf("Message-ID %q", id)
	}
	if d, err := msg.Header.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %v %v", d, err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, ctParams, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil || !strings.EqualFold(ctParams["charset"], "utf-8") {
			t.Errorf("part Content-Type %q", p.Header.Get("Content-Type"))
		}
		body, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		parts[ct] = string(body)
	}
	text, html := parts["text/plain"], parts["text/html"]
	if len(parts) != 2 || text == "" || html == "" {
		t.Fatalf("parts %v", parts)
	}
	for _, want := range []string{"604218", link, "Код действует 10 минут", "Ссылка действует 24 часа"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"604218", `href="` + strings.ReplaceAll(link, "&", "&amp;") + `"`, `<html lang="ru">`} {
		if !strings.Contains(html, want) {
			t.Errorf("html part lacks %q:\n%s", want, html)
		}
	}
}

func TestSMTPStartTLSIsMandatory(t *testing.T) {
	ms := startMailServer(t, mailServerOptions{})
	s, err := NewSMTPSender(SMTPOptions{Host: ms.host, Port: ms.port, From: "no-reply@gosid.test", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := Rendered{Channel: ChannelEmail, To: "ivan@example.com", Subject: "s", Text: "code 111111"}
	err = s.Send(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sent without STARTTLS: %v", err)
	}
	if errors.Is(err, ErrPermanent) {
		t.Error("a server without STARTTLS is a configuration fault, to be retried, not the message's")
	}
	if n := len(ms.received()); n != 0 {
		t.Errorf("%d letters reached a server without TLS", n)
	}

	// Opportunistic TLS sends in clear to such a server.
	s, err = NewSMTPSender(SMTPOptions{Host: ms.host, Port: ms.port, From: "no-reply@gosid.test", TLS: "opportunistic", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := ms.received(); len(got) != 1 || got[0].tls {
		t.Errorf("received %+v", got)
	}
}

func TestSMTPNeverSendsThePasswordInClear(t *testing.T) {
	ms := startMailServer(t, mailServerOptions{user: "gosid", pass: "mail-pass", insecureAuth: true})
	s, err := NewSMTPSender(SMTPOptions{Host: ms.host, Port: ms.port, Username: "gosid", Password: "mail-pass",
		From: "no-reply@gosid.test", TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Rendered{Channel: ChannelEmail, To: "ivan@example.com", Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("authenticated over plain text")
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.authSeen != 0 {
		t.Error("the password crossed a plain-text connection")
	}
	if n := len(ms.mail); n != 0 {
		t.Errorf("%d letters delivered", n)
	}
}

func TestSMTPRefusals(t *testing.T) {
	ms := startMailServer(t, mailServerOptions{tls: true, user: "gosid", pass: "mail-pass"})
	opts := SMTPOptions{Host: ms.host, Port: ms.port, Username: "gosid", Password: "mail-pass",
		From: "no-reply@gosid.test", Timeout: 5 * time.Second, InsecureSkipVerify: true}
	s, err := NewSMTPSender(opts)
	if err != nil {
		t.Fatal(err)
	}
	send := func(to string) error {
		return s.Send(context.Background(), Rendered{Channel: ChannelEmail, To: to, Subject: "s", Text: "t"})
	}
	for _, to := range []string{"nobody@example.com", "not an address", "a@example.com, b@example.com", "<a@example.com>"} {
		if err := send(to); !errors.Is(err, ErrPermanent) {
			t.Errorf("%q: %v, want ErrPermanent", to, err)
		}
	}
	if err := send("busy@example.com"); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("451: %v, want a retryable error", err)
	}
	opts.Password = "wrong"
	s, _ = NewSMTPSender(opts)
	if err := send("ivan@example.com"); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("bad credentials: %v, want a retryable error", err)
	}
	if n := len(ms.received()); n != 0 {
		t.Errorf("%d letters delivered", n)
	}
	if err := s.Send(context.Background(), Rendered{Channel: ChannelSMS, To: "+79161234567", Text: "t"}); !errors.Is(err, ErrPermanent) {
		t.Errorf("SMS through SMTP: %v", err)
	}
}

func TestSMTPOptions(t *testing.T) {
	for name, o := range map[string]SMTPOptions{
		"no host":  {From: "a@example.com"},
		"no from":  {Host: "mx.example"},
		"bad tls":  {Host: "mx.example", From: "a@example.com", TLS: "ssl"},
		"bad from": {Host: "mx.example", From: "gosid"},
	} {
		if _, err := NewSMTPSender(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for tlsMode, port := range map[string]int{"": 587, "starttls": 587, "opportunistic": 587, "none": 587, "tls": 465} {
		s, err := NewSMTPSender(SMTPOptions{Host: "mx.example", From: "a@example.com", TLS: tlsMode})
		if err != nil || s.opts.Port != port {
			t.Errorf("%q: port %d, %v", tlsMode, s.opts.Port, err)
		}
	}
}
