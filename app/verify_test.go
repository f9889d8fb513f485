package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/registry/sim"
)

type profileView struct {
	Status     string `json:"status"`
	Level      string `json:"level"`
	Rejections []struct {
		Registry string   `json:"registry"`
		Outcome  string   `json:"outcome"`
		Fields   []string `json:"fields"`
	} `json:"rejections"`
	Verified *struct {
		SNILS string `json:"snils"`
	} `json:"verified"`
	Errors []message `json:"errors"`
}

// ivanov is a seeded person of the reference registry (registry/sim/README.md).
func ivanov() map[string]any {
	return map[string]any{
		"family_name": "Иванов", "given_name": "Иван", "middle_name": "Иванович", "birth_date": "14.03.1985",
		"sex": "male", "birthplace": "г. Москва", "citizenship": "RUS",
		"passport_series": "45 05", "passport_number": "123456", "passport_issue_date": "01.04.2005",
		"passport_issued_by": "ОВД Тверского района г. Москвы", "passport_dept_code": "772-001",
		"snils": "123-456-789 64", "inn": "770112345695",
		"registration_postal_index": "125009", "registration_region": "г. Москва", "registration_city": "Москва",
		"registration_street": "ул. Тверская", "registration_house": "1", "registration_flat": "10",
		"licence_number": "77 АВ 123456", "licence_issue_date": "10.06.2020", "licence_expiry_date": "10.06.2030",
	}
}

func semenova() map[string]any {
	return map[string]any{
		"family_name": "Семенова", "given_name": "Алена", "middle_name": "Петровна", "birth_date": "21.07.1990",
		"passport_series": "4010", "passport_number": "234567", "passport_issue_date": "05.08.2010",
		"passport_issued_by": "ТП УФМС России", "passport_dept_code": "780-010", "snils": "13579246894",
	}
}

