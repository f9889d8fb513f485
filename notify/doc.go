// Package notify delivers messages to citizens: one-time codes and
// security notices, by e-mail and SMS, in Russian (the default) or English.
//
// # Flow
//
//	login flow ──Enqueue(Message)──▶ Queue ──river_job row (sealed)──▶ worker
//	                                                                   │
//	                         Router.Deliver: Render ◀──────────────────┘
//	                              │
//	            ┌─────────────────┼──────────────────┐
//	      SMTPSender         SMSGateway        Outbox (development)
//
// A Message names a template and carries its data (a code, a link, the
// device of a new sign-in). Queue.Enqueue checks that it renders, seals
// it and inserts a river job in the application's own database
// (PostgreSQL or SQLite) before it returns, so a crash between "code
// created" and "SMS sent" loses nothing: a worker on any node, now or
// after a restart, delivers it. Workers render the message (templates are
// embedded: templates/<lang>/<name>.txt and .html) and hand it to the
// Router, which picks the sender of its channel. A failure is retried with
// river's exponential backoff up to QueueOptions.MaxAttempts; a failure
// that retrying cannot fix (an invalid address, a 4xx answer from the SMS
// operator, a 5xx refusal of the recipient by the mail server) wraps
// ErrPermanent, and the job is cancelled at once.
//
// Delivery is at least once: a node that dies after the operator accepted
// a message but before the job was marked done sends it again when river
// rescues the job.
//
// # Security
//
//   - Job arguments never hold a code or a contact in clear: the message is
//     sealed (AES-GCM through the Sealer, keys.Sealer in gosid, with the
//     job kind as associated data) and stored as base64.
//   - Logs and stored job errors name the template, the channel and a
//     masked recipient (+7******4567, i***@example.com), never the code,
//     the text or the full contact; errors from a server that echoes the
//     recipient or the code are scrubbed before river stores or logs them.
//     Message and Rendered print and log without their content.
//   - SMTP uses STARTTLS by default and refuses a server that does not
//     offer it; credentials never cross an unencrypted connection.
//   - The SMS gateway does not follow redirects (they would carry the
//     bearer token and the text elsewhere) and reads at most 64 KiB of an
//     answer.
//   - HTML letters are rendered with html/template: every value is
//     escaped, and a javascript: or data: link never reaches an href.
//
// # Development mode
//
// The Outbox keeps the newest messages in memory for the development page
// and LOGS EVERY MESSAGE IN FULL, CODES INCLUDED, at INFO. That is what
// lets a newcomer register without an SMS operator, and why an Outbox must
// never be configured in production. With Router.Outbox set, a channel
// without a sender delivers to the outbox alone.
package notify
