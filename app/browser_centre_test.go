package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/operator"
)

// TestBrowserCentreConfirmation drives the operator's confirm-in-person
// path in Chromium: sign in with password and authenticator code, find the
// citizen by SNILS with a reason, type the passport from the document, tick
// the check and print the slip.
func TestBrowserCentreConfirmation(t *testing.T) {
	ctx := chromium(t)
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	op := newStaff(t, env, "ivanova", operator.RoleOperator, "MSK-002")
	citizen := standardCitizen(t, env, "+79160001501")
	settle := chromedp.Sleep(300 * time.Millisecond)
	var body string
	run := func(step string, actions ...chromedp.Action) {
		t.Helper()
		actions = append(actions, shot("centre-"+step))
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			_ = chromedp.Run(ctx, shot("centre-"+step+"-failed"), chromedp.Text("body", &body, chromedp.ByQuery))
			t.Fatalf("%s: %v\npage text: %s", step, err, body)
		}
	}
	run("1-signin",
		chromedp.Navigate(env.URL+"/operator/login?lang=ru"),
		chromedp.WaitVisible(`#op-login input[name="login"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="login"]`, op.login, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, staffPassword, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="code"]`, op.code(t), chromedp.ByQuery),
		chromedp.Submit(`input[name="code"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#op-find`, chromedp.ByQuery),
	)
	run("2-find",
		chromedp.SetValue(`select[name="kind"]`, "snils", chromedp.ByQuery),
		chromedp.SendKeys(`#op-find input[name="value"]`, "123-456-789 64", chromedp.ByQuery),
		chromedp.SendKeys(`#op-find input[name="reason"]`, "подтверждение личности", chromedp.ByQuery),
		chromedp.Submit(`#op-find input[name="reason"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#op-confirm`, chromedp.ByQuery),
		chromedp.Text(`#citizen-name`, &body, chromedp.ByQuery),
	)
	if body != "Иванов Иван Иванович" {
		t.Fatalf("citizen: %q", body)
	}
	run("3-confirm",
		chromedp.SendKeys(`#op-confirm input[name="passport"]`, "4505 123456", chromedp.ByQuery),
		chromedp.Click(`#checked`, chromedp.ByQuery),
		chromedp.Click(`#op-confirm button[type="submit"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#slip`, chromedp.ByQuery),
		chromedp.Text(`#slip`, &body, chromedp.ByQuery),
	)
	if !strings.Contains(body, citizen.ID) || !strings.Contains(body, "Справка о подтверждении личности") {
		t.Fatalf("slip: %s", body)
	}
	level(t, env, citizen.ID, account.LevelConfirmed)
}