// waitProfile polls the profile until its status is not "verifying".
func (a *api) waitProfile(token string) *profileView {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := &profileView{}
		if status := a.call(http.MethodGet, "/api/v1/session/profile", token, nil, v); status != http.StatusOK {
			a.t.Fatalf("profile: %d", status)
		}
		if v.Status != "verifying" {
			return v
		}
		if time.Now().After(deadline) {
			a.t.Fatal("the check never finished")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIdentityVerification: personal data checked against the reference
// registry over HTTP: a match raises the account to standard and lets the
// citizen sign in with SNILS; a mismatch names the fields; a document
// verified for one account is refused for another; a registry outage delays
// the check and never decides it; nothing personal is stored in clear.
func TestIdentityVerification(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		reg, err := sim.Start("127.0.0.1:0", sim.ServerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = reg.Close() })
		cfg := apptest.NewConfig(t, backend)
		cfg.RegistryURL = reg.URL
		env := apptest.Start(t, cfg)
		a := &api{t: t, env: env}
		login := func(phone string) string {
			env.CreateAccount(t, phone, testPassword)
			_, v := a.password(phone, testPassword)
			return v.SessionToken
		}

		// Bad input: every field named, nothing stored.
		first := login("+79160000001")
		bad := ivanov()
		bad["snils"], bad["inn"], bad["passport_dept_code"], bad["birth_date"] = "123-456-789 65", "770112345694", "77-001", "31.02.1985"
		bad["registration_postal_index"] = "1250"
		v := &profileView{}
		if status := a.call(http.MethodPut, "/api/v1/session/profile", first, bad, v); status != http.StatusUnprocessableEntity {
			t.Fatalf("bad data: %d %+v", status, v)
		}
		fields := map[string]string{}
		for _, e := range v.Errors {
			fields[e.Field] = e.Code
			if e.Text == "" || strings.HasPrefix(e.Text, "err.") {
				t.Errorf("untranslated %+v", e)
			}
		}
		for f, code := range map[string]string{"snils": "snils.checksum", "inn": "inn.checksum", "passport_dept_code": "dept_code.format",
			"birth_date": "date.format", "registration_postal_index": "postal_index.format"} {
			if fields[f] != code {
				t.Errorf("%s: %q, want %q (%v)", f, fields[f], code, fields)
			}
		}

		// A match: standard level, SNILS login.
		if status := a.call(http.MethodPut, "/api/v1/session/profile", first, ivanov(), v); status != http.StatusAccepted || v.Status != "verifying" {
			t.Fatalf("submit: %d %+v", status, v)
		}
		if status := a.call(http.MethodPut, "/api/v1/session/profile", first, ivanov(), nil); status != http.StatusConflict && status != http.StatusAccepted {
			t.Fatalf("submit while verifying: %d", status)
		}
		v = a.waitProfile(first)
		if v.Status != "verified" || v.Level != "standard" || v.Verified == nil || v.Verified.SNILS != "12345678964" {
			t.Fatalf("after the check: %+v", v)
		}
		env.WaitTemplate(t, "+79160000001", "verification_done")
		if status, lv := a.password("123-456-789 64", testPassword); status != http.StatusOK || lv.SessionToken == "" {
			t.Fatalf("sign-in with SNILS: %d %+v", status, lv)
		}

		// A mismatch names what did not match.
		second := login("+79160000002")
		wrong := ivanov()
		wrong["birth_date"] = "15.03.1985"
		a.call(http.MethodPut, "/api/v1/session/profile", second, wrong, nil)
		v = a.waitProfile(second)
		if v.Status != "rejected" || v.Level != "simplified" || len(v.Rejections) == 0 {
			t.Fatalf("mismatch: %+v", v)
		}
		named := false
		for _, r := range v.Rejections {
			for _, f := range r.Fields {
				named = named || f == "birth_date"
			}
		}
		if !named {
			t.Fatalf("the mismatch does not name birth_date: %+v", v.Rejections)
		}
		env.WaitTemplate(t, "+79160000002", "verification_failed")

		// The same documents for another account: refused, holder not named.
		a.call(http.MethodPut, "/api/v1/session/profile", second, ivanov(), nil)
		v = a.waitProfile(second)
		if v.Status != "rejected" || len(v.Rejections) != 1 || v.Rejections[0].Outcome != "taken" || v.Level != "simplified" {
			t.Fatalf("a document of another verified account: %+v", v)
		}

		// The registry is down: the check waits, then completes.
		third := login("+79160000003")
		reg.SetDown(true)
		before := reg.Requests()
		a.call(http.MethodPut, "/api/v1/session/profile", third, semenova(), nil)
		for deadline := time.Now().Add(20 * time.Second); reg.Requests() == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the check never reached the registry")
			}
		}
		if status := a.call(http.MethodGet, "/api/v1/session/profile", third, nil, v); status != http.StatusOK || v.Status != "verifying" {
			t.Fatalf("during the outage: %+v", v)
		}
		reg.SetDown(false)
		if v = a.waitProfile(third); v.Status != "verified" {
			t.Fatalf("after the outage: %+v", v)
		}

		// Nothing personal in clear anywhere in the database.
		// (Passport numbers are looked for as JSON strings: six bare digits
		// also occur in timestamps.)
		testenv.AssertNotStored(t, env.Stores.DB, "12345678964", "770112345695", `"123456"`, "13579246894", `"234567"`,
			"ОВД Тверского района", "1985-03-14")
		if backend == apptest.SQLite {
			testenv.AssertNotInFiles(t, env.Config.DataDir, "12345678964", "770112345695", "13579246894")
		}
	})
}

