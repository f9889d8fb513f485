package httpx

import (
	"context"
	"net/http"

	"github.com/gosid/gosid/storage"
)

// RetryAfter is how long a client is told to wait when a store is away.
const RetryAfter = "5"

// Unavailable turns an internal error into 503 Service Unavailable with
// Retry-After when a backing store was unavailable while the request ran
// (a store noted it in the request's context) or is unavailable now (down
// says so). Handlers keep writing "internal error" wherever they fail; this
// one place tells the client that the failure is temporary and says when to
// come back. answer writes the 503 in the client's terms (a JSON error on
// the APIs, a page in the citizen's language elsewhere).
func Unavailable(down func(context.Context) bool, answer func(w http.ResponseWriter, r *http.Request)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, outage := storage.WithOutage(r.Context())
			r = r.WithContext(ctx)
			ow := &outageWriter{ResponseWriter: w, r: r, outage: outage, down: down, answer: answer}
			next.ServeHTTP(ow, r)
		})
	}
}

type outageWriter struct {
	http.ResponseWriter
	r       *http.Request
	outage  *storage.Outage
	down    func(context.Context) bool
	answer  func(w http.ResponseWriter, r *http.Request)
	wrote   bool
	swallow bool
}

func (w *outageWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if code >= 500 && code != http.StatusServiceUnavailable && (w.outage.Seen() || w.down(w.r.Context())) {
		w.swallow = true
		h := w.ResponseWriter.Header()
		for _, k := range []string{"Content-Type", "Content-Length", "WWW-Authenticate"} {
			h.Del(k)
		}
		h.Set("Retry-After", RetryAfter)
		w.answer(w.ResponseWriter, w.r)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *outageWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *outageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
