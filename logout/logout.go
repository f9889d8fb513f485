// Package logout tells relying services that a citizen's sign-in session
// ended: OpenID Connect Back-Channel Logout 1.0 (a signed logout token
// POSTed to each service's backchannel_logout_uri by a durable job, retried
// with backoff) and the list of front-channel logout iframes (Front-Channel
// Logout 1.0) for gosid's logout page.
//
// When gosid issues an authorization code in a sign-in session (sid) to a
// client that registered a logout URI, Record notes the pair, with the sub
// that client knows, in the durable store. When the session ends — sign-out
// at gosid or at a service, ending it on the sessions page, a password
// change or recovery that ends every session, account deletion — the
// session store calls Ended, which takes the pairs and queues one job per
// back-channel client in the same transaction.
package logout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/clients"
)

// EventBackchannel is the event member of a logout token (§2.4).
const EventBackchannel = "http://schemas.openid.net/event/backchannel-logout"

// QueueName is the job queue of logout deliveries.
const QueueName = "logout"

// Entry is a client that got tokens in a sign-in session.
type Entry struct {
	SessionID string
	ClientID  string
	AccountID string
	// Subject is the sub the client knows (pairwise or public).
	Subject string
	// Expires is when the session ends at the latest; the entry is swept then.
	Expires time.Time
}

// Store is the durable port of session entries.
type Store interface {
	// AddSessionClient records e; recording the same session and client
	// again replaces the entry.
	AddSessionClient(ctx context.Context, e *Entry) error
	// TakeSessionClients deletes and returns the entries of a session: of
	// two concurrent callers exactly one gets each entry.
	TakeSessionClients(ctx context.Context, sessionID string) ([]*Entry, error)
	// ListSessionClients returns the entries of a session.
	ListSessionClients(ctx context.Context, sessionID string) ([]*Entry, error)
}

// Clients looks clients up (the client cache).
type Clients interface {
	GetClient(ctx context.Context, id string) (*clients.Client, error)
}

// Signer signs a JWT with gosid's active key of alg (keys.Manager).
type Signer interface {
	Sign(ctx context.Context, alg string, claims any, typ string) (string, error)
}

// Inserter commits a durable job, inside the transaction ctx carries if
// any (notify.Queue).
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Tx runs fn in one transaction (sqlstore.Store.InTx).
type Tx interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Options configure a Service.
type Options struct {
	Issuer  string
	Store   Store
	Clients Clients
	Signer  Signer
	Queue   Inserter
	Tx      Tx
	// HTTP posts logout tokens; it must be bounded (provider.NewFetchClient).
	HTTP *http.Client
	// SessionTTL bounds how long an entry is kept.
	SessionTTL time.Duration
	// MaxAttempts is how many deliveries a logout token gets (10 when zero).
	MaxAttempts int
	// Audit records deliveries that failed for good; OnFailure counts them
	// (a metric). Both optional.
	Audit     audit.Store
	OnFailure func(clientID string)
	Logger    *slog.Logger
}

// Service records sessions' clients and sends logout tokens.
type Service struct {
	o   Options
	now func() time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return &Service{o: o, now: time.Now}
}

// Record notes that the client got tokens in the sign-in session sid with
// sub subject. Only clients with a logout URI are recorded.
func (s *Service) Record(ctx context.Context, sid, accountID, clientID, subject string) error {
	if s == nil || sid == "" {
		return nil
	}
	c, err := s.o.Clients.GetClient(ctx, clientID)
	if err != nil {
		return fmt.Errorf("logout: record: %w", err)
	}
	if c.BackchannelLogoutURI == "" && c.FrontchannelLogoutURI == "" {
		return nil
	}
	return s.o.Store.AddSessionClient(ctx, &Entry{SessionID: sid, ClientID: clientID, AccountID: accountID,
		Subject: subject, Expires: s.now().Add(s.o.SessionTTL)})
}

// Frame is one front-channel logout iframe.
type Frame struct {
	ClientID string
	URL      string
}

// FrontChannel returns the iframes of the session's front-channel clients
// (§2: iss and sid added when the client asks for them). Call it before
// the session ends.
func (s *Service) FrontChannel(ctx context.Context, sid string) ([]Frame, error) {
	if s == nil || sid == "" {
		return nil, nil
	}
	entries, err := s.o.Store.ListSessionClients(ctx, sid)
	if err != nil {
		return nil, fmt.Errorf("logout: front channel: %w", err)
	}
	var out []Frame
	for _, e := range entries {
		c, err := s.o.Clients.GetClient(ctx, e.ClientID)
		if err != nil || c.FrontchannelLogoutURI == "" {
			continue
		}
		u, err := url.Parse(c.FrontchannelLogoutURI)
		if err != nil {
			continue
		}
		if c.FrontchannelLogoutSessionRequired {
			q := u.Query()
			q.Set("iss", s.o.Issuer)
			q.Set("sid", sid)
			u.RawQuery = q.Encode()
		}
		out = append(out, Frame{ClientID: c.ID, URL: u.String()})
	}
	return out, nil
}

