package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gosid/gosid/internal/testenv"
)

func testLogger(w *testenv.SyncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func otpTo(to string, code string) Message {
	ch := ChannelSMS
	if strings.Contains(to, "@") {
		ch = ChannelEmail
	}
	return Message{Channel: ch, To: to, Template: "otp", Lang: "ru",
		Data: map[string]string{"code": code, "minutes": "5", "purpose": "login"}}
}

func TestOutboxKeepsTheNewest(t *testing.T) {
	o := NewOutbox(3, slog.New(slog.DiscardHandler))
	if len(o.List()) != 0 {
		t.Fatal("new outbox not empty")
	}
	for i := 1; i <= 5; i++ {
		if err := o.Enqueue(context.Background(), otpTo(fmt.Sprintf("+7916000000%d", i), fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if got, want := len(o.List()), min(i, 3); got != want {
			t.Fatalf("after %d messages the outbox holds %d, want %d", i, got, want)
		}
	}
	var got []string
	for _, e := range o.List() {
		got = append(got, e.Message.Data["code"])
	}
	if strings.Join(got, ",") != "5,4,3" {
		t.Errorf("codes %v, want newest first 5,4,3", got)
	}
	e, ok := o.Latest("+79160000004")
	if !ok || e.Message.Data["code"] != "4" || e.Template != "otp" || !strings.Contains(e.Text, "Код") || e.At.IsZero() {
		t.Errorf("Latest: %+v %v", e, ok)
	}
	if _, ok := o.Latest("+79160000001"); ok {
		t.Error("an evicted message is still there")
	}
	if NewOutbox(0, nil).ring == nil || len(NewOutbox(0, nil).ring) != DefaultOutboxSize {
		t.Error("default size")
	}
}

func TestOutboxLogsTheCode(t *testing.T) {
	var logs testenv.SyncBuffer
	o := NewOutbox(10, testLogger(&logs))
	if err := o.Enqueue(context.Background(), otpTo("ivan@example.com", "735102")); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{`"level":"INFO"`, "DEV OUTBOX", "735102", "ivan@example.com", `"template":"otp"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
	e, _ := o.Latest("ivan@example.com")
	if e.Subject == "" || !strings.Contains(e.HTMLBody(), "735102") || e.Channel != ChannelEmail {
		t.Errorf("entry %+v", e)
	}
}

func TestOutboxRefusesWhatDoesNotRender(t *testing.T) {
	o := NewOutbox(10, slog.New(slog.DiscardHandler))
	if err := o.Enqueue(context.Background(), Message{Channel: ChannelSMS, To: "+79161234567", Template: "nope"}); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("err %v", err)
	}
	if len(o.List()) != 0 {
		t.Error("recorded")
	}
}

func TestOutboxConcurrent(t *testing.T) {
	o := NewOutbox(50, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				_ = o.Send(context.Background(), Rendered{Channel: ChannelSMS, To: fmt.Sprintf("+7916%07d", g*1000+i), Text: "x"})
				_ = o.List()
				_, _ = o.Latest("+79160000000")
			}
		})
	}
	wg.Wait()
	if n := len(o.List()); n != 50 {
		t.Errorf("%d entries, want 50", n)
	}
}
