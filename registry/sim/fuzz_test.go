package sim

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The simulator reads requests from whoever connects: any body gets a
// well-formed answer and never a panic.
func FuzzCheck(f *testing.F) {
	f.Add("/v1/snils/check", []byte(`{"family_name":"Иванов","given_name":"Иван","middle_name":"Иванович","birth_date":"1985-03-14","snils":"12345678964"}`))
	f.Add("/v1/passport/check", []byte(`{"family_name":"Иванов","given_name":"Иван","middle_name":"","birth_date":"1985-03-14","series":"4505","number":"123456","issued_at":"2005-04-01"}`))
	f.Add("/v1/inn/check", []byte(`{"family_name":"Иванов","given_name":"Иван","middle_name":"","birth_date":"1985-03-14","inn":"770112345695","passport_series":"4505","passport_number":"123456"}`))
	f.Add("/v1/inn/check", []byte(`{"inn":7}`))
	s, err := New(Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		req, err := http.NewRequest(http.MethodPost, "http://sim"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "fuzz")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 404, 405, 429, 500, 503:
		case 301, 307, 308: // the mux cleaning a path such as //v1/snils/check
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

func FuzzLoad(f *testing.F) {
	f.Add(defaultDataset)
	f.Add([]byte(`{"persons":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := Load(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, err := New(ds); err != nil {
			t.Fatalf("Load accepted what New refuses: %v", err)
		}
	})
}
