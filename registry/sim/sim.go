package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosid/gosid/registry"
)

// DefaultSlowDelay is how long a Slow person's check takes unless
// SetSlowDelay says otherwise: longer than any sensible adapter timeout.
const DefaultSlowDelay = 30 * time.Second

// maxRequestBytes bounds a check's body.
const maxRequestBytes = 64 << 10

// oversizeBytes is the length of an Oversize person's answer.
const oversizeBytes = 1 << 20

// Sim is the simulated registries: an http.Handler serving
// POST /v1/passport/check, /v1/snils/check and /v1/inn/check in gosid's
// wire format. It is safe for concurrent use; its controls may be changed
// while it serves.
type Sim struct {
	passports map[string]passportEntry
	snils     map[string]*Person
	inn       map[string]*Person
	mux       *http.ServeMux
	log       *slog.Logger
	requests  atomic.Int64
	answers   atomic.Int64

	mu       sync.Mutex
	down     bool
	failNext int
	slow     time.Duration
	failures map[string]int // per document: misbehaving answers so far
}

type passportEntry struct {
	person   *Person
	passport Passport
}

// New validates ds and returns a simulator answering from it.
func New(ds Dataset) (*Sim, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		passports: map[string]passportEntry{},
		snils:     map[string]*Person{},
		inn:       map[string]*Person{},
		mux:       http.NewServeMux(),
		log:       slog.New(slog.DiscardHandler),
		slow:      DefaultSlowDelay,
		failures:  map[string]int{},
	}
	for i := range ds.Persons {
		p := &ds.Persons[i]
		for _, pp := range p.Passports {
			s.passports[pp.Series+pp.Number] = passportEntry{p, pp}
		}
		if p.SNILS != "" {
			s.snils[p.SNILS] = p
		}
		if p.INN != "" {
			s.inn[p.INN] = p
		}
	}
	s.mux.HandleFunc("POST /v1/passport/check", s.checkPassport)
	s.mux.HandleFunc("POST /v1/snils/check", s.checkSNILS)
	s.mux.HandleFunc("POST /v1/inn/check", s.checkINN)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetDown makes every check answer 503 with Retry-After: 1 while down is
// true, as a registry closed for maintenance.
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// FailNext makes the next n checks, whoever they are for, answer 503.
func (s *Sim) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = max(n, 0)
}

// SetSlowDelay sets how long a Slow person's check takes.
func (s *Sim) SetSlowDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow = d
}

// SetLogger logs one line per check (registry, outcome or failure, request
// id; never a name or a document number). nil discards.
func (s *Sim) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = l
}

// Reset brings the simulator up, cancels FailNext and forgets how many times
// each document has misbehaved, so Unavailable and RateLimited persons fail
// again.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down, s.failNext = false, 0
	clear(s.failures)
}

// Requests returns how many check requests arrived, answered or not.
func (s *Sim) Requests() int64 { return s.requests.Load() }

// outage reports whether SetDown or FailNext makes this check fail.
func (s *Sim) outage() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return true
	}
	if s.failNext > 0 {
		s.failNext--
		return true
	}
	return false
}

// misbehave reports whether the document's check misbehaves this time, and
// counts it.
func (s *Sim) misbehave(doc string, times int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.failures[doc]
	if times > 0 && n >= times {
		return false
	}
	s.failures[doc] = n + 1
	return true
}

func (s *Sim) settings() (time.Duration, *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slow, s.log
}

// check is one decoded, valid query: the document it names, the person the
// registry knows for it (nil when none), and how the registry judges it.
type check struct {
	registry string
	doc      string
	person   *Person
	judge    func() (registry.Outcome, []string)
}

func (s *Sim) checkPassport(w http.ResponseWriter, r *http.Request) {
	var q passportQuery
	if !s.accept(w, r, registry.MVD, &q) {
		return
	}
	e, ok := s.passports[q.Series+q.Number]
	s.answer(w, r, check{registry.MVD, "passport " + q.Series + q.Number, e.person, func() (registry.Outcome, []string) {
		if !ok {
			return registry.NotFound, nil
		}
		if e.passport.Status == "invalid" {
			return registry.Suspended, nil
		}
		fields := q.personQuery.compare(e.person)
		if q.IssuedAt != e.passport.IssuedAt {
			fields = append(fields, registry.FieldIssuedAt)
		}
		return verdict(fields)
	}})
}

