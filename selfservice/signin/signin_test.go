package signin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/selfservice"
)

const (
	signPhone = "+79163527101"
	signEmail = "olga@example.ru"
)

// signIn runs the password step for gosid itself.
func (e *testEnv) signIn(t *testing.T, login, password string, m selfservice.Meta) *passwordResult {
	t.Helper()
	res, err := e.s.passwordStep(context.Background(), selfservice.Input{"login": login, "password": password}, false, m)
	if err != nil {
		t.Fatalf("password step: %v", err)
	}
	return res
}

// failure is what a refused password step shows: the field and the code.
func failure(res *passwordResult) fe { return fe{res.Field, res.Code} }

// TestPasswordStep: one attempt from a fresh state, per kind of input.
func TestPasswordStep(t *testing.T) {
	tests := []struct {
		name     string
		login    string
		password string
		want     fe     // the refusal; zero for a success
		outcome  string // reported for metrics; "" for none
	}{
		{"nothing", "", "", fe{"", "login.required"}, ""},
		{"no login", "", testPassword, fe{"", "login.required"}, ""},
		{"blank login", "  ", testPassword, fe{"", "login.required"}, ""},
		{"no password", signPhone, "", fe{"", "login.required"}, ""},
		{"blank password is checked as given", signPhone, "   ", fe{"", "login.invalid"}, outcomeInvalid},
		{"wrong password", signPhone, otherPassword, fe{"", "login.invalid"}, outcomeInvalid},
		{"password in another case", signPhone, strings.ToUpper(testPassword), fe{"", "login.invalid"}, outcomeInvalid},
		{"unknown phone", "+79163527199", testPassword, fe{"", "login.invalid"}, outcomeInvalid},
		{"unknown e-mail", "nobody@example.ru", testPassword, fe{"", "login.invalid"}, outcomeInvalid},
		{"not a login at all", "olga", testPassword, fe{"", "login.invalid"}, outcomeInvalid},
		{"SNILS without identity checks", "123-456-789 01", testPassword, fe{"", "login.invalid"}, outcomeInvalid},
		{"blocked account, right password", "+79163527102", testPassword, fe{"", "login.invalid"}, outcomeInvalid},
		{"login too long", strings.Repeat("a", 244) + "@example.ru", testPassword, fe{"login", "field.too_long"}, ""},
		{"login invalid UTF-8", "olga\xff@example.ru", testPassword, fe{"login", "field.invalid_utf8"}, ""},
		{"login with a control character", signPhone + "\r", testPassword, fe{"login", "field.control_chars"}, ""},
		{"password of 513 bytes", signPhone, strings.Repeat("Ж", 256) + "x", fe{"password", "field.too_long"}, ""},
		{"password with a newline", signPhone, testPassword + "\n", fe{"password", "field.control_chars"}, ""},
		{"password invalid UTF-8", signPhone, testPassword + "\xff", fe{"password", "field.invalid_utf8"}, ""},
		// Within the byte limit but over the 128 characters that are
		// hashed: checked, and never a match.
		{"password of 129 characters", signPhone, testPassword + strings.Repeat("x", 129-len(testPassword)), fe{"", "login.invalid"}, outcomeInvalid},
		{"phone", signPhone, testPassword, fe{}, outcomeSuccess},
		{"phone as typed", " 8 (916) 352-71-01 ", testPassword, fe{}, outcomeSuccess},
		{"e-mail in another case", "Olga@Example.RU", testPassword, fe{}, outcomeSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			acct := env.NewAccount(t, signPhone, signEmail)
			blocked := env.NewAccount(t, "+79163527102", "")
			if _, err := env.s.Accounts.UpdateAccount(context.Background(), blocked.ID, func(a *account.Account) error {
				a.Status = account.StatusBlocked
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			res := env.signIn(t, tt.login, tt.password, testMeta)
			if got := failure(res); got != tt.want {
				t.Errorf("refusal = %v, want %v", got, tt.want)
			}
			if success := tt.want == (fe{}); success != (res.Account != nil) ||
				success && (res.Account.ID != acct.ID || res.NeedMFA) {
				t.Errorf("account = %+v, NeedMFA %v", res.Account, res.NeedMFA)
			}
			var want []string
			if tt.outcome != "" {
				want = []string{tt.outcome}
			}
			if got := env.logins.all(); !slices.Equal(got, want) {
				t.Errorf("outcomes = %v, want %v", got, want)
			}
		})
	}
}

// TestPasswordStepLockout: the third wrong password in a row locks the
// account; then even the right one is refused, and the owner is told once.
func TestPasswordStepLockout(t *testing.T) {
	env := newTestEnv(t)
	acct := env.NewAccount(t, signPhone, signEmail)
	steps := []struct {
		password string
		want     string
		outcome  string
	}{
		{otherPassword, "login.invalid", outcomeInvalid},
		{otherPassword, "login.invalid", outcomeInvalid},
		{otherPassword, "login.locked", outcomeLocked},
		{testPassword, "login.locked", outcomeLocked},
		{testPassword, "login.locked", outcomeLocked},
	}
	for i, st := range steps {
		// From different addresses: the lockout is the account's.
		m := testMeta
		m.IP = "198.51.100." + string(rune('1'+i))
		res := env.signIn(t, signEmail, st.password, m)
		if res.Code != st.want || res.Account != nil {
			t.Errorf("attempt %d: %+v, want %s", i+1, res, st.want)
		}
	}
	var want []string
	for _, st := range steps {
		want = append(want, st.outcome)
	}
	if got := env.logins.all(); !slices.Equal(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	// The two refusals during the lockout are one event with a count.
	if got, want := env.AuditTypes(t, acct.ID), []string{"login.failure", "login.failure", "login.failure", "login.locked",
		"login.blocked_attempt"}; !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
	if evs, _ := env.DB.ListEvents(context.Background(), acct.ID, 0, 1); len(evs) != 1 || evs[0].Data[audit.CountKey] != "2" {
		t.Errorf("blocked attempts event: %+v", evs[0])
	}
	for _, to := range []string{signPhone, signEmail} {
		if got := env.Sent.Templates(to); !slices.Equal(got, []string{"login_locked"}) {
			t.Errorf("sent to %s: %v", to, got)
		}
	}
}

// TestPasswordStepSuccessResets: a right password clears the failures, so
// the count is of failures in a row.
func TestPasswordStepSuccessResets(t *testing.T) {
	env := newTestEnv(t)
	env.NewAccount(t, signPhone, "")
	for _, st := range []struct{ password, want string }{
		{otherPassword, "login.invalid"},
		{otherPassword, "login.invalid"},
		{testPassword, ""},
		{otherPassword, "login.invalid"},
		{otherPassword, "login.invalid"},
		{testPassword, ""},
	} {
		if res := env.signIn(t, signPhone, st.password, testMeta); res.Code != st.want {
			t.Fatalf("%+v, want %q", res, st.want)
		}
	}
}

// TestPasswordStepRefusedInputCountsNothing: input refused by the checks
// costs no attempt: it neither locks the account nor uses the IP's budget.
func TestPasswordStepRefusedInputCountsNothing(t *testing.T) {
	env := newTestEnv(t)
	env.NewAccount(t, signPhone, "")
	for range testRatePerIP + maxPasswordFailures {
		if res := env.signIn(t, signPhone, strings.Repeat("x", 513), testMeta); res.Code != "field.too_long" {
			t.Fatalf("%+v", res)
		}
	}
	if res := env.signIn(t, signPhone, testPassword, testMeta); res.Account == nil {
		t.Errorf("after refused input: %+v", res)
	}
}

// TestPasswordStepUnknownLikeWrong: a login with no account answers
// exactly as a wrong password for an account does, attempt after attempt,
// lockout included (DESIGN.md: lockout is counted per login identifier
// whether or not an account exists, with the same answers).
func TestPasswordStepUnknownLikeWrong(t *testing.T) {
	env := newTestEnv(t)
	acct := env.NewAccount(t, signPhone, "")
	for i := range maxPasswordFailures + 2 {
		known := env.signIn(t, signPhone, otherPassword, testMeta)
		unknown := env.signIn(t, "+79163527199", otherPassword, testMeta)
		if failure(known) != failure(unknown) || known.Account != nil || unknown.Account != nil || known.NeedMFA || unknown.NeedMFA {
			t.Errorf("attempt %d: wrong password %v, unknown login %v", i+1, failure(known), failure(unknown))
		}
	}
	outcomes := env.logins.all()
	for i := 0; i+1 < len(outcomes); i += 2 {
		if outcomes[i] != outcomes[i+1] {
			t.Errorf("metrics tell them apart: %v", outcomes)
			break
		}
	}
	if got := env.AuditTypes(t, acct.ID); len(got) == 0 {
		t.Error("the account's audit trail misses the failures")
	}
}

// TestPasswordStepRateLimit: each client IP has its budget of attempts a
// minute, counted whatever the login, right or wrong.
func TestPasswordStepRateLimit(t *testing.T) {
	env := newTestEnv(t)
	env.NewAccount(t, signPhone, "")
	for i := range testRatePerIP {
		login := "+791635272" + string(rune('0'+i/10)) + string(rune('0'+i%10)) // a different unknown login each time
		if res := env.signIn(t, login, otherPassword, testMeta); res.Code != "login.invalid" {
			t.Fatalf("attempt %d: %+v", i+1, res)
		}
	}
	if res := env.signIn(t, signPhone, testPassword, testMeta); res.Code != "login.rate" || res.Account != nil {
		t.Errorf("over the budget, right password: %+v", res)
	}
	other := testMeta
	other.IP = "203.0.113.7"
	if res := env.signIn(t, signPhone, testPassword, other); res.Account == nil {
		t.Errorf("another IP: %+v", res)
	}
	if got := env.logins.all(); got[testRatePerIP] != outcomeRateLimited {
		t.Errorf("outcomes = %v", got)
	}
}

// TestPasswordStepSecondFactor: the relying service's wish for a second
// factor is passed on (the account has none turned on).
func TestPasswordStepSecondFactor(t *testing.T) {
	env := newTestEnv(t)
	env.NewAccount(t, signPhone, "")
	for _, wants := range []bool{false, true} {
		res, err := env.s.passwordStep(context.Background(), selfservice.Input{"login": signPhone, "password": testPassword}, wants, testMeta)
		if err != nil || res.Account == nil || res.NeedMFA != wants {
			t.Errorf("client wants MFA %v: %+v, %v", wants, res, err)
		}
	}
}

// TestAPILoginUsesPasswordStep: the API's answers are the password step's
// (the page maps the same codes, see TestLoginPageError), with the same
// limits on the fields.
func TestAPILoginUsesPasswordStep(t *testing.T) {
	tests := []struct {
		name     string
		password string
		status   int // of the response when the API answers directly
		state    string
		want     []fe
	}{
		{"right", testPassword, 0, selfservice.StateDone, nil},
		{"wrong", otherPassword, 0, selfservice.StateForm, []fe{{"", "login.invalid"}}},
		{"too long", strings.Repeat("p", 513), 0, selfservice.StateForm, []fe{{"password", "field.too_long"}}},
		{"none", "", 0, selfservice.StateForm, []fe{{"", "login.required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			ctx := context.Background()
			acct := env.NewAccount(t, signPhone, "")
			f := &selfservice.Flow{Kind: KindLogin, State: selfservice.StateForm, API: true}
			if _, err := env.s.Start(ctx, f); err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, selfservice.PathAPI+"/flows/login/"+f.ID, nil)
			v, err := env.s.apiLogin(w, r, f, selfservice.Input{"login": signPhone, "password": tt.password}, testMeta)
			if err != nil || v == nil {
				t.Fatalf("apiLogin: %v, %v", v, err)
			}
			env.CheckView(t, v, tt.state, tt.want...)
			if (tt.state == selfservice.StateDone) != (v.AccountID == acct.ID) {
				t.Errorf("account %q", v.AccountID)
			}
		})
	}

	env := newTestEnv(t)
	ctx := context.Background()
	for range testRatePerIP {
		env.signIn(t, "+79163527199", otherPassword, testMeta)
	}
	f := &selfservice.Flow{Kind: KindLogin, State: selfservice.StateForm, API: true}
	if _, err := env.s.Start(ctx, f); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, selfservice.PathAPI+"/flows/login/"+f.ID, nil)
	v, err := env.s.apiLogin(w, r, f, selfservice.Input{"login": signPhone, "password": testPassword}, testMeta)
	if err != nil || v != nil || w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" {
		t.Errorf("over the rate: %d %v %+v %v", w.Code, w.Header(), v, err)
	}
}

