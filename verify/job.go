package verify

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// QueueName is the job queue of identity checks.
const QueueName = "verify"

// CheckArgs is the durable job of one submission's checks. It carries no
// personal data: the worker reads the (encrypted) profile.
type CheckArgs struct {
	AccountID  string `json:"account_id"`
	Submission string `json:"submission"`
}

// Kind implements river.JobArgs.
func (CheckArgs) Kind() string { return "verify_identity" }

// InsertOpts puts the job on the verify queue; a registry outage is
// retried for about a day (river's backoff over 20 attempts).
func (CheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueName, MaxAttempts: 20}
}

// Worker runs checks. It is built from the same options as the Service
// but needs no queue, so the queue can be given it when it starts.
type Worker struct {
	river.WorkerDefaults[CheckArgs]
	checks checker
	// RunTimeout bounds one run of the checks (the queue's default when
	// zero); the job is not rescued from a node that died before it has
	// passed.
	RunTimeout time.Duration
}

// Timeout implements river.Worker.
func (w *Worker) Timeout(*river.Job[CheckArgs]) time.Duration { return w.RunTimeout }

// NewWorker returns the worker of check jobs.
func NewWorker(o Options) *Worker { return &Worker{checks: newChecker(o)} }

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[CheckArgs]) error {
	return w.checks.Check(ctx, job.Args.AccountID, job.Args.Submission)
}

// Register adds the worker to a river worker set.
func (w *Worker) Register(ws *river.Workers) error { return river.AddWorkerSafely(ws, w) }
