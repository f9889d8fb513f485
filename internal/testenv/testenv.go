// Package testenv finds the PostgreSQL and Redis servers the tests run
// against. Outside CI a missing server skips the test that needs it; with
// CI=true it fails loudly, so a green CI run always means the real backends
// were exercised.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultPostgresURL is used when GOSID_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DefaultRedisURL is used when GOSID_TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// InCI reports whether the tests run in CI, where missing services fail.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1" || v == "yes"
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable (set CI=true to make this a failure): %v", what, err)
}

// RandomName returns a short random identifier safe for database and key names.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresURL creates a fresh, empty database for the test and returns its
// URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("GOSID_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	defer conn.Close(context.Background())
	name := RandomName("gosid_test_")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	u.Path = "/" + name
	// Connections to the shared server can be slow to open on a machine
	// under heavy load (CI's two busy cores): the production default of 3 s
	// made unrelated tests fail there, so tests wait longer.
	if q := u.Query(); q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "20")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// RedisURL returns the URL of a reachable Redis and a key prefix unique to
// the test; keys under the prefix are deleted when the test ends.
func RedisURL(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	u := os.Getenv("GOSID_TEST_REDIS_URL")
	if u == "" {
		u = DefaultRedisURL
	}
	opts, err := goredis.ParseURL(u)
	if err != nil {
		t.Fatalf("parse %s: %v", u, err)
	}
	c := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, "Redis", err)
	}
	prefix = RandomName("gosidtest:") + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		deletePrefix(ctx, c, prefix)
	})
	return u, prefix
}

// RedisClusterURL returns a redis+cluster:// URL for the Redis Cluster named
// by GOSID_TEST_REDIS_CLUSTER (seed addresses, comma-separated; scripts/test
// starts a local six-process cluster and sets it) and a key prefix unique to
// the test; keys under the prefix are deleted from every primary when the
// test ends. Without the variable the test skips, or fails with CI=true.
func RedisClusterURL(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	seeds := ClusterSeeds(t)
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: seeds})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, "the Redis Cluster", err)
	}
	prefix = RandomName("gosidtest:") + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			deletePrefix(ctx, m, prefix)
			return nil
		})
	})
	return "redis+cluster://" + strings.Join(seeds, ","), prefix
}

// ClusterSeeds returns the seed addresses in GOSID_TEST_REDIS_CLUSTER; when
// it is unset the test skips, or fails with CI=true.
func ClusterSeeds(t testing.TB) []string {
	t.Helper()
	var seeds []string
	for _, a := range strings.Split(os.Getenv("GOSID_TEST_REDIS_CLUSTER"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			seeds = append(seeds, a)
		}
	}
	if len(seeds) == 0 {
		unavailable(t, "the Redis Cluster", errors.New("GOSID_TEST_REDIS_CLUSTER is not set (scripts/test starts one)"))
	}
	return seeds
}

// deletePrefix deletes the keys under prefix on one server.
func deletePrefix(ctx context.Context, c goredis.Cmdable, prefix string) {
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