// TestBlockedAttemptsAggregated: a flood of attempts on a locked account
// (1,000, from as many addresses) leaves one audit event per lockout window
// whose count says how many were refused, so the citizen's history is not
// pushed out; a new window (here: the lockout lifted by a recovery, then
// locked again) has an event of its own.
func TestBlockedAttemptsAggregated(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	acct := env.NewAccount(t, signPhone, signEmail)
	attempt := func(i int) {
		t.Helper()
		m := testMeta
		m.IP = fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)
		if res := env.signIn(t, signPhone, otherPassword, m); res.Account != nil {
			t.Fatalf("attempt %d signed in", i)
		}
	}
	const flood = 1000
	for i := range maxPasswordFailures + flood {
		attempt(i)
	}
	evs, err := env.DB.ListEvents(ctx, acct.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) > 5 {
		t.Fatalf("%d audit events after %d blocked attempts: %v", len(evs), flood, env.AuditTypes(t, acct.ID))
	}
	blocked := evs[0]
	if blocked.Type != "login.blocked_attempt" || blocked.Data[audit.CountKey] != fmt.Sprint(flood) ||
		blocked.IP != "198.51.0.4" {
		t.Fatalf("blocked attempts event: %+v", blocked)
	}

	if err := env.s.LiftLockout(ctx, acct.ID, ""); err != nil {
		t.Fatal(err)
	}
	for i := range maxPasswordFailures + 7 {
		attempt(2000 + i)
	}
	evs, err = env.DB.ListEvents(ctx, acct.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var counts []string
	for _, e := range evs {
		if e.Type == "login.blocked_attempt" {
			counts = append(counts, e.Data[audit.CountKey])
		}
	}
	if !slices.Equal(counts, []string{"7", fmt.Sprint(flood)}) {
		t.Errorf("blocked attempts counts, newest first: %v", counts)
	}
}

