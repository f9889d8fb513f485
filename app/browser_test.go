package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/internal/testenv"
)

// chromium returns a browser context for a test, or skips (fails in CI)
// when Debian's chromium is not installed.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("GOSID_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if testenv.InCI() {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("chromium not installed (%v); scripts/test installs it", err)
	}
	// Chromium may still write its profile while shutting down, so the
	// profile directory is removed best-effort, after the browser has gone.
	profile, err := os.MkdirTemp("", "gosid-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(390, 900),
		chromedp.UserDataDir(profile),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first Run starts the browser; it must get the long-lived context,
	// since cancelling the context of the first Run closes the tab.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot saves a screenshot under artifacts/screenshots (kept by CI as a test
// artefact; ignored by git).
func shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
			return err
		}
		dir := filepath.Join("..", "artifacts", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// TestBrowserCitizenJourney drives the hosted pages in real Chromium, in
// Russian and in English: register with a phone, confirm it with the code
// from the outbox, sign out, sign in, sign out, recover the password and
// sign in with the new one.
func TestBrowserCitizenJourney(t *testing.T) {
	for _, tc := range []struct{ lang, phone, name, done string }{
		{"ru", "+7 916 352-71-84", "Соколова", "Личный кабинет"},
		{"en", "+7 916 352-71-85", "Sokolova", "Your account"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			ctx := chromium(t)
			env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
			const pw1, pw2 = "Глубокий-Сон-7-Лес", "Тихий-Ветер-5-Сад"
			prefix := "journey-" + tc.lang + "-"
			code := func() string { return env.LatestCode(t, tc.phone) }
			var body string
			// settle lets a navigation started by a click finish before the
			// next query, which would otherwise wait on the old document.
			settle := chromedp.Sleep(300 * time.Millisecond)

			run := func(step string, actions ...chromedp.Action) {
				t.Helper()
				actions = append(actions, shot(prefix+step))
				sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				if err := chromedp.Run(sctx, actions...); err != nil {
					_ = chromedp.Run(ctx, shot(prefix+step+"-failed"), chromedp.Text("body", &body, chromedp.ByQuery))
					t.Fatalf("%s: %v\npage text: %s", step, err, body)
				}
			}

			run("1-registration",
				chromedp.Navigate(env.URL+"/registration?lang="+tc.lang),
				chromedp.WaitVisible(`input[name="family_name"]`, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="family_name"]`, tc.name, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="given_name"]`, "Anna", chromedp.ByQuery),
				chromedp.SendKeys(`input[name="contact"]`, tc.phone, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="password"]`, pw1, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="password_confirm"]`, pw1, chromedp.ByQuery),
				chromedp.Click(`input[name="consent"]`, chromedp.ByQuery),
			)
			run("2-submit", chromedp.Click(`button[name="action"][value="register"]`, chromedp.ByQuery), settle, chromedp.WaitVisible(`input[name="code"]`, chromedp.ByQuery))
			run("3-confirm",
				chromedp.SendKeys(`input[name="code"]`, code(), chromedp.ByQuery),
				chromedp.Click(`button[name="action"][value="confirm"]`, chromedp.ByQuery), settle,
				chromedp.WaitVisible(`main a[href="/account"]`, chromedp.ByQuery),
			)
			run("4-account", chromedp.Navigate(env.URL+"/account"), chromedp.WaitVisible(`form[action="/logout"]`, chromedp.ByQuery), chromedp.Text("main", &body, chromedp.ByQuery))
			if !strings.Contains(body, tc.name) || !strings.Contains(body, tc.done) {
				t.Fatalf("account page does not show %q / %q: %s", tc.name, tc.done, body)
			}
			run("5-signout", chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), settle, chromedp.WaitNotPresent(`form[action="/logout"]`, chromedp.ByQuery))
			signIn := func(step, password string, then ...chromedp.Action) {
				run(step, append(chromedp.Tasks{
					chromedp.Navigate(env.URL + "/login"),
					chromedp.WaitVisible(`input[name="login"]`, chromedp.ByQuery),
					chromedp.SendKeys(`input[name="login"]`, tc.phone, chromedp.ByQuery),
					chromedp.SendKeys(`input[name="password"]`, password, chromedp.ByQuery),
					chromedp.Submit(`input[name="password"]`, chromedp.ByQuery), settle,
				}, append(then, chromedp.WaitVisible(`form[action="/logout"]`, chromedp.ByQuery))...)...)
			}
			// The first password sign-in offers a second factor; "not now" is
			// remembered, so the later sign-in goes straight to the account.
			signIn("6-signin", pw1, chromedp.WaitVisible(`button[name="decision"][value="later"]`, chromedp.ByQuery),
				shot(prefix+"6-offer"), chromedp.Click(`button[name="decision"][value="later"]`, chromedp.ByQuery), settle)
			run("7-signout", chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), settle, chromedp.WaitNotPresent(`form[action="/logout"]`, chromedp.ByQuery))
			run("8-forgot",
				chromedp.Navigate(env.URL+"/login"),
				chromedp.WaitVisible(`a[href^="/recovery"]`, chromedp.ByQuery),
				chromedp.Click(`a[href^="/recovery"]`, chromedp.ByQuery), settle,
				chromedp.WaitVisible(`input[name="login"]`, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="login"]`, tc.phone, chromedp.ByQuery),
				chromedp.Click(`button[name="action"][value="start"]`, chromedp.ByQuery), settle,
				chromedp.WaitVisible(`input[name="code"]`, chromedp.ByQuery),
			)
			run("9-recovery-code",
				chromedp.SendKeys(`input[name="code"]`, code(), chromedp.ByQuery),
				chromedp.Click(`button[name="action"][value="confirm"]`, chromedp.ByQuery), settle,
				chromedp.WaitVisible(`input[name="password_confirm"]`, chromedp.ByQuery),
			)
			run("10-new-password",
				chromedp.SendKeys(`input[name="password"]`, pw2, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="password_confirm"]`, pw2, chromedp.ByQuery),
				chromedp.Click(`button[name="action"][value="password"]`, chromedp.ByQuery), settle,
				chromedp.WaitVisible(`a[href^="/login"], a[href="/account"]`, chromedp.ByQuery),
			)
			signIn("11-signin-new-password", pw2)
		})
	}
}

// TestBrowserLiveValidation: the registration form checks fields as they
// are typed, with the server's messages, in the page's language.
func TestBrowserLiveValidation(t *testing.T) {
	ctx := chromium(t)
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	var nameMsg, confirmMsg string
	err := chromedp.Run(ctx,
		chromedp.Navigate(env.URL+"/registration?lang=ru"),
		chromedp.WaitVisible(`input[name="family_name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="family_name"]`, "Иван0в", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, "Глубокий-Сон-7-Лес", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password_confirm"]`, "Глубокий-Сон-7", chromedp.ByQuery),
		chromedp.Click(`input[name="given_name"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#family_name-live`, chromedp.ByQuery),
		chromedp.WaitVisible(`#password_confirm-live`, chromedp.ByQuery),
		chromedp.Text(`#family_name-live`, &nameMsg, chromedp.ByQuery),
		chromedp.Text(`#password_confirm-live`, &confirmMsg, chromedp.ByQuery),
		shot("live-validation-ru"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(nameMsg, "недопустимые символы") || !strings.Contains(confirmMsg, "Пароли не совпадают") {
		t.Fatalf("live messages: %q / %q", nameMsg, confirmMsg)
	}
}
