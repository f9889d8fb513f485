package app_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/operator"
	"github.com/gosid/gosid/verify"
)

// centreStaff is an operator created for a test, with their authenticator
// secret.
type centreStaff struct {
	login, secret string
}

const staffPassword = "Operator-Desk-7-window"

// newStaff creates a centre (when missing) and an operator at it.
func newStaff(t *testing.T, env *apptest.Env, login string, role operator.Role, centres ...string) centreStaff {
	t.Helper()
	ctx := context.Background()
	for _, code := range centres {
		if _, err := env.Stores.DB.GetCentreByCode(ctx, code); err == nil {
			continue
		}
		if err := env.Server.Operators.CreateCentre(ctx, &operator.Centre{Code: code, Name: "Центр " + code,
			Address: "ул. Примерная, 1", Hours: "9–18"}); err != nil {
			t.Fatal(err)
		}
	}
	_, en, err := env.Server.Operators.CreateOperator(ctx, login, "Сотрудник "+login, role, staffPassword, centres)
	if err != nil {
		t.Fatal(err)
	}
	return centreStaff{login: login, secret: en.Secret}
}

func (s centreStaff) code(t *testing.T) string {
	t.Helper()
	c, err := totp.GenerateCode(s.secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signInStaff signs an operator in to the console with a browser.
func signInStaff(t *testing.T, env *apptest.Env, s centreStaff, centre string) *apptest.Browser {
	t.Helper()
	b := env.NewBrowser(t)
	b.Get(env.URL + "/operator")
	if b.Last.URL.Path != "/operator/login" {
		t.Fatalf("console without a session: %d at %s", b.Last.Status, b.Last.URL)
	}
	p := b.Submit("/operator/login", url.Values{"login": {s.login}, "password": {staffPassword}, "code": {s.code(t)},
		"centre": {centre}})
	if p.Status != 200 || p.URL.Path != "/operator" || !strings.Contains(p.Body, `id="op-who"`) {
		t.Fatalf("%s: sign-in: %d at %s\n%s", s.login, p.Status, p.URL, p.Body)
	}
	return b
}

// standardCitizen makes an account whose data the (reference) registries
// verified: the standard level.
func standardCitizen(t *testing.T, env *apptest.Env, phone string) *account.Account {
	t.Helper()
	return standardCitizenWith(t, env, phone, ivanov())
}

// standardCitizenWith is standardCitizen with the data of another seeded
// person.
func standardCitizenWith(t *testing.T, env *apptest.Env, phone string, data map[string]any) *account.Account {
	t.Helper()
	ctx := context.Background()
	a := env.CreateAccount(t, phone, testPassword)
	in := map[string]string{}
	for k, v := range data {
		in[k] = fmt.Sprint(v)
	}
	d, errs := verify.Validate(in, time.Now())
	if len(errs) > 0 {
		t.Fatalf("data: %v", errs)
	}
	if err := env.Server.Verify.Submit(ctx, a.ID, d, "test"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, _, err := env.Server.Verify.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == verify.StatusVerified {
			break
		}
		if p.Status == verify.StatusRejected || time.Now().After(deadline) {
			t.Fatalf("verification: %s %+v", p.Status, p.Rejections)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return level(t, env, a.ID, account.LevelStandard)
}

func level(t *testing.T, env *apptest.Env, id string, want account.Level) *account.Account {
	t.Helper()
	a, err := env.Stores.DB.GetAccount(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Level != want {
		t.Fatalf("level %s, want %s", a.Level, want)
	}
	return a
}

func journalActions(t *testing.T, env *apptest.Env, centre string) []string {
	t.Helper()
	c, err := env.Stores.DB.GetCentreByCode(context.Background(), centre)
	if err != nil {
		t.Fatal(err)
	}
	es, err := env.Stores.DB.ListJournal(context.Background(), c.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action+":"+es[i].Detail)
	}
	return out
}

func find(b *apptest.Browser, env *apptest.Env, kind, value, reason string) *apptest.Page {
	b.Get(env.URL + "/operator")
	return b.Submit("/operator/find", url.Values{"kind": {kind}, "value": {value}, "reason": {reason}})
}

// TestCentreConsole drives the operator console over HTTP with form posts:
// sign-in with password and authenticator code, the lookup (journaled, with
// a reason, exact matches only), the in-person confirmation with its slip,
// the journal, and every role and centre boundary.
func TestCentreConsole(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		ctx := context.Background()
		op := newStaff(t, env, "petrova", operator.RoleOperator, "MSK-001")
		sup := newStaff(t, env, "sidorov", operator.RoleSupervisor, "MSK-001")
		other := newStaff(t, env, "kuznetsova", operator.RoleSupervisor, "SPB-001")
		admin := newStaff(t, env, "orlov", operator.RoleAdmin, "MSK-001")
		both := newStaff(t, env, "belova", operator.RoleOperator, "MSK-001", "SPB-001")
		citizen := standardCitizen(t, env, "+79160001301")

		// Sign-in: a wrong code is refused like a wrong password; a
		// login is locked after five failures; an operator of two
		// centres names one, and only theirs.
		b := env.NewBrowser(t)
		b.Get(env.URL + "/operator/login")
		p := b.Submit("/operator/login", url.Values{"login": {op.login}, "password": {staffPassword}, "code": {"000000"}})
		if p.Status != 401 || !strings.Contains(p.Body, "Неверный логин, пароль или код") {
			t.Fatalf("wrong code: %d\n%s", p.Status, p.Body)
		}
		for i := 0; i < 6; i++ {
			p = b.Submit("/operator/login", url.Values{"login": {"nobody"}, "password": {"x"}, "code": {"123456"}})
		}
		if p.Status != 401 || !strings.Contains(p.Body, "заблокирован") {
			t.Fatalf("sixth failure: %d\n%s", p.Status, p.Body)
		}
		p = b.Submit("/operator/login", url.Values{"login": {both.login}, "password": {staffPassword}, "code": {both.code(t)}})
		if p.Status != 401 || !strings.Contains(p.Body, "Укажите код центра") {
			t.Fatalf("two centres, none named: %d\n%s", p.Status, p.Body)
		}
		// CSRF: a form without the token is refused.
		if p := b.Post(env.URL+"/operator/login", url.Values{"login": {op.login}}); p.Status != 403 {
			t.Fatalf("login without csrf: %d", p.Status)
		}

		ob := signInStaff(t, env, op, "")
		if p := ob.Post(env.URL+"/operator/find", url.Values{"kind": {"snils"}, "value": {"123-456-789 64"}, "reason": {"x"}}); p.Status != 403 {
			t.Fatalf("find without csrf: %d", p.Status)
		}
		// A lookup needs a reason and an exact, valid number.
		if p := find(ob, env, "snils", "123-456-789 64", " "); p.Status != 422 || !strings.Contains(p.Body, "Укажите основание") {
			t.Fatalf("no reason: %d", p.Status)
		}
		if p := find(ob, env, "snils", "Иванов", "обращение"); p.Status != 422 || !strings.Contains(p.Body, "не похож") {
			t.Fatalf("a name: %d", p.Status)
		}
		if p := find(ob, env, "snils", "112-233-445 95", "обращение"); p.Status != 422 || !strings.Contains(p.Body, "не найдена") {
			t.Fatalf("unknown snils: %d\n%s", p.Status, p.Body)
		}
		p = find(ob, env, "passport", "45 05 123456", "подтверждение личности по обращению")
		if p.Status != 200 || !strings.HasPrefix(p.URL.Path, "/operator/cases/") || !strings.Contains(p.Body, "Иванов Иван Иванович") {
			t.Fatalf("lookup by passport: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		// Documents are masked: the operator types the passport from the
		// document, never reads it off the screen.
		if strings.Contains(p.Body, "123456") || strings.Contains(p.Body, "12345678964") {
			t.Fatalf("unmasked documents on the case page:\n%s", p.Body)
		}
		casePath := p.URL.Path
		for _, kind := range []struct{ kind, value string }{{"snils", "123-456-789 64"}, {"phone", "8 (916) 000-13-01"}} {
			if p := find(ob, env, kind.kind, kind.value, "обращение"); p.Status != 200 || !strings.Contains(p.Body, "Иванов") {
				t.Fatalf("lookup by %s: %d", kind.kind, p.Status)
			}
		}

		// Role and centre boundaries.
		if p := ob.Get(env.URL + "/operator/journal"); p.Status != 403 {
			t.Fatalf("an operator reads the journal: %d", p.Status)
		}
		if p := ob.Get(env.URL + "/operator/operators"); p.Status != 403 {
			t.Fatalf("an operator lists staff: %d", p.Status)
		}
		ab := signInStaff(t, env, admin, "MSK-001")
		if strings.Contains(ab.Last.Body, `action="/operator/find"`) {
			t.Fatal("the administrator is offered the lookup")
		}
		if p := ab.Post(env.URL+"/operator/find", url.Values{"csrf_token": {csrfOf(t, ab)}, "kind": {"passport"},
			"value": {"4505123456"}, "reason": {"любопытство"}}); p.Status != 403 {
			t.Fatalf("an administrator looks a citizen up: %d", p.Status)
		}
		if p := ab.Get(env.URL + casePath); p.Status != 403 {
			t.Fatalf("an administrator opens a case: %d", p.Status)
		}
		xb := signInStaff(t, env, other, "SPB-001")
		if p := xb.Get(env.URL + casePath); p.Status != 404 || strings.Contains(p.Body, "Иванов") {
			t.Fatalf("another centre opens the case: %d", p.Status)
		}
		if p := xb.Get(env.URL + "/operator/cases/not-a-case"); p.Status != 404 {
			t.Fatalf("unknown case: %d", p.Status)
		}

		// Confirmation: the passport typed must be the verified one and
		// the check box ticked; a refusal changes nothing.
		ob.Get(env.URL + casePath)
		if p := ob.Submit("/confirm", url.Values{"passport": {"4505 654321"}, "checked": {"yes"}}); p.Status != 422 ||
			!strings.Contains(p.Body, "не совпадает") {
			t.Fatalf("wrong passport: %d\n%s", p.Status, p.Body)
		}
		if p := ob.Submit("/confirm", url.Values{"passport": {"4505 123456"}}); p.Status != 422 {
			t.Fatalf("not ticked: %d", p.Status)
		}
		level(t, env, citizen.ID, account.LevelStandard)
		p = ob.Submit("/confirm", url.Values{"passport": {"45 05 123456"}, "checked": {"yes"}})
		if p.Status != 200 || !strings.HasPrefix(p.URL.Path, "/operator/slips/") || !strings.Contains(p.Body, citizen.ID) ||
			!strings.Contains(p.Body, "Центр MSK-001") {
			t.Fatalf("confirm: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		slipPath := p.URL.Path
		level(t, env, citizen.ID, account.LevelConfirmed)
		ob.Get(env.URL + casePath)
		if p := ob.Post(env.URL+casePath+"/confirm", url.Values{"csrf_token": {csrfOf(t, ob)}, "passport": {"4505123456"},
			"checked": {"yes"}}); p.Status != 422 || !strings.Contains(p.Body, "уже подтверждена") {
			t.Fatalf("second confirmation: %d\n%s", p.Status, p.Body)
		}
		if p := xb.Get(env.URL + slipPath); p.Status != 404 {
			t.Fatalf("another centre prints the slip: %d", p.Status)
		}
		if p := ab.Get(env.URL + slipPath); p.Status != 403 {
			t.Fatalf("the administrator prints the slip: %d", p.Status)
		}

		// The journal: every lookup (found or not) with its reason, the
		// refused and the done confirmation, once each.
		sb := signInStaff(t, env, sup, "MSK-001")
		p = sb.Get(env.URL + "/operator/journal")
		if p.Status != 200 || !strings.Contains(p.Body, "подтверждение личности по обращению") {
			t.Fatalf("journal: %d\n%s", p.Status, p.Body)
		}
		if p := sb.Get(env.URL + slipPath); p.Status != 200 {
			t.Fatalf("a supervisor of the centre reprints the slip: %d", p.Status)
		}
		got := regexp.MustCompile(`slip:\d+`).ReplaceAllString(strings.Join(journalActions(t, env, "MSK-001"), " "), "slip:N")
		want := "signin: lookup:snils:not_found lookup:passport lookup:snils lookup:phone signin: confirm:mismatch " +
			"confirm:confirmed slip:N signin: slip:N"
		if got != want {
			t.Fatalf("journal:\n got %s\nwant %s", got, want)
		}
		if strings.Count(got, "confirm:confirmed") != 1 {
			t.Fatalf("confirmations in the journal: %s", got)
		}
		if got := strings.Join(journalActions(t, env, "SPB-001"), " "); got != "signin:" {
			t.Fatalf("the other centre's journal: %s", got)
		}
		// Append-only: the database refuses to change the journal.
		if err := rawExec(env, "UPDATE operator_journal SET reason = 'x'"); err == nil {
			t.Fatal("the journal was updated")
		}
		if err := rawExec(env, "DELETE FROM operator_journal"); err == nil {
			t.Fatal("the journal was deleted")
		}

		// The citizen's trail: who, which role, which centre.
		events, err := env.Stores.DB.ListEvents(ctx, citizen.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]map[string]string{}
		for _, e := range events {
			if seen[e.Type] == nil { // the newest of each type
				seen[e.Type] = e.Data
			}
		}
		if d := seen["level.changed"]; d["cause"] != verify.CauseCentre || d["to"] != "confirmed" || d["by"] == "" || d["subject"] == "" {
			t.Fatalf("level.changed: %v", d)
		}
		if d := seen["operator.lookup"]; d["role"] != "operator" || d["centre_name"] != "Центр MSK-001" {
			t.Fatalf("operator.lookup: %v", d)
		}
		acts, err := env.Server.Settings.Activity(ctx, citizen.ID, 0, 100, "ru")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range acts {
			found = found || a.Text == "Личность подтверждена в центре обслуживания «Центр MSK-001»"
		}
		if !found {
			t.Fatalf("activity log: %+v", acts)
		}

		// An administrator disables the operator: their session ends.
		ab.Get(env.URL + "/operator/operators")
		re := regexp.MustCompile(`/operator/operators/([^/"]+)/disable`)
		var opID string
		for _, m := range re.FindAllStringSubmatch(ab.Last.Body, -1) {
			if o, err := env.Stores.DB.GetOperator(ctx, m[1]); err == nil && o.Login == op.login {
				opID = o.ID
			}
		}
		if opID == "" {
			t.Fatalf("operators page:\n%s", ab.Last.Body)
		}
		if p := ab.Post(env.URL+"/operator/operators/"+opID+"/disable", url.Values{"csrf_token": {csrfOf(t, ab)}}); p.Status != 200 {
			t.Fatalf("disable: %d", p.Status)
		}
		if p := ob.Get(env.URL + "/operator"); p.URL.Path != "/operator/login" {
			t.Fatalf("a disabled operator keeps the console: %s", p.URL)
		}
		xb.Get(env.URL + "/operator")
		if p := xb.Post(env.URL+"/operator/operators/"+opID+"/disable", url.Values{"csrf_token": {csrfOf(t, xb)}}); p.Status != 403 {
			t.Fatalf("a supervisor of another centre disables staff: %d", p.Status)
		}
	})
}

// csrfOf is the CSRF token of the browser's last page.
func csrfOf(t *testing.T, b *apptest.Browser) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(b.Last.Body)
	if m == nil {
		t.Fatalf("no csrf token on %s", b.Last.URL)
	}
	return m[1]
}

// rawExec runs SQL on the test database directly.
func rawExec(env *apptest.Env, q string) error {
	if pool := env.Stores.DB.PgxPool(); pool != nil {
		_, err := pool.Exec(context.Background(), q)
		return err
	}
	_, err := env.Stores.DB.SQLDB().Exec(q)
	return err
}
