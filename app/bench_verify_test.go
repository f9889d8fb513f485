package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/audit"
)

// BenchmarkVerificationLatency is one submission of personal data until it
// is verified: the API call, the durable job picked up by a worker, three
// registry checks over HTTP (the in-process reference registry), the
// encrypted write and the level change. Embedded SQLite.
func BenchmarkVerificationLatency(b *testing.B) {
	env := apptest.Start(b, apptest.NewConfig(b, apptest.SQLite))
	client := env.Client()
	i := 0
	for b.Loop() {
		b.StopTimer()
		phone := fmt.Sprintf("+7916%07d", i)
		i++
		env.CreateAccount(b, phone, testPassword)
		token := benchLogin(b, env, phone)
		b.StartTimer()
		// After the first, the same documents are refused as taken: still
		// three registry checks and a decision each time.
		benchJSON(b, client, http.MethodPut, env.URL+"/api/v1/session/profile", token, ivanov(), nil)
		for {
			var v profileView
			benchJSON(b, client, http.MethodGet, env.URL+"/api/v1/session/profile", token, nil, &v)
			if v.Status != "verifying" {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// BenchmarkActivityPage is the activity log page (one page of 50 of the
// account's 100 entries) and the profile page (decrypting the personal
// data) of an account with 100 log entries, through the whole HTTP stack.
func BenchmarkActivityPage(b *testing.B) {
	env := apptest.Start(b, apptest.NewConfig(b, apptest.SQLite))
	acct := env.CreateAccount(b, testPhone, testPassword)
	for i := range 100 {
		_ = env.Stores.DB.AppendEvent(b.Context(), &audit.Event{AccountID: acct.ID, Type: "login.success",
			IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0", At: time.Now().Add(time.Duration(i) * time.Second)})
	}
	token := benchLogin(b, env, testPhone)
	benchJSON(b, env.Client(), http.MethodPut, env.URL+"/api/v1/session/profile", token, ivanov(), nil)
	for {
		var v profileView
		benchJSON(b, env.Client(), http.MethodGet, env.URL+"/api/v1/session/profile", token, nil, &v)
		if v.Status == "verified" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	br := env.NewBrowser(b)
	br.Get(env.URL + "/login")
	br.Submit("/login", map[string][]string{"login": {testPhone}, "password": {testPassword}})
	for _, path := range []string{"/settings/activity", "/profile"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				if p := br.Get(env.URL + path); p.Status != http.StatusOK {
					b.Fatalf("%s: %d", path, p.Status)
				}
			}
		})
	}
}

func benchJSON(b *testing.B, c *http.Client, method, u, token string, body, out any) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, u, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Fatalf("%s %s: %d", method, u, resp.StatusCode)
	}
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
}

func benchLogin(b *testing.B, env *apptest.Env, phone string) string {
	c := env.Client()
	var f flowView
	benchJSON(b, c, http.MethodPost, env.URL+"/api/v1/flows/login", "", nil, &f)
	var v flowView
	benchJSON(b, c, http.MethodPost, env.URL+"/api/v1/flows/login/"+f.ID, f.FlowToken, map[string]any{"login": phone, "password": testPassword}, &v)
	return v.SessionToken
}
