package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
)

// fakeSender records what it is given; it fails with the errors in fail,
// one per call, before it succeeds.
type fakeSender struct {
	mu    sync.Mutex
	fail  []error
	calls int
	got   []Rendered
	sent  chan Rendered
}

func newFakeSender(fail ...error) *fakeSender {
	return &fakeSender{fail: fail, sent: make(chan Rendered, 100)}
}

func (f *fakeSender) Send(_ context.Context, r Rendered) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return err
	}
	f.got = append(f.got, r)
	f.sent <- r
	return nil
}

func (f *fakeSender) counts() (calls, delivered int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, len(f.got)
}

func TestRouterRoutesByChannel(t *testing.T) {
	email, sms := newFakeSender(), newFakeSender()
	rt := &Router{Email: email, SMS: sms}
	ctx := context.Background()
	if err := rt.Deliver(ctx, otpTo("+79161234567", "111111")); err != nil {
		t.Fatal(err)
	}
	if err := rt.Deliver(ctx, otpTo("ivan@example.com", "222222")); err != nil {
		t.Fatal(err)
	}
	if len(sms.got) != 1 || sms.got[0].To != "+79161234567" || sms.got[0].Subject != "" {
		t.Errorf("sms got %v", sms.got)
	}
	if len(email.got) != 1 || email.got[0].To != "ivan@example.com" || email.got[0].HTML == "" {
		t.Errorf("email got %v", email.got)
	}
	if err := rt.Send(ctx, Rendered{Channel: ChannelSMS, To: "+79160000000", Text: "x"}); err != nil || len(sms.got) != 2 {
		t.Errorf("Send: %v, %d", err, len(sms.got))
	}
}

func TestRouterOutbox(t *testing.T) {
	ctx := context.Background()
	sms := newFakeSender(errors.New("gateway down"))
	o := NewOutbox(10, slog.New(slog.DiscardHandler))
	rt := &Router{SMS: sms, Outbox: o}

	if err := rt.Deliver(ctx, otpTo("+79161234567", "111111")); err == nil {
		t.Fatal("a failed send succeeded")
	}
	if len(o.List()) != 0 {
		t.Error("a message that was not sent is in the outbox")
	}
	if err := rt.Deliver(ctx, otpTo("+79161234567", "222222")); err != nil {
		t.Fatal(err)
	}
	if e, ok := o.Latest("+79161234567"); !ok || e.Message.Data["code"] != "222222" {
		t.Errorf("sent message not recorded: %+v", e)
	}
	// No e-mail sender: development mode, the outbox alone receives it.
	if err := rt.Deliver(ctx, otpTo("ivan@example.com", "333333")); err != nil {
		t.Fatal(err)
	}
	if e, ok := o.Latest("ivan@example.com"); !ok || e.Message.Data["code"] != "333333" || e.Subject == "" {
		t.Errorf("outbox-only message: %+v", e)
	}
}

// A decoy renders (a decoy that could not render is refused as any
// message) and reaches neither a sender nor the outbox.
func TestRouterAndOutboxDropDecoys(t *testing.T) {
	ctx := context.Background()
	sms := newFakeSender()
	o := NewOutbox(10, slog.New(slog.DiscardHandler))
	rt := &Router{SMS: sms, Outbox: o}
	m := otpTo("+79161234567", "000000")
	m.Decoy = true
	if err := rt.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := o.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	if calls, _ := sms.counts(); calls != 0 || len(o.List()) != 0 {
		t.Errorf("a decoy went out: %d sends, %d in the outbox", calls, len(o.List()))
	}
	bad := Message{Channel: ChannelSMS, To: "+79161234567", Template: "no-such-template", Decoy: true}
	if err := rt.Deliver(ctx, bad); err == nil {
		t.Error("a decoy that cannot render was accepted")
	}
}

func TestRouterPermanentFailures(t *testing.T) {
	ctx := context.Background()
	rt := &Router{SMS: newFakeSender()}
	for name, m := range map[string]Message{
		"no sender":       otpTo("ivan@example.com", "1"),
		"unknown":         {Channel: ChannelSMS, To: "+79161234567", Template: "nope"},
		"missing data":    {Channel: ChannelSMS, To: "+79161234567", Template: "otp"},
		"unknown channel": {Channel: "fax", To: "+79161234567", Template: "otp", Data: map[string]string{"code": "1", "minutes": "5"}},
	} {
		if err := rt.Deliver(ctx, m); !errors.Is(err, ErrPermanent) {
			t.Errorf("%s: %v, want ErrPermanent", name, err)
		}
	}
	retry := errors.New("try later")
	rt = &Router{SMS: newFakeSender(retry)}
	if err := rt.Deliver(ctx, otpTo("+79161234567", "1")); !errors.Is(err, retry) || errors.Is(err, ErrPermanent) {
		t.Errorf("sender error %v", err)
	}
}
