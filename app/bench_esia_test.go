package app_test

import (
	"net/http"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// BenchmarkESIATokenExchange is one POST /aas/oauth2/v3/te of an
// RSA-signing ESIA client through the whole HTTP stack (embedded SQLite):
// the signature check (PKCS#1 v1.5, 2048-bit), the in-process exchange at
// gosid's token endpoint and two ESIA tokens signed. "code" exchanges an
// authorization code (the browser's sign-in for each code is not timed);
// "refresh" follows the rotating refresh token.
func BenchmarkESIATokenExchange(b *testing.B) {
	env := apptest.Start(b, apptest.NewConfig(b, apptest.SQLite))
	rp := newESIARP(b, env, "BENCHIS1", nil)
	env.CreateAccount(b, testPhone, testPassword)
	br := env.NewBrowser(b)
	b.Run("code", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			u, _ := rp.acURL(esiaScope)
			code := br.SignIn(u, testPhone, testPassword).Query().Get("code")
			form := rp.codeForm(code, esiaScope)
			b.StartTimer()
			if a := rp.te(form); a.Status != http.StatusOK {
				b.Fatalf("v3/te: %d %s", a.Status, a.Raw)
			}
		}
	})
	b.Run("refresh", func(b *testing.B) {
		u, _ := rp.acURL(esiaScope)
		code := br.SignIn(u, testPhone, testPassword).Query().Get("code")
		a := rp.te(rp.codeForm(code, esiaScope))
		rt, _ := a.Body["refresh_token"].(string)
		for range b.N {
			b.StopTimer()
			form := rp.refreshForm(rt, esiaScope)
			b.StartTimer()
			a := rp.te(form)
			if a.Status != http.StatusOK {
				b.Fatalf("refresh: %d %s", a.Status, a.Raw)
			}
			rt = a.Body["refresh_token"].(string)
		}
	})
}