// TestPasswordStepNoEnumerationWork: a login with no account makes the
// same operations on the stores, attempt after attempt, as a wrong
// password for an account does: the known-device lookup, the lockout
// counter, the audit events (the lock and refused attempts included) and
// the notice queued when the lock begins (a decoy the queue drops). So
// neither the answer nor the work behind it tells which logins exist.
func TestPasswordStepNoEnumerationWork(t *testing.T) {
	env := newTestEnv(t)
	env.NewAccount(t, signPhone, "olga.p@example.ru")
	env.NewAccount(t, "+79163527102", signEmail)
	// work runs maxPasswordFailures+2 wrong attempts for login and returns
	// the operations each made.
	// Each login from an IP of its own: the per-IP budget is not what is
	// compared here.
	ip := 0
	work := func(t *testing.T, login string) [][]string {
		t.Helper()
		ip++
		m := testMeta
		m.IP = fmt.Sprintf("198.51.100.%d", ip)
		m.Device = strings.Repeat("d", 43) // a device cookie no account knows
		env.Ops.Take()
		var out [][]string
		for range maxPasswordFailures + 2 {
			env.signIn(t, login, otherPassword, m)
			out = append(out, env.Ops.Take())
		}
		return out
	}
	for _, group := range []struct {
		name   string
		known  string
		others []string
	}{
		{"phone", signPhone, []string{"+79163527199"}},
		{"e-mail", signEmail, []string{"nobody@example.ru"}},
	} {
		t.Run(group.name, func(t *testing.T) {
			want := work(t, group.known)
			last := want[maxPasswordFailures-1]
			if !slices.Contains(last, "audit.AppendEvent") || !slices.Contains(last, "queue.Enqueue") {
				t.Fatalf("the lock of an account: %v", last)
			}
			for _, other := range group.others {
				if got := work(t, other); !slices.EqualFunc(got, want, slices.Equal) {
					t.Errorf("%s does\n%v\nwhere an account's login does\n%v", other, got, want)
				}
			}
		})
	}
	if len(env.Sent.Decoys()) == 0 {
		t.Error("no decoy was queued for a login with no account")
	}
}
