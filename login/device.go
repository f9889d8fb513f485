package login

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/internal/httpx"
)

const (
	deviceCookie    = "gosid_device"
	deviceRemember  = 365 * 24 * time.Hour
	kvKnownDevice   = "login:device:"
	deviceUAMaxSize = 120
)

// noticeNewDevice tells the owner about a sign-in from a browser that has
// not signed in to this account before. A browser is recognised by a
// long-lived random cookie; the store keeps only its hash per account.
func (s *Service) noticeNewDevice(w http.ResponseWriter, r *http.Request, a *account.Account) {
	ctx := r.Context()
	id := s.cookie(r, deviceCookie)
	if len(id) != 43 {
		id = randomToken(32)
	}
	s.o.Web.SetCookie(w, s.o.Web.CookieName(deviceCookie), id, deviceRemember)
	sum := sha256.Sum256([]byte(id))
	fresh, err := s.o.Ephemeral.PutNX(ctx, kvKnownDevice+a.ID+":"+hex.EncodeToString(sum[:]), []byte{1}, deviceRemember)
	if err != nil {
		s.log.Error("login: remember device", "err", err)
		return
	}
	if !fresh {
		return
	}
	m := Meta{IP: httpx.ClientIP(r), UserAgent: r.UserAgent(), Lang: s.o.Web.Lang(r)}
	s.recordMeta(ctx, m, a.ID, "login.new_device", "", nil)
	// Where the notice goes is the citizen's choice (notification settings).
	s.notifyAccount(ctx, a, "login_new_device", m, map[string]string{
		"device": truncate(r.UserAgent(), deviceUAMaxSize), "ip": m.IP,
		"time": s.o.Now().UTC().Format("02.01.2006 15:04 UTC"),
	})
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
