// Package migrations embeds gosid's SQL migrations, one folder per dialect.
// Files are numbered, forward-only and applied in order by sqlstore.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