// Ended is called when sign-in sessions of an account end: it takes their
// entries and queues a logout token for each back-channel client, in one
// transaction, so that each is queued exactly once.
func (s *Service) Ended(ctx context.Context, accountID string, sids []string) error {
	if s == nil || len(sids) == 0 {
		return nil
	}
	return s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		for _, sid := range sids {
			entries, err := s.o.Store.TakeSessionClients(ctx, sid)
			if err != nil {
				return fmt.Errorf("logout: take session clients: %w", err)
			}
			for _, e := range entries {
				c, err := s.o.Clients.GetClient(ctx, e.ClientID)
				if err != nil || c.BackchannelLogoutURI == "" {
					continue
				}
				args := JobArgs{ClientID: e.ClientID, SessionID: e.SessionID, Subject: e.Subject, AccountID: e.AccountID}
				if err := s.o.Queue.Insert(ctx, args, &river.InsertOpts{Queue: QueueName, MaxAttempts: s.o.MaxAttempts}); err != nil {
					return fmt.Errorf("logout: queue logout token: %w", err)
				}
			}
		}
		return nil
	})
}

// JobArgs is the durable job of one logout token. The token is built and
// signed at each attempt (fresh iat and jti, the current key).
type JobArgs struct {
	ClientID  string `json:"client_id"`
	SessionID string `json:"sid"`
	Subject   string `json:"sub"`
	AccountID string `json:"account_id"`
}

// Kind implements river.JobArgs.
func (JobArgs) Kind() string { return "backchannel_logout" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (JobArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueName} }

// Worker delivers logout tokens.
type Worker struct {
	river.WorkerDefaults[JobArgs]
	s *Service
}

// Worker returns the worker of logout jobs.
func (s *Service) Worker() *Worker { return &Worker{s: s} }

// Register adds the worker to a river worker set.
func (w *Worker) Register(ws *river.Workers) error { return river.AddWorkerSafely(ws, w) }

// Timeout bounds one delivery.
func (w *Worker) Timeout(*river.Job[JobArgs]) time.Duration { return 30 * time.Second }

// Token builds and signs the logout token of a job (§2.4): iss, aud, iat,
// exp, jti, sub, sid and the back-channel event, typ logout+jwt, signed
// with the client's id_token algorithm; never a nonce.
func (s *Service) Token(ctx context.Context, c *clients.Client, a JobArgs) (string, error) {
	now := s.now()
	alg := c.IDTokenAlg
	if alg == "" {
		alg = "RS256"
	}
	claims := map[string]any{
		"iss": s.o.Issuer, "aud": c.ID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": uuid.NewString(), "sid": a.SessionID,
		"events": map[string]any{EventBackchannel: map[string]any{}},
	}
	if a.Subject != "" {
		claims["sub"] = a.Subject
	}
	return s.o.Signer.Sign(ctx, alg, claims, "logout+jwt")
}

// Work implements river.Worker: one POST of the logout token (§2.5). A 200
// or 204 ends the job; anything else is retried with backoff, and the last
// failure is logged, counted and audited for administrators.
func (w *Worker) Work(ctx context.Context, job *river.Job[JobArgs]) error {
	s := w.s
	a := job.Args
	log := s.o.Logger.With("job_id", job.ID, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "client_id", a.ClientID)
	c, err := s.o.Clients.GetClient(ctx, a.ClientID)
	if err != nil || c.BackchannelLogoutURI == "" {
		log.Info("logout: the client was deleted or no longer has a back-channel logout URI; not sent")
		return nil
	}
	tok, err := s.Token(ctx, c, a)
	if err != nil {
		return fmt.Errorf("logout: sign logout token: %w", err)
	}
	err = s.post(ctx, c.BackchannelLogoutURI, tok)
	if err == nil {
		log.Info("logout: logout token delivered")
		return nil
	}
	if job.Attempt >= job.MaxAttempts {
		log.Error("logout: logout token not delivered; no attempts left", "err", err)
		if s.o.OnFailure != nil {
			s.o.OnFailure(a.ClientID)
		}
		if s.o.Audit != nil {
			ev := &audit.Event{AccountID: a.AccountID, Type: "logout.backchannel_failed", ClientID: a.ClientID,
				Data: map[string]string{"sid": a.SessionID, "error": truncate(err.Error(), 200)}, At: s.now().UTC()}
			if aerr := s.o.Audit.AppendEvent(context.WithoutCancel(ctx), ev); aerr != nil {
				log.Warn("logout: audit failed delivery", "err", aerr)
			}
		}
	} else {
		log.Warn("logout: logout token not delivered; will retry", "err", err)
	}
	return err
}

func (s *Service) post(ctx context.Context, uri, token string) error {
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-store")
	resp, err := s.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return errors.New("logout: the client answered " + resp.Status)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
