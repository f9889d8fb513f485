package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Sealer encrypts job arguments at rest (keys.Sealer implements it).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// QueueOptions configure a Queue.
type QueueOptions struct {
	// Router delivers the messages. Required.
	Router *Router
	// Sealer seals each message before it is stored. Required.
	Sealer Sealer
	// Logger defaults to slog.Default.
	Logger *slog.Logger
	// Workers is how many messages are delivered at once (4 when zero).
	Workers int
	// MaxAttempts caps the deliveries tried per message (8 when zero);
	// river's exponential backoff spaces them (1 s, 16 s, 81 s, ... about
	// 80 minutes in all for 8).
	MaxAttempts int
	// RetryPolicy replaces river's backoff (tests use a short one).
	RetryPolicy river.ClientRetryPolicy
	// PollInterval is how often the queue looks for due messages where the
	// database cannot announce them (SQLite, and retries): river's 1 s when
	// zero.
	PollInterval time.Duration
	// Queues are the queues of other durable jobs (identity checks), name →
	// workers; their workers join at Start.
	Queues map[string]int
	// TxOf returns the driver transaction (pgx.Tx or *sql.Tx of the
	// queue's own database) that ctx carries, or nil: a job inserted with
	// such a context commits with that transaction.
	TxOf func(ctx context.Context) any
	// RescueAfter is when a job still running (its node died mid-job) is
	// run again; river's hour when zero. JobTimeout bounds one run.
	RescueAfter time.Duration
	JobTimeout  time.Duration
	// DeliveryRescueAfter is when a delivery still running (its node died)
	// is run again (30 s when zero): well within a code's validity, not the
	// minutes of RescueAfter. DeliveryTimeout bounds one delivery (20 s
	// when zero; at most DeliveryRescueAfter), so a live node's delivery
	// ends before it could be rescued. Other jobs are rescued once their
	// own timeout has passed (their workers declare it, see verify.Worker).
	DeliveryRescueAfter time.Duration
	DeliveryTimeout     time.Duration
	// Pending reports whether the code of a message (CodeRef and the code
	// in Data) is still valid and unused (codes.Service.Pending); nil sends
	// every message before its Expires.
	Pending func(ctx context.Context, ref, code string) (bool, error)
}

// Queue delivers messages through a durable job queue (river) in the
// application's database: Enqueue commits the message before it returns,
// and workers on any node deliver it, retrying with backoff, so a crash
// between "code created" and "SMS sent" loses nothing.
type Queue struct {
	router      *Router
	sealer      Sealer
	log         *slog.Logger
	maxAttempts int
	deliveryTO  time.Duration
	pending     func(ctx context.Context, ref, code string) (bool, error)
	now         func() time.Time
	// insertTx inserts a job inside a transaction of the database driver
	// (see QueueOptions.TxOf).
	insertTx func(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) error
	txOf     func(ctx context.Context) any
	// inserter commits jobs; it exists from construction, so that the
	// services that enqueue can be built before the workers that run their
	// jobs. worker runs the jobs once Start has been given every worker.
	inserter riverClient
	worker   riverClient
	work     func(register []func(*river.Workers) error) (riverClient, error)
	migrate  func(ctx context.Context) error
}

// riverClient is what Queue uses of a river.Client, whatever its driver.
type riverClient interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

const (
	// jobKind names the delivery job in river_job; it is also the
	// context (AAD) the message is sealed under.
	jobKind = "notify_deliver"
	// queueName keeps deliveries apart from other background work.
	queueName = "notify"
)

// deliverArgs are a delivery job's arguments: the sealed JSON of the
// message, never the code or the contact in clear.
type deliverArgs struct {
	Sealed []byte `json:"sealed"` // base64 in JSON
}

func (deliverArgs) Kind() string { return jobKind }

func (deliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queueName} }

