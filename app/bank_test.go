package app_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/federation/banktest"
	"github.com/gosid/gosid/registry/sim"
)

// Two banks, as two banks really differ: bank A names claims as OpenID
// Connect does and authenticates gosid with a secret; bank B has its own
// claim names and date format.
var (
	bankIvanovA = map[string]any{"family_name": "Иванов", "given_name": "Иван", "middle_name": "Иванович",
		"birthdate": "1985-03-14", "snils": "12345678964", "inn": "770112345695"}
	bankIvanovB = map[string]any{"last_name": "ИВАНОВ", "first_name": "Иван", "patronymic": "Иванович",
		"birth": "14.03.1985", "snils_number": "123-456-789 64"}
)

type bankEnv struct {
	env  *apptest.Env
	a, b *banktest.Bank
}

// startWithBanks runs the reference registry, banks A and B, and gosid
// configured with them (and with a third bank that is down).
func startWithBanks(t *testing.T, backend apptest.Backend) *bankEnv {
	t.Helper()
	reg, err := sim.Start("127.0.0.1:0", sim.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	a, b := banktest.Launch(t), banktest.Launch(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	all := []federation.Field{federation.FamilyName, federation.GivenName, federation.MiddleName, federation.BirthDate,
		federation.SNILS, federation.INN}
	cfg := apptest.NewConfig(t, backend)
	cfg.RegistryURL = reg.URL
	cfg.Banks = []federation.Bank{
		{ID: "bank-a", NameRU: "Банк А", NameEN: "Bank A", Issuer: a.Issuer, ClientID: "gosid", ClientSecret: "secret-a",
			Scopes: []string{"bank_identity"}, Claims: map[federation.Field]string{federation.BirthDate: "birthdate"},
			Vouches: all, MinACR: "urn:bank:loa:high", Enabled: true},
		{ID: "bank-b", NameRU: "Банк Б", Issuer: b.Issuer, ClientID: "gosid-b", ClientSecret: "secret-b",
			Scopes: []string{"bank_identity"}, Vouches: all[:5], Enabled: true,
			Claims: map[federation.Field]string{federation.FamilyName: "last_name", federation.GivenName: "first_name",
				federation.MiddleName: "patronymic", federation.BirthDate: "birth", federation.SNILS: "snils_number"}},
		{ID: "bank-down", NameRU: "Банк В", NameEN: "Bank C", Issuer: dead, ClientID: "gosid", ClientSecret: "x",
			Vouches: all, Enabled: true},
	}
	env := apptest.Start(t, cfg)
	wrong := map[string]any{}
	for k, v := range bankIvanovA {
		wrong[k] = v
	}
	wrong["birthdate"] = "1985-03-15"
	a.Configure(t, banktest.Config{ClientID: "gosid", ClientSecret: "secret-a", RedirectURI: env.URL + "/bank/callback",
		Customers: map[string]map[string]any{"ivanov": bankIvanovA, "ivanov-typo": wrong}})
	b.Configure(t, banktest.Config{ClientID: "gosid-b", ClientSecret: "secret-b", RedirectURI: env.URL + "/bank/callback",
		Customers: map[string]map[string]any{"40817-ivanov": bankIvanovB}})
	return &bankEnv{env: env, a: a, b: b}
}

// atBank plays the citizen at the bank: it follows the bank's redirects
// from bankURL until the bank sends the browser back to gosid, and returns
// that URL (gosid's callback with the bank's answer).
func (be *bankEnv) atBank(t *testing.T, bankURL string) *url.URL {
	t.Helper()
	gosid, _ := url.Parse(be.env.URL)
	var back *url.URL
	// Each trip signs in at the bank afresh (the customer chosen by Next).
	jar, _ := cookiejar.New(nil)
	c := http.Client{Jar: jar, Timeout: 30 * time.Second}
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == gosid.Host {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, err := c.Get(bankURL)
	if err != nil {
		t.Fatalf("at the bank: %v", err)
	}
	_ = res.Body.Close()
	if back == nil || back.Path != "/bank/callback" {
		t.Fatalf("the bank did not send the citizen back: %d %s", res.StatusCode, res.Request.URL)
	}
	return back
}

type tripView struct {
	URL   string `json:"url"`
	Trip  string `json:"trip"`
	Error string `json:"error"`
}

type bankResult struct {
	Level        string    `json:"level"`
	SessionToken string    `json:"session_token"`
	AMR          []string  `json:"amr"`
	Error        string    `json:"error"`
	Errors       []message `json:"errors"`
}

// apiTrip starts a trip over the API and comes back with the bank's
// answer (tamper may change it on the way).
func (be *bankEnv) apiTrip(t *testing.T, a *api, bank, purpose, token string, tamper func(url.Values)) (string, string) {
	t.Helper()
	var trip tripView
	if status := a.call(http.MethodPost, "/api/v1/banks/"+bank+"/start", token, map[string]string{"purpose": purpose}, &trip); status != http.StatusOK {
		t.Fatalf("start %s at %s: %d %+v", purpose, bank, status, trip)
	}
	back := be.atBank(t, trip.URL)
	q := back.Query()
	if tamper != nil {
		tamper(q)
	}
	return trip.Trip, q.Encode()
}

func (be *bankEnv) apiFinish(t *testing.T, a *api, trip, response, token string) (int, *bankResult) {
	t.Helper()
	r := &bankResult{}
	status := a.call(http.MethodPost, "/api/v1/banks/callback", token, map[string]string{"trip": trip, "response": response}, r)
	return status, r
}

// waitLevel polls the profile until the account reaches level (a check or
// a notice may run in the background; never a fixed sleep).
func waitLevel(t *testing.T, a *api, token, level string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := &profileView{}
		if status := a.call(http.MethodGet, "/api/v1/session/profile", token, nil, v); status != http.StatusOK {
			t.Fatalf("profile: %d", status)
		}
		if v.Level == level {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("level %q, want %q", v.Level, level)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// standardAccount makes an account whose passport and SNILS the reference
// registry verified (Ivanov) and returns its session token.
func standardAccount(t *testing.T, a *api, phone string) string {
	t.Helper()
	a.env.CreateAccount(t, phone, testPassword)
	_, v := a.password(phone, testPassword)
	if status := a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil); status != http.StatusAccepted {
		t.Fatalf("submit profile: %d", status)
	}
	waitLevel(t, a, v.SessionToken, "standard")
	return v.SessionToken
}

// TestBankOverAPI: confirm through a bank (a mismatch names the field and
// changes nothing; tampered answers are refused; a match confirms), two
// callbacks for one trip make one link, sign in with a linked bank (amr
// fed and the bank's own), a bank not linked signs nobody in, unlink.
func TestBankOverAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		be := startWithBanks(t, backend)
		a := &api{t: t, env: be.env}
		token := standardAccount(t, a, "+79160000101")

		// Before confirming, a bank signs nobody in: not even by SNILS.
		trip, resp := be.apiTrip(t, a, "bank-a", "signin", "", nil)
		if status, r := be.apiFinish(t, a, trip, resp, ""); status != http.StatusForbidden || r.Error != "not_linked" {
			t.Fatalf("sign-in with a bank never linked: %d %+v", status, r)
		}

		// A mismatch names the field; the level stays.
		be.a.Next(t, "ivanov-typo", false)
		trip, resp = be.apiTrip(t, a, "bank-a", "confirm", token, nil)
		status, r := be.apiFinish(t, a, trip, resp, token)
		if status != http.StatusConflict || r.Error != "data_mismatch" || len(r.Errors) != 1 || r.Errors[0].Field != "birth_date" {
			t.Fatalf("mismatch: %d %+v", status, r)
		}
		waitLevel(t, a, token, "standard")
		be.a.Next(t, "ivanov", false)

		// Tampered answers are refused and leave nothing behind.
		for name, tc := range map[string]struct {
			tamper func(url.Values)
			status int
		}{
			"state": {func(q url.Values) { q.Set("state", "forged") }, http.StatusBadRequest},
			"iss":   {func(q url.Values) { q.Set("iss", "https://evil.example") }, http.StatusForbidden},
			"code":  {func(q url.Values) { q.Set("code", "forged") }, http.StatusForbidden},
		} {
			trip, resp := be.apiTrip(t, a, "bank-a", "confirm", token, tc.tamper)
			if status, r := be.apiFinish(t, a, trip, resp, token); status != tc.status {
				t.Errorf("tampered %s: %d %+v", name, status, r)
			}
		}
		// Another session cannot finish the citizen's trip.
		trip, resp = be.apiTrip(t, a, "bank-a", "confirm", token, nil)
		if status, _ := be.apiFinish(t, a, trip, resp, ""); status != http.StatusBadRequest {
			t.Errorf("a trip finished without its session: %d", status)
		}
		waitLevel(t, a, token, "standard")

		// A match confirms; two callbacks for one trip make one link.
		trip, resp = be.apiTrip(t, a, "bank-a", "confirm", token, nil)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], _ = be.apiFinish(t, a, trip, resp, token)
			}()
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusBadRequest {
			t.Fatalf("two callbacks for one trip: %v", statuses)
		}
		waitLevel(t, a, token, "confirmed")
		var links struct {
			Links []struct {
				Bank     string    `json:"bank"`
				Name     string    `json:"name"`
				LinkedAt time.Time `json:"linked_at"`
			} `json:"links"`
		}
		if status := a.call(http.MethodGet, "/api/v1/session/banks", token, nil, &links); status != http.StatusOK ||
			len(links.Links) != 1 || links.Links[0].Bank != "bank-a" || links.Links[0].LinkedAt.IsZero() {
			t.Fatalf("links: %d %+v", status, links)
		}
		be.env.WaitTemplate(t, "+79160000101", "identity_confirmed")

		// Sign in with the linked bank: the session says fed, and the
		// bank's own second factor.
		trip, resp = be.apiTrip(t, a, "bank-a", "signin", "", nil)
		status, r = be.apiFinish(t, a, trip, resp, "")
		if status != http.StatusOK || r.SessionToken == "" {
			t.Fatalf("sign in with the bank: %d %+v", status, r)
		}
		if amr := a.amr(r.SessionToken); !slices.Contains(amr, "fed") || !slices.Contains(amr, "mfa") {
			t.Errorf("amr %v", amr)
		}

		// Bank B (other claim names) confirms the same citizen: a second
		// link on the same account.
		trip, resp = be.apiTrip(t, a, "bank-b", "confirm", token, nil)
		if status, r := be.apiFinish(t, a, trip, resp, token); status != http.StatusOK || r.Level != "confirmed" {
			t.Fatalf("bank B: %d %+v", status, r)
		}

		// Unlink: the bank signs nobody in any more; the level stays.
		if status := a.call(http.MethodDelete, "/api/v1/session/banks/bank-a", token, nil, nil); status != http.StatusNoContent {
			t.Fatalf("unlink: %d", status)
		}
		if status := a.call(http.MethodDelete, "/api/v1/session/banks/bank-a", token, nil, nil); status != http.StatusNotFound {
			t.Fatalf("unlink twice: %d", status)
		}
		// The owner hears of it, as of any change to how they sign in.
		be.env.WaitTemplate(t, "+79160000101", "security_changed")
		trip, resp = be.apiTrip(t, a, "bank-a", "signin", "", nil)
		if status, r := be.apiFinish(t, a, trip, resp, ""); status != http.StatusForbidden || r.Error != "not_linked" {
			t.Fatalf("sign-in after unlinking: %d %+v", status, r)
		}
		waitLevel(t, a, token, "confirmed")

		// The bank down: a clear answer, not a 500.
		var trip2 tripView
		if status := a.call(http.MethodPost, "/api/v1/banks/bank-down/start", token, map[string]string{"purpose": "confirm"}, &trip2); status != http.StatusBadGateway || trip2.Error != "bank_unavailable" {
			t.Fatalf("bank down: %d %+v", status, trip2)
		}

		// A flood of trips from one address is cut short with 429 (30 a
		// minute; the test has started fewer than 15 so far).
		limited := 0
		for i := 0; i < 45 && limited == 0; i++ {
			var tv tripView
			switch status := a.call(http.MethodPost, "/api/v1/banks/bank-a/start", "", map[string]string{"purpose": "signin"}, &tv); {
			case status == http.StatusTooManyRequests && tv.Error == "rate_limited":
				limited = i + 1
			case status != http.StatusOK:
				t.Fatalf("trip %d: %d %+v", i+1, status, tv)
			}
		}
		if limited == 0 {
			t.Fatal("45 trips from one address in a row were all started")
		}
	})
}

