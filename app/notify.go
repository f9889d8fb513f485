package app

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/logout"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/verify"
)

// newQueue builds the delivery queue on the database: SMTP and the SMS
// gateway when configured, and in development mode the outbox, which also
// stands in for any channel without a sender.
func newQueue(s *Stores, outbox *notify.Outbox) (*notify.Queue, error) {
	cfg := s.Config
	router := &notify.Router{}
	if cfg.Dev {
		router.Outbox = outbox
	}
	if cfg.SMTPHost != "" {
		smtp, err := notify.NewSMTPSender(notify.SMTPOptions{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			From: cfg.SMTPFrom, TLS: cfg.SMTPTLS, Timeout: 30 * time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		router.Email = smtp
	}
	if cfg.SMSURL != "" {
		sms, err := notify.NewSMSGateway(notify.SMSOptions{URL: cfg.SMSURL, Token: cfg.SMSToken, Sender: cfg.SMSSender, Timeout: 15 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("sms gateway: %w", err)
		}
		router.SMS = sms
	}
	if router.Email == nil && router.SMS == nil && !cfg.Dev {
		s.Log.Warn("no SMTP server and no SMS gateway configured: codes cannot be delivered; set GOSID_SMTP_HOST / GOSID_SMS_URL")
	}
	opts := notify.QueueOptions{Router: router, Sealer: s.Sealer, Logger: s.Log, PollInterval: 200 * time.Millisecond,
		Queues:      map[string]int{verify.QueueName: 2, logout.QueueName: 2},
		TxOf:        s.DB.DriverTx,
		RescueAfter: s.Config.JobRescueAfter, JobTimeout: s.Config.RegistryTimeout * 4,
		DeliveryRescueAfter: s.Config.DeliveryRescueAfter,
		RetryPolicy:         backoff{base: s.Config.JobRetryBase},
		// A late delivery (rescued from a dead node) sends no code that was
		// used or replaced meanwhile; the same key as the server's codes.
		Pending: codes.New(s.Ephemeral, s.Sealer.DeriveKey("codes"), codes.DefaultPolicy).Pending}
	if pool := s.DB.PgxPool(); pool != nil {
		return notify.NewPostgresQueue(pool, opts)
	}
	return notify.NewSQLiteQueue(s.DB.SQLDB(), opts)
}

// migrateQueue applies the job queue's own migrations, one node at a time.
func migrateQueue(ctx context.Context, s *Stores) error {
	q, err := newQueue(s, nil)
	if err != nil {
		return err
	}
	return s.DB.Serialize(ctx, q.Migrate)
}

// backoff retries a failed job after attempt⁴ × base (river's curve, with
// a configurable unit), at most a day later.
type backoff struct{ base time.Duration }

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	base := b.base
	if base <= 0 {
		base = time.Second
	}
	n := time.Duration(max(job.Attempt, 1))
	return time.Now().Add(min(n*n*n*n*base, 24*time.Hour))
}
