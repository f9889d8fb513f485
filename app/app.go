// Package app wires gosid together with plain constructors: storage, keys,
// the OAuth provider, the hosted pages and the HTTP server. It is the one
// place that knows every package; nothing imports it but cmd/gosid and tests.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/config"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/redis"
	"github.com/gosid/gosid/storage/sqlstore"
)

// Stores is the storage side of gosid, opened without starting anything.
type Stores struct {
	Config config.Config
	Log    *slog.Logger
	DB     *sqlstore.Store
	// Ephemeral is Redis when configured, else the database.
	Ephemeral storage.Ephemeral
	redis     *redis.Store
	Sealer    *keys.Sealer
	Keys      *keys.Manager
	Clients   *clients.Cache
	Secrets   *clients.Hasher
	Passwords *account.PasswordHasher
	// PII encrypts personal data (envelope encryption under the master key).
	PII *pii.Cipher
}

// Open connects to the configured storage, applies migrations when migrate
// is true, and prepares keys (without starting background reloads).
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (*Stores, error) {
	s := &Stores{Config: cfg, Log: log}
	var err error
	if cfg.DatabaseURL != "" {
		s.DB, err = sqlstore.OpenPostgres(ctx, cfg.DatabaseURL)
	} else {
		s.DB, err = sqlstore.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "gosid.db"))
	}
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := s.DB.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}

	s.Ephemeral = s.DB
	if cfg.RedisURL != "" {
		if s.redis, err = redis.Open(ctx, cfg.RedisURL, cfg.RedisPrefix); err != nil {
			s.Close()
			return nil, err
		}
		s.Ephemeral = s.redis
	}
	master, err := masterKey(cfg, log)
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.Sealer, err = keys.NewSealer(master); err != nil {
		s.Close()
		return nil, err
	}
	s.Keys = keys.NewManager(s.DB, s.Sealer, keys.Options{
		RetireAfter: cfg.KeyRetireAfter, Logger: log,
	})
	s.Clients = clients.NewCache(s.DB, 5*time.Second)
	s.Secrets = clients.NewHasher(s.Sealer.DeriveKey("client-secret"))
	s.Passwords = account.NewPasswordHasher(account.DefaultArgon2Params, cfg.PasswordHashConcurrency)
	var previous [][]byte
	for _, k := range cfg.PreviousMasterKeys {
		old, err := keys.ParseMasterKey(k)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("GOSID_PREVIOUS_MASTER_KEYS: %w", err)
		}
		previous = append(previous, old)
	}
	if s.PII, err = pii.New(s.DB, pii.Options{MasterKey: master, PreviousMasterKeys: previous, Logger: log}); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.PII.Init(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("personal-data keys: %w", err)
	}
	if migrate {
		if err := migrateQueue(ctx, s); err != nil {
			s.Close()
			return nil, fmt.Errorf("migrate delivery queue: %w", err)
		}
	}
	return s, nil
}

// Close releases connections.
func (s *Stores) Close() {
	if s.redis != nil {
		_ = s.redis.Close()
	}
	if s.DB != nil {
		s.DB.Close()
	}
}

// masterKey returns the configured master key. Without one, the embedded
// default generates a random key once and keeps it beside the database (so a
// newcomer's first run works and restarts keep their keys); a PostgreSQL
// deployment refuses to start unless development mode allows the built-in
// development key.
func masterKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.MasterKey != "" {
		return keys.ParseMasterKey(cfg.MasterKey)
	}
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, "master.key")
		raw, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			k := make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return nil, err
			}
			raw = []byte(base64.StdEncoding.EncodeToString(k) + "\n")
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("create data dir: %w", err)
			}
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				return nil, fmt.Errorf("write %s: %w", path, err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		log.Warn("WARNING: no GOSID_MASTER_KEY set; using the key generated in the data directory. "+
			"Anyone who can read the data directory can decrypt signing keys. Set GOSID_MASTER_KEY in production.",
			"path", path)
		return keys.ParseMasterKey(strings.TrimSpace(string(raw)))
	}
	if !cfg.Dev {
		return nil, errors.New("GOSID_MASTER_KEY is required with PostgreSQL (32 bytes, base64); " +
			"set GOSID_DEV=true to use the insecure development key")
	}
	log.Warn("WARNING: INSECURE DEVELOPMENT MASTER KEY IN USE. Signing keys and personal data are encrypted " +
		"with a key published in the source code. Never run like this in production: set GOSID_MASTER_KEY.")
	return keys.DevMasterKey, nil
}