func (s *Sim) checkSNILS(w http.ResponseWriter, r *http.Request) {
	var q snilsQuery
	if !s.accept(w, r, registry.SFR, &q) {
		return
	}
	p := s.snils[q.SNILS]
	s.answer(w, r, check{registry.SFR, "snils " + q.SNILS, p, func() (registry.Outcome, []string) {
		if p == nil {
			return registry.NotFound, nil
		}
		if p.SNILSStatus == "suspended" || p.SNILSStatus == "annulled" {
			return registry.Suspended, nil
		}
		return verdict(q.personQuery.compare(p))
	}})
}

func (s *Sim) checkINN(w http.ResponseWriter, r *http.Request) {
	var q innQuery
	if !s.accept(w, r, registry.FNS, &q) {
		return
	}
	p := s.inn[q.INN]
	s.answer(w, r, check{registry.FNS, "inn " + q.INN, p, func() (registry.Outcome, []string) {
		if p == nil {
			return registry.NotFound, nil
		}
		if p.INNStatus == "invalid" {
			return registry.Suspended, nil
		}
		fields := q.personQuery.compare(p)
		if q.PassportSeries != "" {
			cur, _ := p.currentPassport()
			if q.PassportSeries != cur.Series {
				fields = append(fields, registry.FieldPassportSeries)
			}
			if q.PassportNumber != cur.Number {
				fields = append(fields, registry.FieldPassportNumber)
			}
		}
		return verdict(fields)
	}})
}

func verdict(fields []string) (registry.Outcome, []string) {
	if len(fields) > 0 {
		return registry.Mismatch, fields
	}
	return registry.Match, nil
}

// validator is a decoded query that can check its own format.
type validator interface{ validate() error }

// accept counts the request, answers an outage, and decodes and validates
// the query; it reports whether the check goes on.
func (s *Sim) accept(w http.ResponseWriter, r *http.Request, reg string, q validator) bool {
	s.requests.Add(1)
	_, log := s.settings()
	id := r.Header.Get("Idempotency-Key")
	if s.outage() {
		log.Info("registry check", "registry", reg, "status", http.StatusServiceUnavailable, "reason", "down", "request_id", id)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the registry is down")
		return false
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be application/json")
		return false
	}
	err := decodeStrict(http.MaxBytesReader(w, r.Body, maxRequestBytes), q)
	if err == nil {
		err = q.validate()
	}
	if err == nil && (id == "" || len(id) > 128 || strings.IndexFunc(id, func(c rune) bool { return c <= ' ' || c > '~' }) >= 0) {
		err = errors.New("Idempotency-Key must be 1 to 128 visible ASCII characters")
	}
	if err != nil {
		log.Info("registry check", "registry", reg, "status", http.StatusBadRequest, "request_id", id)
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return false
	}
	return true
}

func decodeStrict(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return errors.New("body: more than one JSON value")
	}
	return nil
}

// answer applies the person's behaviour, then answers with the judgement.
func (s *Sim) answer(w http.ResponseWriter, r *http.Request, c check) {
	slow, log := s.settings()
	id := r.Header.Get("Idempotency-Key")
	var b Behaviour
	if c.person != nil {
		b = c.person.Behaviour
	}
	logged := func(status int) {
		log.Info("registry check", "registry", c.registry, "status", status, "behaviour", string(b), "request_id", id)
	}
	switch {
	case b == Slow:
		t := time.NewTimer(slow)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			logged(0)
			return
		}
	case b == Unavailable && s.misbehave(c.doc, c.person.Times):
		logged(http.StatusServiceUnavailable)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the registry is overloaded")
		return
	case b == RateLimited && s.misbehave(c.doc, c.person.Times):
		logged(http.StatusTooManyRequests)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
		return
	case b == InternalError:
		logged(http.StatusInternalServerError)
		writeError(w, http.StatusInternalServerError, "internal_error", "the registry failed")
		return
	case b == Malformed:
		logged(http.StatusOK)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"outcome":"match","fields":[`)
		return
	}
	outcome, fields := c.judge()
	if fields == nil {
		fields = []string{}
	}
	n := s.answers.Add(1)
	body, _ := json.Marshal(map[string]any{
		"outcome":    outcome,
		"fields":     fields,
		"reference":  fmt.Sprintf("sim-%s-%06d", c.registry, n),
		"checked_at": time.Now().UTC().Format(time.RFC3339),
	})
	if b == Oversize {
		// Valid JSON all the same: only the length is wrong.
		body = append(body[:len(body)-1], append([]byte(strings.Repeat(" ", oversizeBytes)), '}')...)
	}
	log.Info("registry check", "registry", c.registry, "status", http.StatusOK, "outcome", string(outcome), "behaviour", string(b), "request_id", id)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