// TestActivityAndExport: the activity log lists sign-ins, failures and
// data changes newest first, paged, in the caller's language; the export
// holds the citizen's data (decrypted) and never a password hash.
func TestActivityAndExport(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	a.password(testPhone, "Wrong-password-1")
	_, v := a.password(testPhone, testPassword)
	a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
	a.waitProfile(v.SessionToken)

	var page struct {
		Entries []struct {
			ID     int64  `json:"id"`
			Type   string `json:"type"`
			Text   string `json:"text"`
			Device string `json:"device"`
		} `json:"entries"`
		NextBefore int64 `json:"next_before"`
	}
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/api/v1/session/activity?limit=3", nil)
	req.Header.Set("Authorization", "Bearer "+v.SessionToken)
	req.Header.Set("Accept-Language", "en")
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page.Entries) != 3 || page.NextBefore == 0 || page.Entries[0].ID < page.Entries[2].ID {
		t.Fatalf("first page: %+v", page)
	}
	var all []string
	for before := int64(0); ; {
		var p struct {
			Entries []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"entries"`
			NextBefore int64 `json:"next_before"`
		}
		a.call(http.MethodGet, "/api/v1/session/activity?limit=2&before="+strconv.FormatInt(before, 10), v.SessionToken, nil, &p)
		for _, e := range p.Entries {
			all = append(all, e.Type)
			if e.Text == "" || strings.HasPrefix(e.Text, "activity.") {
				t.Errorf("untranslated entry %+v", e)
			}
		}
		if p.NextBefore == 0 {
			break
		}
		before = p.NextBefore
	}
	// A service signed in: tokens issued to it appear too.
	c := webClient()
	c.FirstParty = true
	r := newRP(t, env, c.ID, env.CreateClient(t, c))
	r.login(t, env.NewBrowser(t))
	all = nil
	a.call(http.MethodGet, "/api/v1/session/activity?limit=200", v.SessionToken, nil, &page)
	service := ""
	for _, e := range page.Entries {
		all = append(all, e.Type)
		if e.Type == "token.issued" {
			service = e.Text
		}
	}
	if service == "" {
		t.Fatalf("no token.issued entry: %v", all)
	}
	for _, want := range []string{"login.failure", "login.success", "verification.submitted", "verification.verified", "level.changed", "token.issued"} {
		if !slices.Contains(all, want) {
			t.Errorf("activity lacks %s: %v", want, all)
		}
	}

	var x map[string]any
	if status := a.call(http.MethodGet, "/api/v1/session/export", v.SessionToken, nil, &x); status != http.StatusOK {
		t.Fatalf("export: %d", status)
	}
	raw, _ := json.Marshal(x)
	for _, want := range []string{"12345678964", "770112345695", `"activity"`, `"sessions"`, `"second_factors"`,
		"ул. Тверская", "77АВ123456", `"registration_address"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("export lacks %s", want)
		}
	}
	if strings.Contains(string(raw), "argon2") {
		t.Fatal("the export holds the password hash")
	}
}

// TestVerifiedClaims: a service with the verified_claims scope gets the
// personal data only as verified by the registries: nothing while it is
// merely entered (or rejected), the verified values once confirmed.
func TestVerifiedClaims(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	c.Scopes = append(c.Scopes, "verified_claims")
	r := newRP(t, env, c.ID, env.CreateClient(t, c), "openid", "profile", "verified_claims")
	b := env.NewBrowser(t)
	userinfo := func() map[string]any {
		t.Helper()
		tok, _ := r.login(t, b)
		ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		_ = ui.Claims(&claims)
		return claims
	}
	// Entered but rejected (wrong birth date): nothing released.
	wrong := ivanov()
	wrong["birth_date"] = "15.03.1985"
	a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, wrong, nil)
	if p := a.waitProfile(v.SessionToken); p.Status != "rejected" {
		t.Fatalf("%+v", p)
	}
	if claims := userinfo(); claims["verified_claims"] != nil {
		t.Fatalf("unverified data released: %v", claims["verified_claims"])
	}
	a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
	if p := a.waitProfile(v.SessionToken); p.Status != "verified" {
		t.Fatalf("%+v", p)
	}
	vc, _ := userinfo()["verified_claims"].(map[string]any)
	claims, _ := vc["claims"].(map[string]any)
	verification, _ := vc["verification"].(map[string]any)
	if claims["snils"] != "12345678964" || claims["birthdate"] != "1985-03-14" || verification["time"] == nil {
		t.Fatalf("verified claims: %v", vc)
	}
}

