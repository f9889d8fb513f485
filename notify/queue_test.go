package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/keys"
)

// testDB is one database the queue runs on; connect opens a new handle to
// it (as a restarted process would).
type testDB struct {
	name    string
	connect func(t *testing.T) dbHandle
}

type dbHandle struct {
	newQueue func(opts QueueOptions) (*Queue, error)
	query    func(ctx context.Context, q string) ([]jobRow, error)
	close    func()
}

type jobRow struct {
	state   string
	attempt int
	args    string
	errors  string
}

// sqliteParams are those of the application's SQLite writer
// (storage/sqlstore), whose handle the queue shares in production.
const sqliteParams = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

const jobsQuery = `SELECT CAST(state AS TEXT), attempt, CAST(args AS TEXT), COALESCE(CAST(errors AS TEXT), '')
	FROM river_job WHERE kind = 'notify_deliver' ORDER BY id`

func databases(t *testing.T) []testDB {
	t.Helper()
	sqlitePath := filepath.Join(t.TempDir(), "gosid.db")
	var pgURL string
	return []testDB{
		{"sqlite", func(t *testing.T) dbHandle {
			db, err := sql.Open("sqlite", "file:"+sqlitePath+"?"+sqliteParams)
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			closed := false
			closeDB := func() {
				if !closed {
					closed = true
					_ = db.Close()
				}
			}
			t.Cleanup(closeDB)
			return dbHandle{
				newQueue: func(o QueueOptions) (*Queue, error) { return NewSQLiteQueue(db, o) },
				query: func(ctx context.Context, q string) ([]jobRow, error) {
					rows, err := db.QueryContext(ctx, q)
					if err != nil {
						return nil, err
					}
					defer rows.Close()
					var out []jobRow
					for rows.Next() {
						var r jobRow
						if err := rows.Scan(&r.state, &r.attempt, &r.args, &r.errors); err != nil {
							return nil, err
						}
						out = append(out, r)
					}
					return out, rows.Err()
				},
				close: closeDB,
			}
		}},
		{"postgres", func(t *testing.T) dbHandle {
			if pgURL == "" {
				pgURL = testenv.PostgresURL(t)
			}
			pool, err := pgxpool.New(context.Background(), pgURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			return dbHandle{
				newQueue: func(o QueueOptions) (*Queue, error) { return NewPostgresQueue(pool, o) },
				query: func(ctx context.Context, q string) ([]jobRow, error) {
					rows, err := pool.Query(ctx, q)
					if err != nil {
						return nil, err
					}
					defer rows.Close()
					var out []jobRow
					for rows.Next() {
						var r jobRow
						if err := rows.Scan(&r.state, &r.attempt, &r.args, &r.errors); err != nil {
							return nil, err
						}
						out = append(out, r)
					}
					return out, rows.Err()
				},
				close: pool.Close,
			}
		}},
	}
}

// eachDatabase runs test on SQLite and on PostgreSQL, each a fresh database.
func eachDatabase(t *testing.T, test func(t *testing.T, db testDB)) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) { test(t, db) })
	}
}

func testSealer(t *testing.T) *keys.Sealer {
	t.Helper()
	master := make([]byte, keys.MasterKeySize)
	_, _ = rand.Read(master)
	s, err := keys.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// soon retries after 20 ms, so that tests see retries at once.
type soon struct{}

func (soon) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(20 * time.Millisecond) }

func testOptions(t *testing.T, sealer Sealer, router *Router, logs *testenv.SyncBuffer) QueueOptions {
	t.Helper()
	return QueueOptions{Router: router, Sealer: sealer, Logger: testLogger(logs), Workers: 2,
		RetryPolicy: soon{}, PollInterval: 50 * time.Millisecond}
}

func startQueue(t *testing.T, h dbHandle, opts QueueOptions) *Queue {
	t.Helper()
	q, err := h.newQueue(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := q.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopQueue(t, q) })
	return q
}

func stopQueue(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Error(err)
	}
}

func waitSent(t *testing.T, f *fakeSender) Rendered {
	t.Helper()
	select {
	case r := <-f.sent:
		return r
	case <-time.After(15 * time.Second):
		calls, _ := f.counts()
		t.Fatalf("nothing delivered in 15 s (%d attempts)", calls)
		return Rendered{}
	}
}

