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
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(390, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// shot saves a screenshot under artifacts/screenshots (kept by CI as a test
// artefact; ignored by git).
func shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 90).Do(ctx); err != nil {
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

			run := func(step string, actions ...chromedp.Action) {
				t.Helper()
				actions = append(actions, shot(prefix+step))
				if err := chromedp.Run(ctx, actions...); err != nil {
					_ = chromedp.Run(ctx, shot(prefix+step+"-failed"), chromedp.Text("body", &body))
					t.Fatalf("%s: %v\npage text: %s", step, err, body)
				}
			}

			run("1-registration",
				chromedp.Navigate(env.URL+"/registration?lang="+tc.lang),
				chromedp.WaitVisible(`input[name="family_name"]`),
				chromedp.SendKeys(`input[name="family_name"]`, tc.name),
				chromedp.SendKeys(`input[name="given_name"]`, "Anna"),
				chromedp.SendKeys(`input[name="contact"]`, tc.phone),
				chromedp.SendKeys(`input[name="password"]`, pw1),
				chromedp.SendKeys(`input[name="password_confirm"]`, pw1),
				chromedp.Click(`input[name="consent"]`),
			)
			run("2-submit", chromedp.Click(`button[name="action"][value="register"]`), chromedp.WaitVisible(`input[name="code"]`))
			run("3-confirm",
				chromedp.SendKeys(`input[name="code"]`, code()),
				chromedp.Click(`button[name="action"][value="confirm"]`),
				chromedp.WaitVisible(`a[href="/account"]`),
			)
			run("4-account", chromedp.Navigate(env.URL+"/account"), chromedp.WaitVisible(`form[action="/logout"]`), chromedp.Text("main", &body))
			if !strings.Contains(body, tc.name) || !strings.Contains(body, tc.done) {
				t.Fatalf("account page does not show %q / %q: %s", tc.name, tc.done, body)
			}
			run("5-signout", chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`main`))
			signIn := func(step, password string) {
				run(step,
					chromedp.Navigate(env.URL+"/login"),
					chromedp.WaitVisible(`input[name="login"]`),
					chromedp.SendKeys(`input[name="login"]`, tc.phone),
					chromedp.SendKeys(`input[name="password"]`, password),
					chromedp.Submit(`input[name="password"]`),
					chromedp.WaitVisible(`form[action="/logout"]`),
				)
			}
			signIn("6-signin", pw1)
			run("7-signout", chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`main`))
			run("8-forgot",
				chromedp.Navigate(env.URL+"/login"),
				chromedp.WaitVisible(`a[href^="/recovery"]`),
				chromedp.Click(`a[href^="/recovery"]`),
				chromedp.WaitVisible(`input[name="login"]`),
				chromedp.SendKeys(`input[name="login"]`, tc.phone),
				chromedp.Click(`button[name="action"][value="start"]`),
				chromedp.WaitVisible(`input[name="code"]`),
			)
			run("9-recovery-code",
				chromedp.SendKeys(`input[name="code"]`, code()),
				chromedp.Click(`button[name="action"][value="confirm"]`),
				chromedp.WaitVisible(`input[name="password_confirm"]`),
			)
			run("10-new-password",
				chromedp.SendKeys(`input[name="password"]`, pw2),
				chromedp.SendKeys(`input[name="password_confirm"]`, pw2),
				chromedp.Click(`button[name="action"][value="password"]`),
				chromedp.WaitVisible(`a[href^="/login"], a[href="/account"]`),
			)
			signIn("11-signin-new-password", pw2)
		})
	}
}