// TestDeleteAccount: deleting is confirmed with a code; afterwards the
// session and the service's refresh token are dead, the personal data is
// gone (its documents can back another account), and the login is free.
func TestDeleteAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		env.CreateAccount(t, testPhone, testPassword)
		_, v := a.password(testPhone, testPassword)
		a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
		if p := a.waitProfile(v.SessionToken); p.Status != "verified" {
			t.Fatalf("%+v", p)
		}
		c := webClient()
		c.FirstParty = true
		r := newRP(t, env, c.ID, env.CreateClient(t, c))
		tok, _ := r.login(t, env.NewBrowser(t))

		f := &mfaView{}
		if status := a.call(http.MethodPost, "/api/v1/session/deletion", v.SessionToken, nil, f); status != http.StatusCreated {
			t.Fatalf("start: %d %+v", status, f)
		}
		code := env.LatestCode(t, testPhone)
		if status, r := a.flow("delete", f, map[string]any{"code": wrongCode(code)}); status != http.StatusUnprocessableEntity || r.errCode("code") != "code.invalid" {
			t.Fatalf("wrong code: %d %+v", status, r)
		}
		if status, r := a.flow("delete", f, map[string]any{"code": code}); status != http.StatusOK || r.State != "done" {
			t.Fatalf("confirm: %d %+v", status, r)
		}
		if status := a.call(http.MethodGet, "/api/v1/session", v.SessionToken, nil, nil); status != http.StatusUnauthorized {
			t.Fatalf("session after deletion: %d", status)
		}
		if _, err := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("a refresh token survived the deletion")
		}
		if status, lv := a.password(testPhone, testPassword); lv.SessionToken != "" || status == http.StatusOK && lv.State == "done" {
			t.Fatalf("the deleted account still signs in: %d %+v", status, lv)
		}
		testenv.AssertNotStored(t, env.Stores.DB, "12345678964")
		// The phone and the documents are free for a new account.
		env.CreateAccount(t, testPhone, testPassword)
		_, nv := a.password(testPhone, testPassword)
		a.call(http.MethodPut, "/api/v1/session/profile", nv.SessionToken, ivanov(), nil)
		if p := a.waitProfile(nv.SessionToken); p.Status != "verified" {
			t.Fatalf("documents of a deleted account: %+v", p)
		}
	})
}

// TestChangeVerifiedData: changing a verified document or name needs a
// code; the level drops back until the new data is verified, and the old
// verified values stay the ones in force.
func TestChangeVerifiedData(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
	if p := a.waitProfile(v.SessionToken); p.Level != "standard" {
		t.Fatalf("%+v", p)
	}
	changed := ivanov()
	changed["family_name"] = "Петров"
	var p struct {
		profileView
		CodeRequired bool `json:"code_required"`
	}
	if status := a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, changed, &p); status != http.StatusOK || !p.CodeRequired || p.Status != "verified" {
		t.Fatalf("change without a code: %d %+v", status, p)
	}
	code := env.LatestCode(t, testPhone)
	changed["code"] = wrongCode(code)
	if status := a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, changed, &p); status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d %+v", status, p)
	}
	changed["code"] = code
	if status := a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, changed, nil); status != http.StatusAccepted {
		t.Fatalf("change with the code: %d", status)
	}
	after := a.waitProfile(v.SessionToken)
	// The registry does not know "Петров": rejected; the level stays down,
	// the verified values are still Иванов's.
	if after.Status != "rejected" || after.Level != "simplified" || after.Verified == nil || after.Verified.SNILS != "12345678964" {
		t.Fatalf("after the change: %+v", after)
	}
	var events []string
	var page struct {
		Entries []struct {
			Type string            `json:"type"`
			Data map[string]string `json:"data"`
		} `json:"entries"`
	}
	a.call(http.MethodGet, "/api/v1/session/activity?limit=100", v.SessionToken, nil, &page)
	for _, e := range page.Entries {
		if e.Type == "level.changed" {
			events = append(events, e.Data["to"]+"/"+e.Data["cause"])
		}
	}
	if !slices.Equal(events, []string{"simplified/data_changed", "standard/registry"}) {
		t.Fatalf("level changes with their causes, newest first: %v", events)
	}
}

