package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/esign/esigntest"
	"github.com/gosid/gosid/registry/sim"
)

// ivanovCert is the reference registry's Ivanov (see ivanov()) as a
// qualified certificate says him.
func ivanovCert() esigntest.Person {
	return esigntest.Person{SNILS: "12345678964", INN: "770112345695", FamilyName: "Иванов", GivenName: "Иван Иванович"}
}

type challengeView struct {
	ID        string    `json:"challenge_id"`
	Text      string    `json:"challenge"`
	ExpiresAt time.Time `json:"expires_at"`
	Error     string    `json:"error"`
}

type esignAnswer struct {
	SessionToken     string   `json:"session_token"`
	AMR              []string `json:"amr"`
	Level            string   `json:"level"`
	Error            string   `json:"error"`
	ErrorDescription string   `json:"error_description"`
	Errors           []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

type esignEnv struct {
	a                 *api
	rsa, ecdsa, other *esigntest.CA
	gost              *esigntest.GOSTCA
}

// startWithSignatures runs gosid trusting an RSA, an ECDSA and a GOST
// test authority (another ECDSA authority is not trusted).
func startWithSignatures(t *testing.T, backend apptest.Backend) *esignEnv {
	t.Helper()
	reg, err := sim.Start("127.0.0.1:0", sim.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	e := &esignEnv{rsa: esigntest.NewCA(t, "rsa", "Test RSA CA"), ecdsa: esigntest.NewCA(t, "ecdsa", "Test ECDSA CA"),
		other: esigntest.NewCA(t, "ecdsa", "Test ECDSA CA"), gost: esigntest.NewGOSTCA(t, "Test GOST CA")}
	var roots []byte
	for _, c := range [][]byte{e.rsa.Cert.Raw, e.ecdsa.Cert.Raw, e.gost.Cert.Raw} {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	file := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(file, roots, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := apptest.NewConfig(t, backend)
	cfg.RegistryURL = reg.URL
	cfg.ESignRoots = []string{file}
	e.a = &api{t: t, env: apptest.Start(t, cfg)}
	return e
}

func (e *esignEnv) challenge(purpose, token string) challengeView {
	e.a.t.Helper()
	var c challengeView
	if status := e.a.call(http.MethodPost, "/api/v1/esign/challenge", token, map[string]string{"purpose": purpose}, &c); status != http.StatusCreated {
		e.a.t.Fatalf("challenge: %d %+v", status, c)
	}
	return c
}

func (e *esignEnv) answer(path, token, id string, sig []byte) (int, esignAnswer) {
	e.a.t.Helper()
	var r esignAnswer
	status := e.a.call(http.MethodPost, path, token, map[string]string{"challenge_id": id,
		"signature": base64.StdEncoding.EncodeToString(sig)}, &r)
	return status, r
}

// signIn signs a fresh sign-in challenge with c.
func (e *esignEnv) signIn(c *esigntest.Citizen) (int, esignAnswer) {
	e.a.t.Helper()
	ch := e.challenge("signin", "")
	return e.answer("/api/v1/esign/signin", "", ch.ID, c.SignDetached(e.a.t, []byte(ch.Text)))
}

// TestSignatureOverAPI: sign in with RSA, ECDSA and GOST certificates; a
// replayed signature, a signature over another challenge, and every
// refusal in the seed's words; confirm the identity (a mismatch names the
// field; a match confirms with the certificate in the audit trail).
func TestSignatureOverAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		e := startWithSignatures(t, backend)
		a := e.a
		token := standardAccount(t, a, "+79160000141")
		ctx := context.Background()
		acct, err := a.env.Stores.DB.FindAccountByPhone(ctx, "+79160000141")
		if err != nil {
			t.Fatal(err)
		}

		// Revoked before the authorities' lists are first fetched (gosid
		// keeps a list until its nextUpdate, an hour here).
		revoked := e.rsa.Issue(t, "rsa", ivanovCert())
		e.rsa.Revoke(revoked)
		gostRevoked := e.gost.Issue(t, ivanovCert(), 365)
		e.gost.Revoke(t, gostRevoked)

		// Sign in with each algorithm: a session with amr sc and mfa.
		for name, c := range map[string]*esigntest.Citizen{
			"rsa": e.rsa.Issue(t, "rsa", ivanovCert()), "ecdsa": e.ecdsa.Issue(t, "ecdsa", ivanovCert()),
			"gost": e.gost.Issue(t, ivanovCert(), 365),
		} {
			status, r := e.signIn(c)
			if status != http.StatusOK || r.SessionToken == "" {
				t.Fatalf("%s sign-in: %d %+v", name, status, r)
			}
			if amr := a.amr(r.SessionToken); !slices.Contains(amr, "sc") || !slices.Contains(amr, "mfa") {
				t.Errorf("%s amr %v", name, amr)
			}
		}

		// The challenge is single use: the same signature again is refused.
		good := e.ecdsa.Issue(t, "ecdsa", ivanovCert())
		ch := e.challenge("signin", "")
		sig := good.SignDetached(t, []byte(ch.Text))
		if status, r := e.answer("/api/v1/esign/signin", "", ch.ID, sig); status != http.StatusOK {
			t.Fatalf("sign-in: %d %+v", status, r)
		}
		if status, r := e.answer("/api/v1/esign/signin", "", ch.ID, sig); status != http.StatusBadRequest || r.Error != "invalid_challenge" {
			t.Errorf("replayed: %d %+v", status, r)
		}
		// A signature over another challenge is refused.
		ch1, ch2 := e.challenge("signin", ""), e.challenge("signin", "")
		if status, r := e.answer("/api/v1/esign/signin", "", ch2.ID, good.SignDetached(t, []byte(ch1.Text))); status != http.StatusForbidden || r.Error != "invalid_signature" {
			t.Errorf("another challenge's signature: %d %+v", status, r)
		}
		// A sign-in challenge does not confirm.
		ch = e.challenge("signin", "")
		if status, r := e.answer("/api/v1/esign/confirm", token, ch.ID, good.SignDetached(t, []byte(ch.Text))); status != http.StatusBadRequest || r.Error != "invalid_challenge" {
			t.Errorf("a sign-in challenge used to confirm: %d %+v", status, r)
		}

		// Refusals, each with the seed's words.
		expired := e.ecdsa.Issue(t, "ecdsa", esigntest.Person{SNILS: "12345678964", FamilyName: "Иванов", GivenName: "Иван",
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
		noSNILS := e.ecdsa.Issue(t, "ecdsa", esigntest.Person{FamilyName: "Иванов", GivenName: "Иван"})
		stranger := e.other.Issue(t, "ecdsa", ivanovCert())
		nobody := e.ecdsa.Issue(t, "ecdsa", esigntest.Person{SNILS: "11223344595", FamilyName: "Петров", GivenName: "Пётр"})
		for name, tc := range map[string]struct {
			c      *esigntest.Citizen
			status int
			code   string
			words  string
		}{
			"expired":      {expired, http.StatusForbidden, "certificate_expired", "Срок действия сертификата истёк"},
			"revoked":      {revoked, http.StatusForbidden, "certificate_revoked", "Сертификат отозван"},
			"gost revoked": {gostRevoked, http.StatusForbidden, "certificate_revoked", "Сертификат отозван"},
			"untrusted":    {stranger, http.StatusForbidden, "untrusted_issuer", "не аккредитованным удостоверяющим центром"},
			"no SNILS":     {noSNILS, http.StatusForbidden, "snils_absent", "нет СНИЛС"},
			"no account":   {nobody, http.StatusForbidden, "account_not_found", "не найдена"},
		} {
			status, r := e.signIn(tc.c)
			if status != tc.status || r.Error != tc.code || !strings.Contains(r.ErrorDescription, tc.words) {
				t.Errorf("%s: %d %+v", name, status, r)
			}
		}
		ch = e.challenge("signin", "")
		if status, r := e.answer("/api/v1/esign/signin", "", ch.ID, []byte("not a signature")); status != http.StatusBadRequest ||
			r.Error != "certificate_not_found" || !strings.HasPrefix(r.ErrorDescription, "Сертификат не найден") {
			t.Errorf("unreadable: %d %+v", status, r)
		}
		en := &api{t: t, env: a.env, lang: "en"}
		var r esignAnswer
		ch = e.challenge("signin", "")
		req := map[string]string{"challenge_id": ch.ID, "signature": base64.StdEncoding.EncodeToString(expired.SignDetached(t, []byte(ch.Text)))}
		status, raw, _ := en.send(http.MethodPost, "/api/v1/esign/signin", "", req)
		if err := json.Unmarshal(raw, &r); err != nil || status != http.StatusForbidden || !strings.HasPrefix(r.ErrorDescription, "The certificate has expired") {
			t.Errorf("expired in English: %d %+v", status, r)
		}

		// Confirm: a certificate of another given name names the field.
		wrongName := ivanovCert()
		wrongName.GivenName = "Пётр Иванович"
		ch = e.challenge("confirm", token)
		status, r = e.answer("/api/v1/esign/confirm", token, ch.ID, e.ecdsa.Issue(t, "ecdsa", wrongName).SignDetached(t, []byte(ch.Text)))
		if status != http.StatusConflict || r.Error != "data_mismatch" || len(r.Errors) != 1 || r.Errors[0].Field != "given_name" {
			t.Fatalf("mismatch: %d %+v", status, r)
		}
		waitLevel(t, a, token, "standard")
		// A confirm challenge is bound to its session.
		ch = e.challenge("confirm", token)
		_, other := a.password("+79160000141", testPassword)
		if status, r := e.answer("/api/v1/esign/confirm", other.SessionToken, ch.ID, good.SignDetached(t, []byte(ch.Text))); status != http.StatusBadRequest || r.Error != "invalid_challenge" {
			t.Errorf("another session's challenge: %d %+v", status, r)
		}
		gostCit := e.gost.Issue(t, ivanovCert(), 365)
		ch = e.challenge("confirm", token)
		if status, r := e.answer("/api/v1/esign/confirm", token, ch.ID, gostCit.SignDetached(t, []byte(ch.Text))); status != http.StatusOK || r.Level != "confirmed" {
			t.Fatalf("confirm: %d %+v", status, r)
		}
		waitLevel(t, a, token, "confirmed")
		a.env.WaitTemplate(t, "+79160000141", "identity_confirmed")
		events, err := a.env.Stores.DB.ListEvents(ctx, acct.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ev := range events {
			if ev.Type == "identity.confirmed" && ev.Data["cause"] == "esignature" {
				found = found || ev.Data["serial"] == strings.ToUpper(gostCit.Cert.SerialNumber.Text(16)) &&
					strings.Contains(ev.Data["issuer"], "Test GOST CA") && ev.Data["not_after"] != "" && ev.Data["algorithm"] == "GOST R 34.10-2012"
			}
		}
		if !found {
			t.Errorf("no identity.confirmed event naming the certificate: %+v", events)
		}
	})
}

// TestSignaturePage: «Войти с электронной подписью» on the hosted pages:
// the sign-in page links to it, the citizen downloads the challenge, signs
// it with a CMS tool and uploads the file; a refusal is a page in the
// citizen's language.
func TestSignaturePage(t *testing.T) {
	e := startWithSignatures(t, apptest.SQLite)
	standardAccount(t, e.a, "+79160000142")
	b := e.a.env.NewBrowser(t)
	if p := b.Get(e.a.env.URL + "/login"); !strings.Contains(p.Body, `href="/login/esign"`) {
		t.Fatalf("the sign-in page does not offer the signature:\n%s", p.Body)
	}
	signWith := func(c *esigntest.Citizen) *apptest.Page {
		t.Helper()
		p := b.Get(e.a.env.URL + "/login/esign")
		if p.Status != http.StatusOK {
			t.Fatalf("page: %d", p.Status)
		}
		f, err := p.Form("/login/esign")
		if err != nil {
			t.Fatal(err)
		}
		text := b.Get(e.a.env.URL + "/login/esign/challenge/" + f.Values.Get("challenge_id"))
		if text.Status != http.StatusOK || !strings.Contains(text.Body, f.Values.Get("challenge_id")) {
			t.Fatalf("challenge text: %d %q", text.Status, text.Body)
		}
		b.Last = p
		return b.SubmitFile("/login/esign", nil, "signature", "challenge.p7s", c.SignDetached(t, []byte(text.Body)))
	}
	expired := e.ecdsa.Issue(t, "ecdsa", esigntest.Person{SNILS: "12345678964", FamilyName: "Иванов", GivenName: "Иван",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if p := signWith(expired); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Срок действия сертификата истёк") {
		t.Errorf("expired: %d\n%s", p.Status, p.Body)
	}
	b.Header.Set("Accept-Language", "en")
	if p := signWith(e.other.Issue(t, "ecdsa", ivanovCert())); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "not issued by an accredited certification authority") {
		t.Errorf("untrusted, in English: %d\n%s", p.Status, p.Body)
	}
	if p := signWith(e.rsa.Issue(t, "rsa", ivanovCert())); p.Status != http.StatusOK || p.URL.Path != "/account" {
		t.Fatalf("sign-in: %d at %s\n%s", p.Status, p.URL, p.Body)
	}
}
