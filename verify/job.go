package verify

import (
	"context"

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

// Worker runs checks.
type Worker struct {
	river.WorkerDefaults[CheckArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[CheckArgs]) error {
	return w.Service.Check(ctx, job.Args.AccountID, job.Args.Submission)
}

// Register adds the worker to a river worker set.
func (w *Worker) Register(ws *river.Workers) error { return river.AddWorkerSafely(ws, w) }