// TestNotificationPreferences: the citizen routes each kind of
// notification per channel; messages routed to the account appear there in
// the citizen's language; security messages always reach the account.
func TestNotificationPreferences(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	if status := a.call(http.MethodPut, "/api/v1/session/notifications", v.SessionToken, map[string]any{"preferences": map[string]any{"weather": []string{"sms"}}}, nil); status != http.StatusBadRequest {
		t.Fatalf("unknown event: %d", status)
	}
	var got struct {
		Preferences map[string][]string `json:"preferences"`
		Messages    []struct {
			Subject string `json:"subject"`
		} `json:"messages"`
	}
	body := map[string]any{"preferences": map[string]any{"verification": []string{"inbox"}, "security": []string{}}}
	if status := a.call(http.MethodPut, "/api/v1/session/notifications", v.SessionToken, body, &got); status != http.StatusOK {
		t.Fatalf("set: %d", status)
	}
	if !slices.Equal(got.Preferences["verification"], []string{"inbox"}) || !slices.Equal(got.Preferences["security"], []string{"inbox"}) ||
		len(got.Preferences["login"]) != 3 {
		t.Fatalf("preferences: %+v", got.Preferences)
	}
	// A verification result goes to the account only, not by SMS.
	a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
	a.waitProfile(v.SessionToken)
	// A sign-in from a new device is still sent by SMS: once it arrives, a
	// verification SMS would have too.
	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")
	b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	env.WaitTemplate(t, testPhone, "login_new_device")
	for _, m := range env.Server.Outbox.List() {
		if m.Message.Template == "verification_done" {
			t.Fatal("the verification result was sent by SMS against the preference")
		}
	}
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/api/v1/session/notifications", nil)
	req.Header.Set("Authorization", "Bearer "+v.SessionToken)
	req.Header.Set("Accept-Language", "en")
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	found := false
	for _, m := range got.Messages {
		found = found || m.Subject == "Your data is verified"
	}
	if !found {
		t.Fatalf("inbox: %+v", got.Messages)
	}
}

// pdfWith is a small well-formed PDF carrying text.
func pdfWith(text string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> % " + text}
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// TestScans: scans are checked by content (not by name or header), limited
// to 5 MB, stored encrypted and served back only to their owner.
func TestScans(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		env.CreateAccount(t, testPhone, testPassword)
		_, v := a.password(testPhone, testPassword)
		upload := func(token, kind, contentType string, data []byte) (int, map[string]any) {
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/v1/session/scans?kind="+kind, bytes.NewReader(data))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", contentType)
			resp, err := env.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out := map[string]any{}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		const marker = "GOSID-SCAN-MARKER-4505123456"
		doc := pdfWith(marker)
		status, sc := upload(v.SessionToken, "passport", "application/pdf", doc)
		if status != http.StatusCreated || sc["content_type"] != "application/pdf" {
			t.Fatalf("upload: %d %v", status, sc)
		}
		// A text file claiming to be a JPEG, a cut PDF, a wrong kind, and 6 MB.
		for name, tc := range map[string]struct {
			kind, ct string
			data     []byte
			status   int
			code     string
		}{
			"renamed text": {"passport", "image/jpeg", []byte("just some text, not an image at all"), 422, "scan.type"},
			"truncated":    {"passport", "application/pdf", doc[:len(doc)-40], 422, "scan.corrupt"},
			"unknown kind": {"selfie", "application/pdf", doc, 422, "scan.kind"},
			"too large":    {"passport", "application/pdf", bytes.Repeat([]byte("x"), 6<<20), 413, ""},
		} {
			status, out := upload(v.SessionToken, tc.kind, tc.ct, tc.data)
			if status != tc.status || (tc.code != "" && out["error"] != tc.code) {
				t.Errorf("%s: %d %v", name, status, out)
			}
		}
		var list struct {
			Scans []map[string]any `json:"scans"`
		}
		if a.call(http.MethodGet, "/api/v1/session/scans", v.SessionToken, nil, &list); len(list.Scans) != 1 {
			t.Fatalf("list: %+v", list)
		}
		id := sc["id"].(string)
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/api/v1/session/scans/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+v.SessionToken)
		resp, err := env.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, doc) || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download: %d bytes, headers %v", len(got), resp.Header)
		}
		// Another citizen cannot read it.
		env.CreateAccount(t, "+79160000077", testPassword)
		_, other := a.password("+79160000077", testPassword)
		if status := a.call(http.MethodGet, "/api/v1/session/scans/"+id, other.SessionToken, nil, nil); status != http.StatusNotFound {
			t.Fatalf("another account's scan: %d", status)
		}
		testenv.AssertNotStored(t, env.Stores.DB, marker)
		if backend == apptest.SQLite {
			testenv.AssertNotInFiles(t, env.Config.DataDir, marker)
		}
		if status := a.call(http.MethodDelete, "/api/v1/session/scans/"+id, v.SessionToken, nil, nil); status != http.StatusNoContent {
			t.Fatalf("delete: %d", status)
		}
	})
}

