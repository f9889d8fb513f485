package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosid/gosid/storage"
)

// Devices: a browser or app is recognised by a long-lived random id (a
// cookie in a browser, a device token for an app). The store keeps only the
// id's hash per account, so it can tell "this account was used from this
// device before" and nothing else.
const (
	// DeviceCookie is the base name of the device cookie.
	DeviceCookie = "gosid_device"
	// DeviceRemember is how long a device is remembered.
	DeviceRemember = 365 * 24 * time.Hour
	kvKnownDevice  = "login:device:"
	deviceIDLen    = 43 // 32 random bytes, base64url
)

// RememberDevice records that the account was used from the device id and
// reports whether that is new. An id that is not one gosid made is replaced
// by a fresh one; the id to keep is returned.
func (s *Store) RememberDevice(ctx context.Context, accountID, id string) (string, bool, error) {
	if len(id) != deviceIDLen {
		id = random(32)
	}
	sum := sha256.Sum256([]byte(id))
	fresh, err := s.eph.PutNX(ctx, kvKnownDevice+accountID+":"+hex.EncodeToString(sum[:]), []byte{1}, DeviceRemember)
	if err != nil {
		return id, false, fmt.Errorf("session: remember device: %w", err)
	}
	return id, fresh, nil
}

// KnownDevice reports whether the account was used from the device id
// before, and returns the hash the device is known by (for keys of its
// own, such as its password budget). It marks nothing.
func (s *Store) KnownDevice(ctx context.Context, accountID, id string) (bool, string, error) {
	if len(id) != deviceIDLen {
		return false, "", nil
	}
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	_, err := s.eph.Get(ctx, kvKnownDevice+accountID+":"+h)
	if errors.Is(err, storage.ErrNotFound) {
		return false, "", nil
	} else if err != nil {
		return false, "", fmt.Errorf("session: known device: %w", err)
	}
	return true, h, nil
}

// DeviceName turns a User-Agent into "Browser, OS" for the sessions list;
// anything unrecognised is shown as sent (shortened).
func DeviceName(ua string) string {
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

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
