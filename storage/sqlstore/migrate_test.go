package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/internal/testenv"
)

// tables is every table the migrations create.
var tables = []string{"schema_migrations", "clients", "accounts", "signing_keys", "consents", "audit_events",
	"refresh_tokens", "kv", "bank_links"}

// rawOpeners open a store on an empty database without migrating it; each
// call of the returned func opens another store (another "node") on the same
// database.
var rawOpeners = []struct {
	name string
	open func(t *testing.T) func() *Store
}{
	{dialectSQLite, func(t *testing.T) func() *Store {
		path := filepath.Join(t.TempDir(), "sub", "dir", "gosid.db")
		return func() *Store {
			return mustOpen(t, func(ctx context.Context) (*Store, error) { return OpenSQLite(ctx, path) })
		}
	}},
	{dialectPostgres, func(t *testing.T) func() *Store {
		url := testenv.PostgresURL(t)
		return func() *Store {
			return mustOpen(t, func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, url) })
		}
	}},
}

func mustOpen(t *testing.T, open func(ctx context.Context) (*Store, error)) *Store {
	t.Helper()
	s, err := open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

type appliedRow struct {
	version int64
	at      time.Time
}

func applied(t *testing.T, s *Store) []appliedRow {
	t.Helper()
	rs, err := s.db.query(t.Context(), "SELECT version, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rs.Close()
	var out []appliedRow
	for rs.Next() {
		var r appliedRow
		if err := rs.Scan(&r.version, nullTime{&r.at}); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestMigrate applies every migration to an empty database, then applies
// them again, which must change nothing.
func TestMigrate(t *testing.T) {
	for _, d := range rawOpeners {
		t.Run(d.name, func(t *testing.T) {
			ctx := t.Context()
			s := d.open(t)()
			if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
				t.Fatalf("SchemaVersion of an empty database = %d, %v; want 0", v, err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			want := s.LatestVersion()
			if v, err := s.SchemaVersion(ctx); err != nil || v != want || want == 0 {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, want)
			}
			for _, table := range tables {
				var n int
				if err := s.q(ctx).queryRow(ctx, s.tableExistsSQL(), table).Scan(&n); err != nil || n != 1 {
					t.Fatalf("table %s: exists %d, %v", table, n, err)
				}
			}
			first := applied(t, s)
			ms, _ := loadMigrations(s.dialect)
			if len(first) != len(ms) {
				t.Fatalf("%d migrations recorded, %d embedded", len(first), len(ms))
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if again := applied(t, s); !reflect.DeepEqual(again, first) {
				t.Fatalf("second Migrate changed schema_migrations:\nbefore %v\n after %v", first, again)
			}
		})
	}
}

// TestMigrateConcurrent starts several nodes on one empty database at once.
func TestMigrateConcurrent(t *testing.T) {
	for _, d := range rawOpeners {
		t.Run(d.name, func(t *testing.T) {
			open := d.open(t)
			const nodes = 4
			stores := make([]*Store, nodes)
			for i := range stores {
				stores[i] = open()
			}
			var wg sync.WaitGroup
			for i, s := range stores {
				wg.Go(func() {
					if err := s.Migrate(t.Context()); err != nil {
						t.Errorf("node %d: Migrate: %v", i, err)
					}
				})
			}
			wg.Wait()
			ms, _ := loadMigrations(d.name)
			if got := applied(t, stores[0]); len(got) != len(ms) {
				t.Fatalf("%d migrations recorded, %d embedded", len(got), len(ms))
			}
		})
	}
}

// TestMigrationsParity: both dialects have the same numbered files, so that
// a change made for one is not forgotten for the other.
func TestMigrationsParity(t *testing.T) {
	names := map[string][]string{}
	for _, d := range []string{dialectSQLite, dialectPostgres} {
		ms, err := loadMigrations(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		for _, m := range ms {
			names[d] = append(names[d], m.name)
		}
	}
	if !reflect.DeepEqual(names[dialectSQLite], names[dialectPostgres]) {
		t.Fatalf("migrations differ:\n sqlite   %v\n postgres %v", names[dialectSQLite], names[dialectPostgres])
	}
}

// TestMigrateLoginNotice: migration 0008 moves the old sign-in notice
// column into the notification preferences, where they have no choice of
// their own for sign-in notices, and starts every account at version 0.
func TestMigrateLoginNotice(t *testing.T) {
	for _, d := range rawOpeners {
		t.Run(d.name, func(t *testing.T) {
			ctx := t.Context()
			s := d.open(t)()
			ms, err := loadMigrations(s.dialect)
			if err != nil {
				t.Fatal(err)
			}
			var before []migration
			for _, m := range ms {
				if m.version < 8 {
					before = append(before, m)
				}
			}
			if err := s.migrate(ctx, s.db, before); err != nil {
				t.Fatal(err)
			}
			for i, row := range [][2]string{
				{"", ""},
				{"all", ""},
				{"phone", ""},
				{"email", `{"security":["inbox"]}`},
				{"none", ""},
				// The preferences page changed it later: the preferences win.
				{"phone", `{"login":["email","inbox"]}`},
			} {
				_, err := s.db.exec(ctx, `INSERT INTO accounts (id, phone, level, status, created_at, updated_at, login_notice, notify_prefs)
					VALUES ($1, $2, 'simplified', 'active', $3, $3, $4, $5)`,
					fmt.Sprintf("a%d", i), fmt.Sprintf("+7900000000%d", i), time.Now().UTC(), row[0], row[1])
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{"all", "all", "phone", "email", "none", "custom"} {
				a, err := s.GetAccount(ctx, fmt.Sprintf("a%d", i))
				if err != nil {
					t.Fatal(err)
				}
				if got := account.ParseNotifyPrefs(a.NotifyPrefs).LoginNotice(); got != want || a.Version != 0 {
					t.Errorf("a%d: sign-in notices %q (prefs %s), version %d; want %q, 0", i, got, a.NotifyPrefs, a.Version, want)
				}
			}
			a, _ := s.GetAccount(ctx, "a3")
			if ch := account.ParseNotifyPrefs(a.NotifyPrefs).Channels(account.EventSecurity); !reflect.DeepEqual(ch, []string{"inbox"}) {
				t.Errorf("a3: other preferences lost: %s", a.NotifyPrefs)
			}
		})
	}
}
