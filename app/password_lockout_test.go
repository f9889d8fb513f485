package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// TestAPIChangePasswordLockout (issue 10, defect 4): a stolen session is
// not a password oracle. Wrong current passwords at
// POST /api/v1/session/password count on the sign-in's lockout: the third
// locks (the owner is told), the right one is then refused, sign-in is
// locked as well, and 20 guesses at once compare at most three.
func TestAPIChangePasswordLockout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		const newPassword = "Тихий-Ветер-5-Сад"
		change := func(current string) map[string]any {
			return map[string]any{"current_password": current, "password": newPassword, "password_confirm": newPassword}
		}
		signIn := func(phone string) string {
			f := a.start("login")
			status, v := a.submit(f, "login", map[string]any{"login": phone, "password": testPassword})
			if status != http.StatusOK || v.SessionToken == "" {
				t.Fatalf("sign in %s: %d %+v", phone, status, v)
			}
			return v.SessionToken
		}

		acct := env.CreateAccount(t, testPhone, testPassword)
		session := signIn(testPhone)
		for i, want := range []string{"password.current_wrong", "password.current_wrong", "login.locked"} {
			status, v := a.do(http.MethodPost, "/api/v1/session/password", session, change("Wrong-password-1"))
			if status != http.StatusUnprocessableEntity || v.errCode("current_password") != want {
				t.Fatalf("wrong guess %d: %d %+v, want %s", i+1, status, v, want)
			}
		}
		status, v := a.do(http.MethodPost, "/api/v1/session/password", session, change(testPassword))
		if status != http.StatusUnprocessableEntity || v.errCode("current_password") != "login.locked" || v.SessionToken != "" {
			t.Fatalf("the right password while locked: %d %+v", status, v)
		}
		env.WaitTemplate(t, testPhone, "login_locked")
		f := a.start("login")
		if _, v := a.submit(f, "login", map[string]any{"login": testPhone, "password": testPassword}); v.errCode("") != "login.locked" {
			t.Fatalf("sign-in is not locked by wrong current passwords: %+v", v)
		}
		events, err := env.Stores.DB.ListEvents(context.Background(), acct.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if countEvents(events, "password.change_failed") != 3 || countEvents(events, "login.locked") != 1 ||
			countEvents(events, "password.change_blocked") != 1 || countEvents(events, "password.changed") != 0 {
			t.Fatalf("audit: %d failed, %d locked, %d blocked, %d changed", countEvents(events, "password.change_failed"),
				countEvents(events, "login.locked"), countEvents(events, "password.change_blocked"), countEvents(events, "password.changed"))
		}

		// Twenty guesses at once compare at most three passwords.
		const phone2 = "+79163527188"
		acct2 := env.CreateAccount(t, phone2, testPassword)
		session2 := signIn(phone2)
		body, _ := json.Marshal(change("Wrong-password-1"))
		var wg sync.WaitGroup
		statuses := make([]int, 20)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/v1/session/password", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+session2)
				resp, err := env.Client().Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusUnprocessableEntity {
				t.Errorf("guess %d: status %d", i+1, st)
			}
		}
		events, err = env.Stores.DB.ListEvents(context.Background(), acct2.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n := countEvents(events, "password.change_failed"); n == 0 || n > 3 {
			t.Errorf("%d passwords were compared; the lockout allows 3", n)
		}
		if n := countEvents(events, "login.locked"); n != 1 {
			t.Errorf("%d lock events, want 1", n)
		}
	})
}
