package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/post"
	"github.com/gosid/gosid/verify"
)

// signInCitizen opens the account pages in a browser.
func signInCitizen(t *testing.T, env *apptest.Env, phone string) *apptest.Browser {
	t.Helper()
	b := env.NewBrowser(t)
	b.Get(env.URL + "/account")
	p := b.Submit("/login", url.Values{"login": {phone}, "password": {testPassword}})
	if p.URL.Path == "/login/offer" {
		p = b.Submit("/login/offer", url.Values{"decision": {"later"}})
	}
	if p.URL.Path != "/account" {
		t.Fatalf("citizen sign-in: %d at %s", p.Status, p.URL)
	}
	return b
}

// exportLetters runs the print house's export and returns its CSV rows
// (without the header) and the PDF.
func exportLetters(t *testing.T, env *apptest.Env) ([][]string, []byte) {
	t.Helper()
	var batch *post.Batch
	n, err := env.Server.Post.Export(context.Background(), 0, func(b *post.Batch) error { batch = b; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := csv.NewReader(bytes.NewReader(batch.CSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 || batch.Letters != n {
		t.Fatalf("%d letters, %d rows", n, len(rows))
	}
	return rows[1:], batch.PDF
}

// TestPostLetter: a citizen orders a letter on the account page, the export
// prints it (CSV and PDF) and wipes its sealed copy, and the code from it
// confirms the account; wrong codes, a second order, the yearly limit, an
// expired code and a burned one are refused.
func TestPostLetter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		ctx := context.Background()

		// A simplified account cannot order.
		env.CreateAccount(t, "+79160001400", testPassword)
		sb := signInCitizen(t, env, "+79160001400")
		if p := sb.Get(env.URL + "/settings/post"); p.Status != 200 || strings.Contains(p.Body, `id="post-order"`) {
			t.Fatalf("a simplified citizen is offered a letter: %d", p.Status)
		}
		sb.Get(env.URL + "/account")
		if p := sb.Post(env.URL+"/settings/post", url.Values{"csrf_token": {csrfOf(t, sb)}, "action": {"order"}}); p.Status != 422 ||
			!strings.Contains(p.Body, "после проверки ваших данных") {
			t.Fatalf("simplified order: %d", p.Status)
		}

		citizen := standardCitizen(t, env, "+79160001401")
		b := signInCitizen(t, env, "+79160001401")
		b.Get(env.URL + "/settings/post")
		if p := b.Post(env.URL+"/settings/post", url.Values{"action": {"order"}}); p.Status != 403 {
			t.Fatalf("order without csrf: %d", p.Status)
		}
		b.Get(env.URL + "/settings/post")
		p := b.Submit("/settings/post", url.Values{"action": {"order"}})
		if p.Status != 200 || !strings.Contains(p.Body, "Письмо заказано") || !strings.Contains(p.Body, `data-status="ordered"`) {
			t.Fatalf("order: %d\n%s", p.Status, p.Body)
		}
		rows, pdf := exportLetters(t, env)
		if len(rows) != 1 || rows[0][1] != "Иванов Иван Иванович" || !strings.Contains(rows[0][2], "ул. Тверская, д. 1, кв. 10") ||
			rows[0][4] != "125009" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("export: %q (pdf %d bytes)", rows, len(pdf))
		}
		first := rows[0][5]
		if again, _ := exportLetters(t, env); again != nil {
			t.Fatalf("a letter was exported twice: %q", again)
		}
		l, err := env.Stores.DB.LatestLetter(ctx, citizen.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Status != post.StatusPrinted || l.Sealed != nil || strings.Contains(l.CodeHash, strings.ReplaceAll(first, "-", "")) {
			t.Fatalf("printed letter kept: %+v", l)
		}

		// Wrong codes count; a malformed one does not.
		b.Get(env.URL + "/settings/post")
		if !strings.Contains(b.Last.Body, `data-status="printed"`) {
			t.Fatalf("status after export:\n%s", b.Last.Body)
		}
		if p := b.Submit("/settings/post", url.Values{"action": {"confirm"}, "code": {"12"}}); p.Status != 422 || !strings.Contains(p.Body, "10 латинских") {
			t.Fatalf("malformed: %d", p.Status)
		}
		if p := b.Submit("/settings/post", url.Values{"action": {"confirm"}, "code": {"00000-00000"}}); p.Status != 422 ||
			!strings.Contains(p.Body, "Осталось попыток: 4") {
			t.Fatalf("wrong code: %d\n%s", p.Status, p.Body)
		}

		// A second order cancels the first code.
		b.Get(env.URL + "/settings/post")
		p = b.Submit("/settings/post", url.Values{"action": {"order"}})
		if p.Status != 200 || !strings.Contains(p.Body, `data-status="ordered"`) {
			t.Fatalf("second order: %d", p.Status)
		}
		rows, _ = exportLetters(t, env)
		second := rows[0][5]
		if p := b.Submit("/settings/post", url.Values{"action": {"confirm"}, "code": {first}}); p.Status != 422 ||
			!strings.Contains(p.Body, "Осталось попыток: 4") {
			t.Fatalf("the first code after a second order: %d", p.Status)
		}
		level(t, env, citizen.ID, account.LevelStandard)
		p = b.Submit("/settings/post", url.Values{"action": {"confirm"}, "code": {strings.ToLower(strings.ReplaceAll(second, "-", " "))}})
		if p.Status != 200 || !strings.Contains(p.Body, "Личность подтверждена") || !strings.Contains(p.Body, `data-status="used"`) {
			t.Fatalf("right code: %d\n%s", p.Status, p.Body)
		}
		level(t, env, citizen.ID, account.LevelConfirmed)
		if strings.Contains(p.Body, `id="post-order"`) {
			t.Fatal("a confirmed citizen is offered a letter")
		}
		if _, err := env.Server.Post.Order(ctx, citizen.ID, ""); !errors.Is(err, post.ErrConfirmed) {
			t.Fatalf("order when confirmed: %v", err)
		}
		events, err := env.Stores.DB.ListEvents(ctx, citizen.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		raised := false
		for _, e := range events[1:4] {
			raised = raised || e.Type == "level.changed" && e.Data["cause"] == verify.CausePost && e.Data["to"] == "confirmed"
		}
		if events[0].Type != "identity.confirmed_post" || !raised {
			t.Fatalf("trail: %s %v / %s %v", events[0].Type, events[0].Data, events[1].Type, events[1].Data)
		}
		acts, err := env.Server.Settings.Activity(ctx, citizen.ID, 0, 5, "en")
		if err != nil || acts[0].Text != "Identity confirmed with the code from a Russian Post letter" {
			t.Fatalf("activity: %+v %v", acts, err)
		}

		// Another citizen: parallel guesses burn the letter after exactly
		// five attempts, the yearly limit, an expired code, and a letter
		// whose confirmation fails stays unused.
		data := semenova()
		for k, v := range map[string]string{"registration_postal_index": "190000", "registration_region": "г. Санкт-Петербург",
			"registration_city": "Санкт-Петербург", "registration_street": "Невский пр.", "registration_house": "2"} {
			data[k] = v
		}
		other := standardCitizenWith(t, env, "+79160001402", data)
		if _, err := env.Server.Post.Order(ctx, other.ID, ""); err != nil {
			t.Fatal(err)
		}
		rows, _ = exportLetters(t, env)
		code := rows[0][5]
		var wg sync.WaitGroup
		results := make(chan error, 10)
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); results <- env.Server.Post.Enter(ctx, other.ID, "ZZZZZ-ZZZZZ", "") }()
		}
		wg.Wait()
		close(results)
		wrong := 0
		for err := range results {
			var w *post.WrongCodeError
			switch {
			case errors.As(err, &w):
				wrong++
			case errors.Is(err, post.ErrBurned), errors.Is(err, post.ErrNoLetter):
			default:
				t.Fatalf("parallel guess: %v", err)
			}
		}
		if wrong != 4 {
			t.Fatalf("%d wrong-code answers before the letter burned, want 4", wrong)
		}
		if err := env.Server.Post.Enter(ctx, other.ID, code, ""); !errors.Is(err, post.ErrNoLetter) {
			t.Fatalf("right code on a burned letter: %v", err)
		}
		if _, err := env.Server.Post.Order(ctx, other.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Server.Post.Order(ctx, other.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Server.Post.Order(ctx, other.ID, ""); !errors.Is(err, post.ErrLimit) {
			t.Fatalf("fourth order in a year: %v", err)
		}
		rows, _ = exportLetters(t, env)
		code = rows[0][5]
		later := post.New(post.Options{Store: env.Stores.DB, Accounts: env.Stores.DB, Verify: env.Server.Verify,
			Audit: env.Stores.DB, Tx: env.Stores.DB, Cipher: env.Stores.PII, HashKey: env.Stores.Sealer.DeriveKey("post-code"),
			Now: func() time.Time { return time.Now().Add(61 * 24 * time.Hour) }})
		if err := later.Enter(ctx, other.ID, code, ""); !errors.Is(err, post.ErrExpired) {
			t.Fatalf("code after 61 days: %v", err)
		}
		if _, err := env.Stores.DB.UpdateAccount(ctx, other.ID, func(a *account.Account) error {
			a.Status = account.StatusBlocked
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := env.Server.Post.Enter(ctx, other.ID, code, ""); !errors.Is(err, verify.ErrNotVerified) {
			t.Fatalf("right code on a blocked account: %v", err)
		}
		if l, err := env.Stores.DB.LatestLetter(ctx, other.ID); err != nil || l.Status != post.StatusPrinted {
			t.Fatalf("letter after a failed confirmation: %+v %v", l, err)
		}
		level(t, env, other.ID, account.LevelStandard)
	})
}