// TestVerificationOutcomes: every answer of the reference registry leads
// to the right state: a suspended SNILS and an unknown passport are
// rejected naming the registry; a registry failing twice (503) is retried
// until it answers.
func TestVerificationOutcomes(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	person := func(family, given, middle, birth, series, number, issued, snils string) map[string]any {
		return map[string]any{"family_name": family, "given_name": given, "middle_name": middle, "birth_date": birth,
			"passport_series": series, "passport_number": number, "passport_issue_date": issued,
			"passport_issued_by": "Отделом УФМС России", "passport_dept_code": "500-001", "snils": snils}
	}
	for i, tc := range []struct {
		name     string
		data     map[string]any
		status   string
		registry string
		outcome  string
	}{
		{"suspended SNILS", person("Смирнова", "Ольга", "Викторовна", "30.05.1968", "4613", "567890", "11.06.2013", "15624789395"), "rejected", "sfr", "suspended"},
		{"unknown passport", person("Иванов", "Иван", "Иванович", "14.03.1985", "9999", "999999", "01.04.2005", "12345678964"), "rejected", "mvd", "not_found"},
		{"503 twice, then match", person("Морозова", "Екатерина", "Андреевна", "18.04.1995", "4515", "901234", "01.05.2015", "21436587968"), "verified", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &api{t: t, env: env}
			phone := fmt.Sprintf("+7916000010%d", i)
			env.CreateAccount(t, phone, testPassword)
			_, v := a.password(phone, testPassword)
			if status := a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, tc.data, nil); status != http.StatusAccepted {
				t.Fatalf("submit: %d", status)
			}
			p := a.waitProfile(v.SessionToken)
			if p.Status != tc.status {
				t.Fatalf("status %q, want %q: %+v", p.Status, tc.status, p)
			}
			if tc.registry != "" {
				found := false
				for _, r := range p.Rejections {
					found = found || (strings.EqualFold(r.Registry, tc.registry) && r.Outcome == tc.outcome)
				}
				if !found {
					t.Fatalf("rejections %+v, want %s %s", p.Rejections, tc.registry, tc.outcome)
				}
			}
		})
	}
}

// TestAccountPagesRender: every page of the personal account renders for a
// signed-in citizen in both languages, with the citizen's data escaped.
func TestAccountPagesRender(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
	a.waitProfile(v.SessionToken)
	a.call(http.MethodPut, "/api/v1/session/notifications", v.SessionToken, map[string]any{"preferences": map[string]any{"verification": []string{"inbox"}}}, nil)
	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")
	b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	for _, lang := range []string{"ru", "en"} {
		for path, want := range map[string]string{
			"/account":                map[string]string{"ru": "Личные данные и документы", "en": "Personal data and documents"}[lang],
			"/profile":                map[string]string{"ru": "Данные подтверждены государственными реестрами", "en": "Data confirmed by the state registries"}[lang],
			"/settings/activity":      map[string]string{"ru": "Журнал действий", "en": "Activity log"}[lang],
			"/settings/notifications": map[string]string{"ru": "Куда присылать уведомления", "en": "Where to send notifications"}[lang],
			"/settings/delete":        map[string]string{"ru": "Удаление учётной записи", "en": "Delete account"}[lang],
			"/settings/security":      map[string]string{"ru": "Безопасность входа", "en": "Sign-in security"}[lang],
			"/settings/sessions":      map[string]string{"ru": "Сеансы и устройства", "en": "Sessions and devices"}[lang],
			"/settings/services":      map[string]string{"ru": "Подключённые сервисы", "en": "Connected services"}[lang],
		} {
			p := b.Get(env.URL + path + "?lang=" + lang)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, want) {
				t.Errorf("%s (%s): %d, want %q in the page", path, lang, p.Status, want)
			}
			if strings.Contains(p.Body, "err.") || strings.Contains(p.Body, "activity.") && path != "/settings/activity" {
				t.Errorf("%s (%s): an untranslated key on the page", path, lang)
			}
		}
	}
}
