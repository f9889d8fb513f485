package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// TestBlockedAttemptsInExport: a flood of sign-in attempts on a locked
// account (1,000, here with no per-address limit) is one entry of the
// citizen's activity with its count, so the export still holds the
// citizen's own history.
func TestBlockedAttemptsInExport(t *testing.T) {
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.LoginRatePerIP = 0
	env := apptest.Start(t, cfg)
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	if v.SessionToken == "" {
		t.Fatalf("sign-in: %+v", v)
	}
	const flood = 1000
	for range 3 + flood {
		a.password(testPhone, "Wrong-password-1")
	}

	var x struct {
		Activity []struct {
			Type string            `json:"type"`
			Text string            `json:"text"`
			Data map[string]string `json:"data"`
		} `json:"activity"`
	}
	if status := a.call(http.MethodGet, "/api/v1/session/export", v.SessionToken, nil, &x); status != http.StatusOK {
		t.Fatalf("export: %d", status)
	}
	var types []string
	blocked := 0
	for _, e := range x.Activity {
		types = append(types, e.Type)
		if e.Type == "login.blocked_attempt" {
			blocked++
			if e.Data["count"] != "1000" || !strings.Contains(e.Text, "1000") {
				t.Errorf("blocked attempts entry: %+v", e)
			}
		}
	}
	if blocked != 1 || len(x.Activity) > 10 {
		t.Fatalf("activity after %d blocked attempts: %d entries, %d of blocked attempts: %v", flood, len(x.Activity), blocked, types)
	}
	for _, want := range []string{"login.success", "login.failure", "login.locked"} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Errorf("activity lacks %s: %v", want, types)
		}
	}
}
