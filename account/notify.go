package account

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Notification events a citizen can route, and the channels.
const (
	EventLogin        = "login"        // sign-in from a new device
	EventSecurity     = "security"     // lockout, password changed, second factor changed
	EventVerification = "verification" // results of identity checks

	ChannelSMS   = "sms"
	ChannelEmail = "email"
	ChannelInbox = "inbox" // messages in the personal account
)

// NotifyEvents and NotifyChannels list them in display order.
var (
	NotifyEvents   = []string{EventLogin, EventSecurity, EventVerification}
	NotifyChannels = []string{ChannelSMS, ChannelEmail, ChannelInbox}
)

// NotifyPrefs maps an event to the channels it goes to. An event missing
// from the map goes everywhere (the default).
type NotifyPrefs map[string][]string

// ParseNotifyPrefs reads the stored form; anything unreadable is the
// default.
func ParseNotifyPrefs(s string) NotifyPrefs {
	p := NotifyPrefs{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &p)
	}
	return p
}

// String is the stored form.
func (p NotifyPrefs) String() string {
	raw, _ := json.Marshal(p)
	return string(raw)
}

// Channels returns where event goes. Security messages always reach the
// account's inbox, whatever the setting, so they can never be silenced
// entirely.
func (p NotifyPrefs) Channels(event string) []string {
	ch, ok := p[event]
	if !ok {
		ch = NotifyChannels
	}
	if event == EventSecurity && !slices.Contains(ch, ChannelInbox) {
		ch = append(slices.Clone(ch), ChannelInbox)
	}
	return ch
}

// Set replaces the channels of event, keeping only known ones.
func (p NotifyPrefs) Set(event string, channels []string) bool {
	if !slices.Contains(NotifyEvents, event) {
		return false
	}
	var keep []string
	for _, c := range NotifyChannels {
		if slices.Contains(channels, c) {
			keep = append(keep, c)
		}
	}
	if keep == nil {
		keep = []string{}
	}
	p[event] = keep
	return true
}

// Sign-in notice settings: the choices the security page and the API offer
// for the EventLogin channels.
const (
	LoginNoticeAll   = "all"
	LoginNoticePhone = "phone"
	LoginNoticeEmail = "email"
	LoginNoticeNone  = "none"
)

// loginNoticeChannels maps each sign-in notice setting to its channels.
var loginNoticeChannels = map[string][]string{
	LoginNoticeAll:   NotifyChannels,
	LoginNoticePhone: {ChannelSMS},
	LoginNoticeEmail: {ChannelEmail},
	LoginNoticeNone:  {},
}

// SetLoginNotice routes sign-in notices by one of the LoginNotice settings;
// false for an unknown one.
func (p NotifyPrefs) SetLoginNotice(setting string) bool {
	ch, ok := loginNoticeChannels[setting]
	return ok && p.Set(EventLogin, ch)
}

// LoginNotice names the routing of sign-in notices as one of the
// LoginNotice settings, or "custom" when the channels chosen on the
// notifications page match none of them. The preferences are the one
// record of the setting.
func (p NotifyPrefs) LoginNotice() string {
	ch := p.Channels(EventLogin)
	for _, setting := range []string{LoginNoticeAll, LoginNoticePhone, LoginNoticeEmail, LoginNoticeNone} {
		if slices.Equal(ch, loginNoticeChannels[setting]) {
			return setting
		}
	}
	return "custom"
}

// InboxMessage is a message in the personal account.
type InboxMessage struct {
	ID        string
	AccountID string
	Template  string
	Data      map[string]string
	CreatedAt time.Time
	ReadAt    time.Time
}

// Inbox stores in-account messages.
type Inbox interface {
	AddInboxMessage(ctx context.Context, m *InboxMessage) error
	// ListInbox returns the newest messages first.
	ListInbox(ctx context.Context, accountID string, limit int) ([]*InboxMessage, error)
	// MarkInboxRead marks every message of the account read.
	MarkInboxRead(ctx context.Context, accountID string, at time.Time) error
}
