package sqlstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage/conformance"
)

// piiMaster is readable text, so that a test can look for it in the
// database as for any plaintext.
var piiMaster = []byte("gosid-pii-test-master-key-32byte")

func newPIICipher(t testing.TB, s pii.KeyStore, o pii.Options) *pii.Cipher {
	t.Helper()
	if o.MasterKey == nil {
		o.MasterKey = piiMaster
	}
	o.Logger = slog.New(slog.DiscardHandler)
	c, err := pii.New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPIIKeyStoreConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		conformance.RunPIIKeyStore(t, func(t *testing.T) pii.KeyStore { return open(t) })
	})
}

// TestPIIRotations runs a data key rotation and a master key rotation on the
// database: everything encrypted before still decrypts, with only the new
// master key in the end.
func TestPIIRotations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		c := newPIICipher(t, s, pii.Options{})
		aad := pii.AAD("account", "a1", "snils")
		first, _ := c.EncryptString("11223344595", aad)
		if err := c.RotateDataKey(t.Context()); err != nil {
			t.Fatalf("RotateDataKey: %v", err)
		}
		second, _ := c.EncryptString("11223344596", aad)
		index := c.BlindIndex(pii.KindSNILS, "11223344595")

		newMaster := bytes.Repeat([]byte{0x5a}, 32)
		moving := newPIICipher(t, s, pii.Options{MasterKey: newMaster, PreviousMasterKeys: [][]byte{piiMaster}})
		if n, err := moving.Rewrap(t.Context()); err != nil || n != 3 {
			t.Fatalf("Rewrap = %d, %v; want 3 keys", n, err)
		}
		c = newPIICipher(t, s, pii.Options{MasterKey: newMaster})
		for ct, want := range map[string]string{string(first): "11223344595", string(second): "11223344596"} {
			if got, err := c.DecryptString(t.Context(), []byte(ct), aad); err != nil || got != want {
				t.Fatalf("DecryptString = %q, %v; want %q", got, err, want)
			}
		}
		if c.BlindIndex(pii.KindSNILS, "11223344595") != index {
			t.Fatal("the master key rotation changed the blind index")
		}
	})
}

