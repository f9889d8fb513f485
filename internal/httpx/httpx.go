// Package httpx holds gosid's HTTP middleware: client IP resolution behind
// trusted proxies, body limits, panic recovery and access logging.
package httpx

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

type ipKey struct{}

// ClientIP returns the address the request came from, as resolved by
// RealIP; it falls back to RemoteAddr.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(ipKey{}).(string); ok {
		return ip
	}
	return remoteHost(r)
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// RealIP believes X-Forwarded-For only from trusted proxies, walking the
// chain from the right and stopping at the first untrusted hop.
func RealIP(trusted []string) (func(http.Handler) http.Handler, error) {
	var nets []*net.IPNet
	for _, t := range trusted {
		if !strings.Contains(t, "/") {
			if strings.Contains(t, ":") {
				t += "/128"
			} else {
				t += "/32"
			}
		}
		_, n, err := net.ParseCIDR(t)
		if err != nil {
			return nil, err
		}
		nets = append(nets, n)
	}
	isTrusted := func(s string) bool {
		ip := net.ParseIP(strings.TrimSpace(s))
		for _, n := range nets {
			if ip != nil && n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := remoteHost(r)
			if isTrusted(ip) {
				hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					h := strings.TrimSpace(hops[i])
					if net.ParseIP(h) == nil {
						break
					}
					ip = h
					if !isTrusted(h) {
						break
					}
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ipKey{}, ip)))
		})
	}, nil
}

// MaxBody declares that the route h accepts bodies of up to max bytes
// (uploads of files) instead of LimitBody's default.
func MaxBody(max int64, h http.Handler) http.Handler { return &maxBody{Handler: h, max: max} }

type maxBody struct {
	http.Handler
	max int64
}

// LimitBody caps request bodies at def bytes, or at what the matched route
// declared with MaxBody. It is a router middleware (mux.Router.Use): it
// runs once the route is known; requests that match no route read no body.
func LimitBody(def int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			max := def
			if route := mux.CurrentRoute(r); route != nil {
				if mb, ok := route.GetHandler().(*maxBody); ok {
					max = mb.max
				}
			}
			if r.ContentLength > max {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"The request body is too large."}`))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// Recover turns a panic into a plain 500 without a stack trace in the
// response; the stack goes to the log.
func Recover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic", "path", r.URL.Path, "panic", v)
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"error":"server_error","error_description":"Internal error."}`))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// StatusRecorder remembers the status code written.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records the status.
func (s *StatusRecorder) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (s *StatusRecorder) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// AccessLog logs one line per request: method, path (never the query, which
// may hold codes or tokens), status and duration.
func AccessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &StatusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			log.LogAttrs(r.Context(), slog.LevelDebug, "http",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.Status), slog.Duration("duration", time.Since(start)),
				slog.String("ip", ClientIP(r)))
		})
	}
}

// HSTSValue is the Strict-Transport-Security gosid sends when its issuer is
// https: browsers use only https for the host (and its subdomains) for a
// year.
const HSTSValue = "max-age=31536000; includeSubDomains"

// HSTS sets Strict-Transport-Security on every response. It is for an
// https issuer only, whether gosid terminates TLS or a proxy does: a plain
// http development server must not send it.
func HSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", HSTSValue)
		next.ServeHTTP(w, r)
	})
}
