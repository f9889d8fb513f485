package notify_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
)

type recordingQueue struct {
	got  []notify.Message
	fail bool
}

func (q *recordingQueue) Enqueue(_ context.Context, m notify.Message) error {
	if q.fail {
		return errors.New("queue down")
	}
	q.got = append(q.got, m)
	return nil
}

type recordingInbox struct{ got []*account.InboxMessage }

func (b *recordingInbox) AddInboxMessage(_ context.Context, m *account.InboxMessage) error {
	b.got = append(b.got, m)
	return nil
}

func (b *recordingInbox) ListInbox(context.Context, string, int) ([]*account.InboxMessage, error) {
	return nil, nil
}

func (b *recordingInbox) MarkInboxRead(context.Context, string, time.Time) error { return nil }

func TestNoticesRouteByPreference(t *testing.T) {
	prefs := func(event string, ch ...string) string {
		p := account.NotifyPrefs{}
		p.Set(event, ch)
		return p.String()
	}
	tests := []struct {
		name      string
		acct      account.Account
		template  string
		channels  []string // message channels expected, in order
		inbox     bool
		wantLang  string
		queueDown bool
	}{
		{name: "default goes everywhere confirmed",
			acct:     account.Account{Phone: "+79161234567", PhoneVerified: true, Email: "a@example.ru", EmailVerified: true},
			template: "login_new_device", channels: []string{"sms", "email"}, inbox: true, wantLang: "ru"},
		{name: "unconfirmed contacts get nothing",
			acct:     account.Account{Phone: "+79161234567", Email: "a@example.ru", EmailVerified: false},
			template: "password_changed", channels: nil, inbox: true, wantLang: "ru"},
		{name: "sign-in notices only by e-mail",
			acct: account.Account{Phone: "+79161234567", PhoneVerified: true, Email: "a@example.ru", EmailVerified: true,
				NotifyPrefs: prefs(account.EventLogin, account.ChannelEmail)},
			template: "login_new_device", channels: []string{"email"}, inbox: false, wantLang: "ru"},
		{name: "security notices always reach the inbox",
			acct: account.Account{Phone: "+79161234567", PhoneVerified: true,
				NotifyPrefs: prefs(account.EventSecurity)},
			template: "security_changed", channels: nil, inbox: true, wantLang: "ru"},
		{name: "the account's language wins",
			acct:     account.Account{Phone: "+79161234567", PhoneVerified: true, Locale: "en"},
			template: "verification_done", channels: []string{"sms"}, inbox: true, wantLang: "en"},
		{name: "a template of no event goes to every confirmed contact",
			acct: account.Account{Phone: "+79161234567", PhoneVerified: true,
				NotifyPrefs: prefs(account.EventLogin)},
			template: "some_code", channels: []string{"sms"}, inbox: true, wantLang: "ru"},
		{name: "a queue outage is logged, the inbox still gets it",
			acct:     account.Account{Phone: "+79161234567", PhoneVerified: true},
			template: "login_locked", channels: nil, inbox: true, wantLang: "ru", queueDown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, box := &recordingQueue{fail: tt.queueDown}, &recordingInbox{}
			n := &notify.Notices{Queue: q, Inbox: box}
			a := tt.acct
			a.ID = "acct-1"
			n.Send(context.Background(), &a, tt.template, "ru", map[string]string{"k": "v"})
			var got []string
			for _, m := range q.got {
				got = append(got, string(m.Channel))
				if m.Lang != tt.wantLang || m.Template != tt.template || m.Data["k"] != "v" {
					t.Errorf("message %+v: want lang %q, template %q and the data", m, tt.wantLang, tt.template)
				}
			}
			if !slices.Equal(got, tt.channels) {
				t.Errorf("channels = %v, want %v", got, tt.channels)
			}
			if (len(box.got) == 1) != tt.inbox || len(box.got) > 1 {
				t.Errorf("inbox messages = %d, want inbox %v", len(box.got), tt.inbox)
			}
			if len(box.got) == 1 && (box.got[0].AccountID != "acct-1" || box.got[0].ID == "") {
				t.Errorf("inbox message %+v: want the account and an id", box.got[0])
			}
		})
	}
}
