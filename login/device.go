package login

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gosid/gosid/account"
)

const (
	deviceCookie    = "gosid_device"
	deviceRemember  = 365 * 24 * time.Hour
	kvKnownDevice   = "login:device:"
	deviceUAMaxSize = 120
)

// rememberDevice keeps the device the citizen signed in from and, when
// notice is set and the account has never been used from it, tells the
// owner. A device is recognised by a long-lived random id (a cookie in a
// browser, device_token for an app); the store keeps only its hash per
// account. It returns the device id to hand back.
func (s *Service) rememberDevice(ctx context.Context, a *account.Account, id string, notice bool, m Meta) string {
	if len(id) != 43 {
		id = randomToken(32)
	}
	sum := sha256.Sum256([]byte(id))
	fresh, err := s.o.Ephemeral.PutNX(ctx, kvKnownDevice+a.ID+":"+hex.EncodeToString(sum[:]), []byte{1}, deviceRemember)
	if err != nil {
		s.log.Error("login: remember device", "err", err)
		return id
	}
	if !fresh || !notice {
		return id
	}
	s.recordMeta(ctx, m, a.ID, "login.new_device", "", nil)
	// Where the notice goes is the citizen's choice (notification settings).
	s.notifyAccount(ctx, a, "login_new_device", m, map[string]string{
		"device": truncate(m.UserAgent, deviceUAMaxSize), "ip": m.IP,
		"time": s.o.Now().UTC().Format("02.01.2006 15:04 UTC"),
	})
	return id
}

// deviceName turns a User-Agent into "Browser, OS" for the sessions list;
// anything unrecognised is shown as sent (shortened).
func deviceName(ua string) string {
	var browser, os string
	for _, b := range []struct{ token, name string }{
		{"YaBrowser/", "Yandex Browser"}, {"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			os = o.name
			break
		}
	}
	switch {
	case browser != "" && os != "":
		return browser + ", " + os
	case browser != "" || os != "":
		return browser + os
	}
	return truncate(ua, 60)
}