// waitJob waits until the only delivery job reaches state.
func waitJob(t *testing.T, h dbHandle, state string) jobRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows, err := h.query(context.Background(), jobsQuery)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 1 && rows[0].state == state {
			return rows[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("job rows %+v, want one %s", rows, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func assertNoSecrets(t *testing.T, where, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds %q in clear: %s", where, secret, s)
		}
	}
}

func TestQueueDelivers(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db testDB) {
		h := db.connect(t)
		sms, logs := newFakeSender(), &testenv.SyncBuffer{}
		q := startQueue(t, h, testOptions(t, testSealer(t), &Router{SMS: sms}, logs))
		if err := q.Enqueue(context.Background(), otpTo("+79161234567", "583920")); err != nil {
			t.Fatal(err)
		}
		r := waitSent(t, sms)
		if r.To != "+79161234567" || !strings.Contains(r.Text, "583920") {
			t.Errorf("delivered %q to %s", r.Text, r.To)
		}
		row := waitJob(t, h, "completed")
		if row.attempt != 1 {
			t.Errorf("attempt %d", row.attempt)
		}
		assertNoSecrets(t, "river_job.args", row.args, "583920", "+79161234567", "9161234567")
		if !strings.Contains(row.args, `"sealed"`) {
			t.Errorf("args %s", row.args)
		}
		assertNoSecrets(t, "the log", logs.String(), "583920", "+79161234567", r.Text)
		if !strings.Contains(logs.String(), "+7******4567") {
			t.Errorf("the log lacks the masked recipient: %s", logs.String())
		}
	})
}

// A decoy is committed like a message (a job row, the same work for the
// caller) and completes without reaching a sender.
func TestQueueDropsDecoys(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db testDB) {
		h := db.connect(t)
		sms, logs := newFakeSender(), &testenv.SyncBuffer{}
		q := startQueue(t, h, testOptions(t, testSealer(t), &Router{SMS: sms}, logs))
		m := otpTo("+79161234567", "000000")
		m.Decoy = true
		if err := q.Enqueue(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		waitJob(t, h, "completed")
		if calls, delivered := sms.counts(); calls != 0 || delivered != 0 {
			t.Errorf("a decoy reached the sender: %d calls, %d delivered", calls, delivered)
		}
	})
}

func TestQueueRetriesThenDeliversOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db testDB) {
		h := db.connect(t)
		// The gateway echoes the recipient and the code in its errors: they
		// must reach neither river_job.errors nor the log.
		echo := errors.New("gateway busy: +79161234567 code 772104")
		email, logs := newFakeSender(echo, echo), &testenv.SyncBuffer{}
		q := startQueue(t, h, testOptions(t, testSealer(t), &Router{Email: email}, logs))
		m := otpTo("ivan.petrov@example.com", "772104")
		m.Data["note"] = "+79161234567" // data other than the code is scrubbed too
		if err := q.Enqueue(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		waitSent(t, email)
		row := waitJob(t, h, "completed")
		if calls, delivered := email.counts(); calls != 3 || delivered != 1 || row.attempt != 3 {
			t.Errorf("%d calls, %d delivered, attempt %d; want 3, 1, 3", calls, delivered, row.attempt)
		}
		if !strings.Contains(row.errors, "gateway busy") {
			t.Errorf("errors %q", row.errors)
		}
		assertNoSecrets(t, "river_job.errors", row.errors, "772104", "+79161234567", "ivan.petrov@example.com")
		assertNoSecrets(t, "river_job.args", row.args, "772104", "ivan.petrov")
		assertNoSecrets(t, "the log", logs.String(), "772104", "+79161234567", "ivan.petrov@example.com")
		time.Sleep(300 * time.Millisecond)
		if _, delivered := email.counts(); delivered != 1 {
			t.Errorf("delivered %d times", delivered)
		}
	})
}

func TestQueueDoesNotRetryPermanentFailures(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db testDB) {
		h := db.connect(t)
		sms, logs := newFakeSender(fmt.Errorf("gateway: %w: 400 invalid number", ErrPermanent)), &testenv.SyncBuffer{}
		q := startQueue(t, h, testOptions(t, testSealer(t), &Router{SMS: sms}, logs))
		if err := q.Enqueue(context.Background(), otpTo("+79161234567", "118822")); err != nil {
			t.Fatal(err)
		}
		row := waitJob(t, h, "cancelled")
		time.Sleep(500 * time.Millisecond) // ten poll intervals: time enough for a wrong retry
		if calls, delivered := sms.counts(); calls != 1 || delivered != 0 || row.attempt != 1 {
			t.Errorf("%d calls, %d delivered, attempt %d; want 1, 0, 1", calls, delivered, row.attempt)
		}
		if !strings.Contains(logs.String(), "dropped") {
			t.Errorf("the log does not say the message was dropped: %s", logs.String())
		}
	})
}