// TestBankPages: the citizen's pages: confirm from the account, the bank
// refusing, the bank down (in Russian and English), sign in with a bank
// from the sign-in page.
func TestBankPages(t *testing.T) {
	be := startWithBanks(t, apptest.SQLite)
	a := &api{t: t, env: be.env}
	standardAccount(t, a, "+79160000102")
	env := be.env
	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")
	b.Submit("/login", url.Values{"login": {"+79160000102"}, "password": {testPassword}})

	p := b.Get(env.URL + "/settings/banks")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `data-level="standard"`) || !strings.Contains(p.Body, "Банк А") {
		t.Fatalf("banks page: %d %s", p.Status, p.Body)
	}
	// The bank down: «Ошибка соединения», then in English.
	p = b.Submit("/settings/banks/start", url.Values{"bank": {"bank-down"}})
	if p.Status != http.StatusBadGateway || !strings.Contains(p.Body, "Ошибка соединения") {
		t.Fatalf("bank down: %d %s", p.Status, p.Body)
	}
	b.Get(env.URL + "/settings/banks?lang=en")
	p = b.Submit("/settings/banks/start", url.Values{"bank": {"bank-down"}})
	if p.Status != http.StatusBadGateway || !strings.Contains(p.Body, "Connection error") {
		t.Fatalf("bank down (en): %d %s", p.Status, p.Body)
	}
	b.Get(env.URL + "/settings/banks?lang=ru")

	// The citizen cancels at the bank: «Отказ в аутентификации».
	be.a.Next(t, "ivanov", true)
	p = b.Submit("/settings/banks/start", url.Values{"bank": {"bank-a"}})
	p = b.Get(be.atBank(t, p.URL.String()).String())
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Отказ в аутентификации") {
		t.Fatalf("refused: %d %s", p.Status, p.Body)
	}
	be.a.Next(t, "ivanov", false)

	// Confirm.
	b.Get(env.URL + "/settings/banks")
	p = b.Submit("/settings/banks/start", url.Values{"bank": {"bank-a"}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.URL.String(), be.a.Issuer) {
		t.Fatalf("start: %d %s", p.Status, p.URL)
	}
	p = b.Get(be.atBank(t, p.URL.String()).String())
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="bank-confirmed"`) || !strings.Contains(p.Body, `data-level="confirmed"`) {
		t.Fatalf("confirmed page: %d %s %s", p.Status, p.URL, p.Body)
	}

	// Sign in with the bank from the sign-in page, in a new browser.
	b2 := env.NewBrowser(t)
	p = b2.Get(env.URL + "/login")
	if !strings.Contains(p.Body, `id="bank-login"`) {
		t.Fatalf("no «Войти через банк» on the sign-in page: %s", p.Body)
	}
	b2.Get(env.URL + "/login/bank")
	p = b2.Submit("/login/bank", url.Values{"bank": {"bank-a"}})
	p = b2.Get(be.atBank(t, p.URL.String()).String())
	if p.Status != http.StatusOK || p.URL.Path == "/login" {
		t.Fatalf("signed in with the bank: %d %s", p.Status, p.URL)
	}
	if p = b2.Get(env.URL + "/settings/banks"); p.Status != http.StatusOK || !strings.Contains(p.Body, `data-link="bank-a"`) {
		t.Fatalf("after bank sign-in: %d %s", p.Status, p.URL)
	}
}

// TestDevBankConfirm: in development mode the built-in development bank
// is offered and confirms a reference-registry person, as a newcomer
// would try it.
func TestDevBankConfirm(t *testing.T) {
	reg, err := sim.Start("127.0.0.1:0", sim.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.RegistryURL = reg.URL
	env := apptest.Start(t, cfg)
	a := &api{t: t, env: env}
	standardAccount(t, a, "+79160000103")
	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")
	b.Submit("/login", url.Values{"login": {"+79160000103"}, "password": {testPassword}})
	p := b.Get(env.URL + "/settings/banks")
	if !strings.Contains(p.Body, `data-bank="devbank"`) {
		t.Fatalf("no development bank offered: %s", p.Body)
	}
	p = b.Submit("/settings/banks/start", url.Values{"bank": {"devbank"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("start: %d %s", p.Status, p.Body)
	}
	u := p.URL
	form := u.Query()
	form.Set("person", "ivanov")
	res, err := (&http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).PostForm(u.Scheme+"://"+u.Host+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	p = b.Get(res.Header.Get("Location"))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `data-level="confirmed"`) {
		t.Fatalf("after the development bank: %d %s %s", p.Status, p.URL, p.Body)
	}
}

// TestBrowserBankConfirm: in Chromium, through gosid's pages and the
// banks' own: confirm through bank A (npm oidc-provider), then link the
// development bank by picking a person on its page.
func TestBrowserBankConfirm(t *testing.T) {
	ctx := chromium(t)
	be := startWithBanks(t, apptest.SQLite)
	env := be.env
	a := &api{t: t, env: env}
	const phone = "+79160000104"
	standardAccount(t, a, phone)
	var body string
	run := func(step string, actions ...chromedp.Action) {
		t.Helper()
		actions = append(actions, shot("bank-"+step))
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			_ = chromedp.Run(ctx, shot("bank-"+step+"-failed"), chromedp.Text("body", &body, chromedp.ByQuery))
			t.Fatalf("%s: %v\npage text: %s", step, err, body)
		}
	}
	run("1-signin",
		chromedp.Navigate(env.URL+"/login?lang=ru"),
		chromedp.WaitVisible(`#bank-login`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="login"]`, phone, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, testPassword, chromedp.ByQuery),
		chromedp.Submit(`input[name="password"]`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`input[name="password"]`, chromedp.ByQuery),
	)
	run("2-banks",
		chromedp.Navigate(env.URL+"/settings/banks"),
		chromedp.WaitVisible(`#level[data-level="standard"]`, chromedp.ByQuery),
		chromedp.Click(`li[data-bank="bank-a"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#bank-confirmed`, chromedp.ByQuery),
		chromedp.WaitVisible(`#level[data-level="confirmed"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`li[data-link="bank-a"]`, chromedp.ByQuery),
	)
	run("3-devbank",
		chromedp.Click(`li[data-bank="devbank"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`input[name="person"][value="ivanov"] + button`, chromedp.ByQuery),
		chromedp.Click(`input[name="person"][value="ivanov"] + button`, chromedp.ByQuery),
		chromedp.WaitVisible(`li[data-link="devbank"]`, chromedp.ByQuery),
		chromedp.Text("main", &body, chromedp.ByQuery),
	)
	if !strings.Contains(body, "Банк для разработки") {
		t.Fatalf("linked banks: %s", body)
	}
}
