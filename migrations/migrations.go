// Package migrations embeds gosid's SQL migrations, one folder per dialect.
//
// Rules, checked by the sqlstore tests:
//   - a file is named NNNN_what.sql; NNNN is its version, applied in order;
//   - both folders hold the same file names, so a change is made for both
//     dialects at once;
//   - migrations are forward-only: a released file is never edited, a fix is a
//     new file;
//   - each file runs in one transaction with its schema_migrations row, so it
//     must not hold statements PostgreSQL refuses inside a transaction
//     (CREATE INDEX CONCURRENTLY, VACUUM).
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
