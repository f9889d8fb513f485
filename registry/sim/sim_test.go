package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newTestServer(t *testing.T) (*Sim, *httptest.Server) {
	t.Helper()
	s, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

type rawAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func post(t *testing.T, url, contentType, idem, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := rawAnswer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(b, &a.body)
	return a
}

const ivanovSNILS = `{"family_name":"Иванов","given_name":"Иван","middle_name":"Иванович","birth_date":"1985-03-14","snils":"12345678964"}`

// The simulator checks the wire format itself, so that an adapter bug
// shows as a refusal instead of a lucky match.
func TestRefusesMalformedRequests(t *testing.T) {
	_, srv := newTestServer(t)
	for _, tc := range []struct {
		name, path, contentType, idem, body string
		status                              int
		code                                string
	}{
		{"valid", "/v1/snils/check", "application/json", "k1", ivanovSNILS, 200, ""},
		{"charset parameter", "/v1/snils/check", "application/json; charset=utf-8", "k1", ivanovSNILS, 200, ""},
		{"no content type", "/v1/snils/check", "", "k1", ivanovSNILS, 415, "unsupported_media_type"},
		{"form", "/v1/snils/check", "application/x-www-form-urlencoded", "k1", ivanovSNILS, 415, "unsupported_media_type"},
		{"no idempotency key", "/v1/snils/check", "application/json", "", ivanovSNILS, 400, "invalid_request"},
		{"unknown field", "/v1/snils/check", "application/json", "k1", strings.Replace(ivanovSNILS, `"snils"`, `"sex":"M","snils"`, 1), 400, "invalid_request"},
		{"two values", "/v1/snils/check", "application/json", "k1", ivanovSNILS + ivanovSNILS, 400, "invalid_request"},
		{"not json", "/v1/snils/check", "application/json", "k1", "snils=12345678964", 400, "invalid_request"},
		{"bad check digits", "/v1/snils/check", "application/json", "k1", strings.Replace(ivanovSNILS, "64", "65", 1), 400, "invalid_request"},
		{"dotted birth date", "/v1/snils/check", "application/json", "k1", strings.Replace(ivanovSNILS, "1985-03-14", "14.03.1985", 1), 400, "invalid_request"},
		{"no given name", "/v1/snils/check", "application/json", "k1", strings.Replace(ivanovSNILS, `"Иван"`, `""`, 1), 400, "invalid_request"},
		{"too big", "/v1/snils/check", "application/json", "k1", `{"family_name":"` + strings.Repeat("И", maxRequestBytes) + `"}`, 400, "invalid_request"},
		{"passport fields on snils", "/v1/snils/check", "application/json", "k1", strings.Replace(ivanovSNILS, `"snils"`, `"series":"4505","snils"`, 1), 400, "invalid_request"},
		{"inn half a passport", "/v1/inn/check", "application/json", "k1",
			`{"family_name":"Иванов","given_name":"Иван","middle_name":"Иванович","birth_date":"1985-03-14","inn":"770112345695","passport_series":"4505"}`, 400, "invalid_request"},
		{"passport bad number", "/v1/passport/check", "application/json", "k1",
			`{"family_name":"Иванов","given_name":"Иван","middle_name":"","birth_date":"1985-03-14","series":"4505","number":"12345","issued_at":"2005-04-01"}`, 400, "invalid_request"},
		{"unknown path", "/v1/driving-licence/check", "application/json", "k1", ivanovSNILS, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, srv.URL+tc.path, tc.contentType, tc.idem, tc.body)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d (%v)", a.status, tc.status, a.body)
			}
			if tc.code != "" && a.body["error"] != tc.code {
				t.Errorf("error %v, want %s", a.body["error"], tc.code)
			}
		})
	}
	resp, err := http.Get(srv.URL + "/v1/snils/check")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestAnswerShape(t *testing.T) {
	_, srv := newTestServer(t)
	a := post(t, srv.URL+"/v1/snils/check", "application/json", "k1", ivanovSNILS)
	if a.body["outcome"] != "match" || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", a.status, a.body)
	}
	if f, ok := a.body["fields"].([]any); !ok || len(f) != 0 {
		t.Errorf("fields %v, want []", a.body["fields"])
	}
	if ref, _ := a.body["reference"].(string); !strings.HasPrefix(ref, "sim-sfr-") {
		t.Errorf("reference %q", ref)
	}
	if _, ok := a.body["checked_at"].(string); !ok {
		t.Errorf("checked_at %v", a.body["checked_at"])
	}
}

func TestControls(t *testing.T) {
	s, srv := newTestServer(t)
	check := func() int {
		t.Helper()
		return post(t, srv.URL+"/v1/snils/check", "application/json", "k1", ivanovSNILS).status
	}
	s.SetDown(true)
	a := post(t, srv.URL+"/v1/snils/check", "application/json", "k1", ivanovSNILS)
	if a.status != 503 || a.header.Get("Retry-After") != "1" {
		t.Fatalf("down: %d %v", a.status, a.header)
	}
	// Down answers before looking at the request at all.
	if got := post(t, srv.URL+"/v1/snils/check", "text/plain", "", "").status; got != 503 {
		t.Errorf("down, malformed request: %d", got)
	}
	s.SetDown(false)
	if got := check(); got != 200 {
		t.Fatalf("up: %d", got)
	}
	s.FailNext(2)
	if a, b, c := check(), check(), check(); a != 503 || b != 503 || c != 200 {
		t.Errorf("FailNext(2): %d %d %d", a, b, c)
	}
	s.FailNext(5)
	s.SetDown(true)
	s.Reset()
	if got := check(); got != 200 {
		t.Errorf("after Reset: %d", got)
	}
	if got := s.Requests(); got != 7 {
		t.Errorf("Requests() = %d, want 7", got)
	}
}

func TestMisbehaviourCountsPerDocument(t *testing.T) {
	s, srv := newTestServer(t)
	p, _ := Default().Person("morozova")
	snils := `{"family_name":"Морозова","given_name":"Екатерина","middle_name":"Андреевна","birth_date":"1995-04-18","snils":"` + p.SNILS + `"}`
	inn := `{"family_name":"Морозова","given_name":"Екатерина","middle_name":"Андреевна","birth_date":"1995-04-18","inn":"` + p.INN + `"}`
	var got []int
	for _, body := range []string{snils, inn, snils, snils, inn, inn} {
		path := "/v1/snils/check"
		if body == inn {
			path = "/v1/inn/check"
		}
		got = append(got, post(t, srv.URL+path, "application/json", "k", body).status)
	}
	want := []int{503, 503, 503, 200, 503, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	s.Reset()
	if st := post(t, srv.URL+"/v1/snils/check", "application/json", "k", snils).status; st != 503 {
		t.Errorf("after Reset: %d, want 503 again", st)
	}
}