// A crash between Enqueue and delivery loses nothing: a queue that never
// ran (or stopped) leaves the message in the database, and a new process
// with a new queue delivers it.
func TestQueueDurableAcrossRestart(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db testDB) {
		sealer := testSealer(t) // the master key survives a restart
		ctx := context.Background()

		first := db.connect(t)
		q1, err := first.newQueue(testOptions(t, sealer, &Router{SMS: newFakeSender()}, &testenv.SyncBuffer{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := q1.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := q1.Enqueue(ctx, otpTo("+79161234567", "246810")); err != nil {
			t.Fatal(err)
		}
		if err := q1.Start(ctx); err != nil {
			t.Fatal(err)
		}
		stopQueue(t, q1)
		first.close()
		// q1's sender may have taken the first message before it stopped;
		// this one is enqueued while no worker runs anywhere.
		second := db.connect(t)
		q2, err := second.newQueue(testOptions(t, sealer, &Router{SMS: newFakeSender()}, &testenv.SyncBuffer{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := q2.Enqueue(ctx, otpTo("+79169876543", "135791")); err != nil {
			t.Fatal(err)
		}
		second.close() // the process dies before any worker starts

		third := db.connect(t)
		sms := newFakeSender()
		startQueue(t, third, testOptions(t, sealer, &Router{SMS: sms}, &testenv.SyncBuffer{}))
		deadline := time.After(15 * time.Second)
		for {
			select {
			case r := <-sms.sent:
				if r.To == "+79169876543" {
					if !strings.Contains(r.Text, "135791") {
						t.Errorf("delivered %q", r.Text)
					}
					return
				}
			case <-deadline:
				rows, _ := third.query(ctx, jobsQuery)
				t.Fatalf("the message enqueued before the crash was not delivered; jobs %+v", rows)
			}
		}
	})
}

func TestQueueEnqueueRefusesWhatCannotRender(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db testDB) {
		h := db.connect(t)
		q, err := h.newQueue(testOptions(t, testSealer(t), &Router{}, &testenv.SyncBuffer{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		err = q.Enqueue(context.Background(), Message{Channel: ChannelSMS, To: "+79161234567", Template: "nope"})
		if !errors.Is(err, ErrUnknownTemplate) {
			t.Errorf("%v", err)
		}
		if rows, err := h.query(context.Background(), jobsQuery); err != nil || len(rows) != 0 {
			t.Errorf("rows %v %v", rows, err)
		}
	})
}

func TestQueueOptionsAreChecked(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := QueueOptions{Router: &Router{}, Sealer: testSealer(t)}
	if _, err := NewSQLiteQueue(db, opts); err == nil {
		t.Error("a SQLite handle with many connections was accepted")
	}
	db.SetMaxOpenConns(1)
	if _, err := NewSQLiteQueue(db, QueueOptions{Sealer: opts.Sealer}); err == nil {
		t.Error("no router accepted")
	}
	if _, err := NewSQLiteQueue(db, QueueOptions{Router: opts.Router}); err == nil {
		t.Error("no sealer accepted")
	}
	if _, err := NewSQLiteQueue(nil, opts); err == nil {
		t.Error("nil db accepted")
	}
	if _, err := NewPostgresQueue(nil, opts); err == nil {
		t.Error("nil pool accepted")
	}
	if _, err := NewSQLiteQueue(db, opts); err != nil {
		t.Error(err)
	}
}

func TestScrub(t *testing.T) {
	m := Message{To: "Ivan@Example.com", Data: map[string]string{"code": "123456", "minutes": "5", "link": "https://x/?t=abc"}}
	got := scrub("550 no such user ivan@example.com; code 123456; link https://x/?t=abc; 5 minutes", m)
	want := "550 no such user I***@Example.com; code [redacted]; link [redacted]; 5 minutes"
	if got != want {
		t.Errorf("scrub: %q, want %q", got, want)
	}
}

// TestQueueSendsNoStaleCode (#10 defect 7): a delivery that runs after its
// code expired, or after the code was used or replaced, sends nothing and
// completes; a pending code is sent.
func TestQueueSendsNoStaleCode(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db testDB) {
		h := db.connect(t)
		sms, logs := newFakeSender(), &testenv.SyncBuffer{}
		opts := testOptions(t, testSealer(t), &Router{SMS: sms}, logs)
		opts.Pending = func(_ context.Context, ref, code string) (bool, error) {
			return ref == "pending" && code == "111111", nil
		}
		q := startQueue(t, h, opts)
		ctx := context.Background()
		expired := otpTo("+79161234567", "222222")
		expired.Expires = time.Now().Add(-time.Second)
		used := otpTo("+79161234567", "333333")
		used.CodeRef, used.Expires = "used", time.Now().Add(time.Hour)
		good := otpTo("+79161234567", "111111")
		good.CodeRef, good.Expires = "pending", time.Now().Add(time.Hour)
		for _, m := range []Message{expired, used, good} {
			if err := q.Enqueue(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if r := waitSent(t, sms); !strings.Contains(r.Text, "111111") {
			t.Fatalf("sent %q", r.Text)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			rows, err := h.query(ctx, jobsQuery)
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			for _, r := range rows {
				if r.state == "completed" {
					done++
				}
			}
			if done == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job rows %+v, want three completed", rows)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if calls, _ := sms.counts(); calls != 1 {
			t.Fatalf("%d sends, want 1: a stale code was sent", calls)
		}
	})
}
