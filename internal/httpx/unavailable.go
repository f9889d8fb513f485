package httpx

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"

	"github.com/gosid/gosid/storage"
)

// RetryAfter is how long a client is told to wait when a store is away.
const RetryAfter = "5"

// MaxKeptForm bounds the form a 503 answer gives back (bytes of the
// urlencoded body): a larger form is not kept.
const MaxKeptForm = 16 << 10

// Answer writes the 503 of a request that failed because a store is away.
// form is the urlencoded body of a form the request posted, as sent (at
// most MaxKeptForm bytes), or "" when it posted none, so that the answer
// can give the citizen's input back.
type Answer func(w http.ResponseWriter, r *http.Request, form string)

// Unavailable turns an internal error into 503 Service Unavailable with
// Retry-After when a backing store was unavailable while the request ran
// (a store noted it in the request's context) or is unavailable now (down
// says so). Handlers keep writing "internal error" wherever they fail; this
// one place tells the client that the failure is temporary and says when to
// come back. answer writes the 503 in the client's terms (a JSON error on
// the APIs, a page in the citizen's language elsewhere).
func Unavailable(down func(context.Context) bool, answer Answer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, outage := storage.WithOutage(r.Context())
			r = r.WithContext(ctx)
			ow := &outageWriter{ResponseWriter: w, r: r, outage: outage, down: down, answer: answer}
			if r.Method == http.MethodPost && r.Body != nil && isForm(r.Header.Get("Content-Type")) {
				ow.form = &formRecorder{ReadCloser: r.Body}
				r.Body = ow.form
			}
			next.ServeHTTP(ow, r)
		})
	}
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

type outageWriter struct {
	http.ResponseWriter
	r       *http.Request
	outage  *storage.Outage
	down    func(context.Context) bool
	answer  Answer
	form    *formRecorder
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
		w.answer(w.ResponseWriter, w.r, w.form.body())
		return
	}
	if code == http.StatusServiceUnavailable && w.ResponseWriter.Header().Get("Retry-After") == "" {
		// A handler's own 503 says when to come back, too.
		w.ResponseWriter.Header().Set("Retry-After", RetryAfter)
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

// formRecorder keeps a copy of the form body the handler reads, up to
// MaxKeptForm bytes.
type formRecorder struct {
	io.ReadCloser
	buf  bytes.Buffer
	over bool // longer than MaxKeptForm: nothing is kept
	eof  bool
}

func (f *formRecorder) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if !f.over {
		if f.buf.Len()+n > MaxKeptForm {
			f.over = true
			f.buf = bytes.Buffer{}
		} else {
			f.buf.Write(p[:n])
		}
	}
	if err == io.EOF {
		f.eof = true
	}
	return n, err
}

// body returns the whole form as sent, reading what the handler left
// unread (within the bound), or "" when there is none or it is too long.
func (f *formRecorder) body() string {
	if f == nil {
		return ""
	}
	if !f.eof && !f.over {
		_, _ = io.Copy(io.Discard, io.LimitReader(f, int64(MaxKeptForm-f.buf.Len()+1)))
	}
	if f.over || !f.eof {
		return ""
	}
	return f.buf.String()
}
