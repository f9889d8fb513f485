package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gosid/gosid/storage/sqlstore"
)

// The embedded default: one SQLite file holds the durable state and, with
// no Redis configured, the short-lived state too.
func ExampleOpenSQLite() {
	dir, _ := os.MkdirTemp("", "gosid-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "data", "gosid.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	janitor, stop := context.WithCancel(ctx)
	defer stop()
	go db.RunJanitor(janitor, time.Minute)

	n, _ := db.Incr(ctx, "login-failures:acct-1", 15*time.Minute)
	version, _ := db.SchemaVersion(ctx)
	fmt.Println(db.Dialect(), n, version == db.LatestVersion())
	// Output: sqlite 1 true
}