// TestPIIInitConcurrentNodes starts many ciphers on several nodes (stores)
// of one empty database at once: one data key and one index key are created,
// and all use them.
func TestPIIInitConcurrentNodes(t *testing.T) {
	for _, d := range rawOpeners {
		t.Run(d.name, func(t *testing.T) {
			open := d.open(t)
			stores := []*Store{open(), open(), open(), open()}
			if err := stores[0].Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			const perNode = 8
			ciphers := make([]*pii.Cipher, 0, len(stores)*perNode)
			for _, s := range stores {
				for range perNode {
					c, err := pii.New(s, pii.Options{MasterKey: piiMaster, Logger: slog.New(slog.DiscardHandler)})
					if err != nil {
						t.Fatal(err)
					}
					ciphers = append(ciphers, c)
				}
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, c := range ciphers {
				wg.Go(func() {
					<-start
					if err := c.Init(t.Context()); err != nil {
						t.Errorf("cipher %d: Init: %v", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if t.Failed() {
				return
			}
			if keys, err := stores[0].ListDataKeys(t.Context()); err != nil || len(keys) != 2 {
				t.Fatalf("ListDataKeys = %d keys, %v; want 2", len(keys), err)
			}
			ct, _ := ciphers[0].Encrypt([]byte("x"), nil)
			index := ciphers[0].BlindIndex(pii.KindINN, "500100732259")
			for i, c := range ciphers {
				if got, err := c.Decrypt(t.Context(), ct, nil); err != nil || string(got) != "x" {
					t.Fatalf("cipher %d: Decrypt = %q, %v", i, got, err)
				}
				if mine, _ := c.Encrypt(nil, nil); !bytes.Equal(mine[1:9], ct[1:9]) {
					t.Fatalf("cipher %d encrypts under another data key", i)
				}
				if c.BlindIndex(pii.KindINN, "500100732259") != index {
					t.Fatalf("cipher %d computes other blind indexes", i)
				}
			}
		})
	}
}

// citizen is personal data as the account pages take it.
type citizen struct {
	id, snils, snilsShown, inn, passport, passportShown, birthPlace string
}

var citizens = []citizen{
	{"acc-1", "11223344595", "112-233-445 95", "500100732259", "4510123456", "4510 123456", "г. Тверь"},
	{"acc-2", "08765430300", "087-654-303 00", "773301010990", "4612654321", "4612 654321", "с. Большие Вязёмы"},
}

// plaintexts is every spelling of the citizens' data, and the master key.
func plaintexts() []string {
	out := []string{string(piiMaster)}
	for _, c := range citizens {
		out = append(out, c.snils, c.snilsShown, c.inn, c.passport, c.passportShown, c.birthPlace)
	}
	return out
}

// TestPIINotStoredInPlain stores citizens' documents the way gosid does
// (ciphertext plus blind index) and proves, by dumping every table, that no
// number, place or the master key is in the database in plain, while the
// blind index still finds the citizen.
func TestPIINotStoredInPlain(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []struct {
		name string
		open func(tb testing.TB) *Store
	}{
		{dialectSQLite, func(tb testing.TB) *Store {
			return openMigrated(tb, func(ctx context.Context) (*Store, error) {
				return OpenSQLite(ctx, filepath.Join(dir, "gosid.db"))
			})
		}},
		{dialectPostgres, openPostgres},
	} {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t)
			c := newPIICipher(t, s, pii.Options{})
			ciphertext := storeCitizens(t, s, c)
			dump := testenv.DumpDatabase(t, s)
			// The dump holds the rows, the stored bytes and the keys table:
			// the absence checked below is not the absence of data.
			for _, want := range []string{"pii_probe:", "pii_data_keys:", c.BlindIndex(pii.KindSNILS, citizens[0].snils),
				hex.EncodeToString(ciphertext)} {
				if !strings.Contains(dump, want) {
					t.Fatalf("the dump lacks %q:\n%s", want, dump)
				}
			}
			testenv.AssertNotStored(t, s, plaintexts()...)
			findBySNILS(t, s, c, citizens[1])
			if d.name == dialectSQLite {
				files := readAll(t, dir)
				if !bytes.Contains(files, ciphertext) {
					t.Fatal("the database files lack a stored ciphertext: the file check would prove nothing")
				}
				testenv.AssertNotInFiles(t, dir, plaintexts()...)
			}
		})
	}
}

// storeCitizens writes citizens to a table of their own, encrypted, and
// returns one ciphertext as stored.
func storeCitizens(t *testing.T, s *Store, c *pii.Cipher) []byte {
	t.Helper()
	ctx := t.Context()
	blob := "BLOB"
	if s.dialect == dialectPostgres {
		blob = "BYTEA"
	}
	if _, err := s.q(ctx).exec(ctx, fmt.Sprintf(`CREATE TABLE pii_probe (id TEXT PRIMARY KEY,
		snils %[1]s, snils_index TEXT, inn %[1]s, inn_index TEXT, passport %[1]s, passport_index TEXT,
		birth_place %[1]s, scan %[1]s)`, blob)); err != nil {
		t.Fatal(err)
	}
	var last []byte
	for _, p := range citizens {
		enc := func(field, v string) []byte {
			ct, err := c.EncryptString(v, pii.AAD("account", p.id, field))
			if err != nil {
				t.Fatal(err)
			}
			last = ct
			return ct
		}
		scan := fmt.Sprintf("%%PDF-1.4 passport %s, SNILS %s, born in %s", p.passportShown, p.snilsShown, p.birthPlace)
		if _, err := s.q(ctx).exec(ctx, `INSERT INTO pii_probe VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.id,
			enc("snils", p.snils), c.BlindIndex(pii.KindSNILS, p.snils),
			enc("inn", p.inn), c.BlindIndex(pii.KindINN, p.inn),
			enc("passport", p.passport), c.BlindIndex(pii.KindPassport, p.passport),
			enc("birth_place", p.birthPlace), enc("scan", scan)); err != nil {
			t.Fatal(err)
		}
	}
	return last
}

// findBySNILS signs in by SNILS as the login page will: by the blind index
// of what was typed, never by the number.
func findBySNILS(t *testing.T, s *Store, c *pii.Cipher, want citizen) {
	t.Helper()
	var id string
	var ct []byte
	if err := s.db.queryRow(t.Context(), `SELECT id, snils FROM pii_probe WHERE snils_index = $1`,
		c.BlindIndex(pii.KindSNILS, want.snils)).Scan(&id, &ct); err != nil {
		t.Fatalf("look up by SNILS index: %v", err)
	}
	snils, err := c.DecryptString(t.Context(), ct, pii.AAD("account", id, "snils"))
	if err != nil || id != want.id || snils != want.snils {
		t.Fatalf("found %s with SNILS %q, %v; want %s", id, snils, err, want.id)
	}
}

func readAll(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestDumpDatabaseShowsPlaintext: what AssertNotStored looks for is in the
// dump when a plaintext is stored, whatever the column type.
func TestDumpDatabaseShowsPlaintext(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		blob, json := "BLOB", "TEXT"
		if s.dialect == dialectPostgres {
			blob, json = "BYTEA", "JSONB"
		}
		if _, err := s.db.exec(t.Context(), fmt.Sprintf(`CREATE TABLE "leaky table" (txt TEXT, raw %s, num BIGINT, doc %s)`,
			blob, json)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.exec(t.Context(), `INSERT INTO "leaky table" VALUES ($1, $2, $3, $4)`, "паспорт 4510 123456",
			[]byte("г. Тверь"), int64(500100732259), `{"snils": "11223344595"}`); err != nil {
			t.Fatal(err)
		}
		dump := testenv.DumpDatabase(t, s)
		for _, want := range []string{"leaky table:", "паспорт 4510 123456", hex.EncodeToString([]byte("г. Тверь")),
			"500100732259", "11223344595"} {
			if !strings.Contains(dump, want) {
				t.Errorf("the dump lacks %q:\n%s", want, dump)
			}
		}
	})
}