// sealedMessage is the stored form of a Message (stable JSON names).
type sealedMessage struct {
	Channel  Channel           `json:"channel"`
	To       string            `json:"to"`
	Template string            `json:"template"`
	Lang     string            `json:"lang,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
	Decoy    bool              `json:"decoy,omitempty"`
	Expires  time.Time         `json:"expires,omitempty"`
	CodeRef  string            `json:"code_ref,omitempty"`
}

// NewPostgresQueue returns a queue on PostgreSQL.
func NewPostgresQueue(pool *pgxpool.Pool, opts QueueOptions) (*Queue, error) {
	if pool == nil {
		return nil, errors.New("notify: queue: nil pgx pool")
	}
	return newQueue(riverpgxv5.New(pool), opts)
}

// NewSQLiteQueue returns a queue on SQLite (modernc.org/sqlite). River's
// SQLite driver needs a handle limited to one open connection
// (db.SetMaxOpenConns(1)): its concurrent work fails with SQLITE_BUSY on
// more; WAL journaling is strongly advised.
func NewSQLiteQueue(db *sql.DB, opts QueueOptions) (*Queue, error) {
	if db == nil {
		return nil, errors.New("notify: queue: nil sql.DB")
	}
	if n := db.Stats().MaxOpenConnections; n != 1 {
		return nil, fmt.Errorf("notify: queue: the SQLite handle allows %d open connections, want 1 (db.SetMaxOpenConns(1))", n)
	}
	return newQueue(riversqlite.New(db), opts)
}

func newQueue[TTx any](driver riverdriver.Driver[TTx], opts QueueOptions) (*Queue, error) {
	if opts.Router == nil || opts.Sealer == nil {
		return nil, errors.New("notify: queue: Router and Sealer are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.DeliveryRescueAfter <= 0 {
		opts.DeliveryRescueAfter = 30 * time.Second
	}
	if opts.DeliveryTimeout <= 0 {
		opts.DeliveryTimeout = 20 * time.Second
	}
	opts.DeliveryTimeout = min(opts.DeliveryTimeout, opts.DeliveryRescueAfter)
	// River rescues every kind of job after one horizon: the shorter one,
	// the deliveries'. A job whose worker declares a longer timeout (an
	// identity check) is left alone until that timeout has passed.
	rescueAfter := opts.DeliveryRescueAfter
	if opts.RescueAfter > 0 {
		rescueAfter = min(rescueAfter, opts.RescueAfter)
	}
	jobTimeout := min(opts.DeliveryTimeout, rescueAfter)
	q := &Queue{router: opts.Router, sealer: opts.Sealer, log: opts.Logger, maxAttempts: opts.MaxAttempts,
		deliveryTO: jobTimeout, pending: opts.Pending, now: time.Now}
	queueOf := func(n int) river.QueueConfig {
		queue := river.QueueConfig{MaxWorkers: n}
		if opts.PollInterval > 0 {
			queue.FetchPollInterval = opts.PollInterval
			queue.FetchCooldown = min(opts.PollInterval, 100*time.Millisecond)
		}
		return queue
	}
	queues := map[string]river.QueueConfig{queueName: queueOf(opts.Workers)}
	for name, n := range opts.Queues {
		queues[name] = queueOf(max(n, 1))
	}
	logger := opts.Logger.With("component", "river")
	inserter, err := river.NewClient(driver, &river.Config{Logger: logger, MaxAttempts: opts.MaxAttempts})
	if err != nil {
		return nil, fmt.Errorf("notify: queue: %w", err)
	}
	q.inserter = inserter
	q.txOf = opts.TxOf
	q.insertTx = func(ctx context.Context, tx any, args river.JobArgs, o *river.InsertOpts) error {
		t, ok := tx.(TTx)
		if !ok {
			return fmt.Errorf("notify: a %T transaction on a queue of %T ones", tx, *new(TTx))
		}
		_, err := inserter.InsertTx(ctx, t, args, o)
		return err
	}
	q.work = func(register []func(*river.Workers) error) (riverClient, error) {
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &deliverWorker{q: q}); err != nil {
			return nil, err
		}
		for _, add := range register {
			if err := add(workers); err != nil {
				return nil, err
			}
		}
		return river.NewClient(driver, &river.Config{
			Logger:               logger,
			MaxAttempts:          opts.MaxAttempts,
			Queues:               queues,
			RetryPolicy:          opts.RetryPolicy,
			Workers:              workers,
			RescueStuckJobsAfter: rescueAfter,
			JobTimeout:           jobTimeout,
		})
	}
	q.migrate = func(ctx context.Context) error {
		m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: opts.Logger})
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	return q, nil
}

// Migrate creates or upgrades river's tables (river_job, ...) in the
// database. It is idempotent.
func (q *Queue) Migrate(ctx context.Context) error {
	if err := q.migrate(ctx); err != nil {
		return fmt.Errorf("notify: migrate job queue: %w", err)
	}
	return nil
}

// Start runs the delivery workers, and the workers of other durable jobs
// that register adds (identity checks), until Stop. Cancelling ctx stops
// them abruptly, interrupting deliveries in flight (they are retried later).
func (q *Queue) Start(ctx context.Context, register ...func(*river.Workers) error) error {
	worker, err := q.work(register)
	if err != nil {
		return fmt.Errorf("notify: start job queue: %w", err)
	}
	q.worker = worker
	if err := q.worker.Start(ctx); err != nil {
		return fmt.Errorf("notify: start job queue: %w", err)
	}
	return nil
}

// Stop stops fetching messages and waits, until ctx ends, for the
// deliveries in flight.
func (q *Queue) Stop(ctx context.Context) error {
	if q.worker == nil {
		return nil
	}
	if err := q.worker.Stop(ctx); err != nil {
		return fmt.Errorf("notify: stop job queue: %w", err)
	}
	return nil
}

// Enqueue stores m for delivery; when it returns nil the message is
// committed to the database. A message that cannot render (unknown
// template or language, missing data) is refused here, not in a worker.
func (q *Queue) Enqueue(ctx context.Context, m Message) error {
	if _, err := Render(m); err != nil {
		return fmt.Errorf("notify: enqueue: %w", err)
	}
	plain, err := json.Marshal(sealedMessage(m))
	if err != nil {
		return fmt.Errorf("notify: enqueue: %w", err)
	}
	sealed, err := q.sealer.Seal(plain, []byte(jobKind))
	if err != nil {
		return fmt.Errorf("notify: enqueue: seal: %w", err)
	}
	if err := q.insert(ctx, deliverArgs{Sealed: sealed}, &river.InsertOpts{
		Priority: priority(m), MaxAttempts: q.maxAttempts,
	}); err != nil {
		return fmt.Errorf("notify: enqueue %s: %w", m, err)
	}
	return nil
}

// insert commits a job: inside the transaction ctx carries, if any (then
// the job exists exactly when that transaction commits), else on its own.
func (q *Queue) insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if q.txOf != nil {
		if tx := q.txOf(ctx); tx != nil {
			return q.insertTx(ctx, tx, args, opts)
		}
	}
	_, err := q.inserter.Insert(ctx, args, opts)
	return err
}

// Insert stores another durable job (one whose worker joins at Start); it
// is committed when Insert returns nil, or with the transaction ctx
// carries.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if err := q.insert(ctx, args, opts); err != nil {
		return fmt.Errorf("notify: insert %s job: %w", args.Kind(), err)
	}
	return nil
}

// priority puts one-time codes, which a citizen is waiting for, before
// notices (river: 1 is first).
func priority(m Message) int {
	if _, code := m.Data["code"]; code || m.Template == "recovery_code" {
		return 1
	}
	return 2
}

func (q *Queue) open(sealed []byte) (Message, error) {
	plain, err := q.sealer.Open(sealed, []byte(jobKind))
	if err != nil {
		return Message{}, err
	}
	var sm sealedMessage
	if err := json.Unmarshal(plain, &sm); err != nil {
		return Message{}, err
	}
	return Message(sm), nil
}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	q *Queue
}

// Timeout bounds one delivery (QueueOptions.DeliveryTimeout).
func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration { return w.q.deliveryTO }

// Work delivers one message. The error it returns is stored in river_job
// and logged by river, so it is scrubbed of the recipient and the data.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	log := w.q.log.With("job_id", job.ID, "attempt", job.Attempt, "max_attempts", job.MaxAttempts)
	m, err := w.q.open(job.Args.Sealed)
	if err != nil {
		// A node with another master key, or damaged arguments: another
		// node (or a fixed configuration) may still open it.
		log.Error("notify: cannot open a queued message", "err", err)
		return fmt.Errorf("notify: open sealed message: %w", err)
	}
	log = log.With("template", m.Template, "channel", string(m.Channel), "to", Mask(m.To))
	if m.Decoy {
		// Queued so that enqueuing cost what a real message does; it
		// goes nowhere.
		log.Debug("notify: decoy message dropped")
		return nil
	}
	if !m.Expires.IsZero() && !w.q.now().Before(m.Expires) {
		log.Info("notify: the code expired before delivery; not sent")
		return nil
	}
	if code := m.Data["code"]; m.CodeRef != "" && code != "" && w.q.pending != nil {
		ok, err := w.q.pending(ctx, m.CodeRef, code)
		if err != nil {
			return fmt.Errorf("notify: is the code still pending: %w", err)
		}
		if !ok {
			log.Info("notify: the code was used or replaced before delivery; not sent")
			return nil
		}
	}
	err = w.q.router.Deliver(ctx, m)
	if err == nil {
		log.Info("notify: message delivered")
		return nil
	}
	safe := errors.New(scrub(err.Error(), m))
	if errors.Is(err, ErrPermanent) {
		log.Warn("notify: message cannot be delivered; dropped", "err", safe)
		return river.JobCancel(safe)
	}
	if job.Attempt >= job.MaxAttempts {
		log.Error("notify: delivery failed; no attempts left", "err", safe)
	} else {
		log.Warn("notify: delivery failed; will retry", "err", safe)
	}
	return safe
}

// scrub removes from an error text the recipient (masked instead) and any
// data value long enough to matter (a code, a link), in case a server
// echoed them back.
func scrub(s string, m Message) string {
	if m.To != "" {
		s = regexp.MustCompile("(?i)"+regexp.QuoteMeta(m.To)).ReplaceAllLiteralString(s, Mask(m.To))
	}
	for _, v := range m.Data {
		if len(v) >= 4 {
			s = regexp.MustCompile("(?i)"+regexp.QuoteMeta(v)).ReplaceAllLiteralString(s, "[redacted]")
		}
	}
	return s
}
