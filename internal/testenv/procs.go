package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// FreePort returns a loopback TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lookPath finds a program the test needs: missing, it fails in CI and
// skips elsewhere.
func lookPath(t testing.TB, name string, dirs ...string) string {
	t.Helper()
	for _, d := range dirs {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, name, err)
	}
	return p
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Redis is a redis-server process the test owns (never the shared one), on
// a loopback port; its data directory outlives it, so a restart in the same
// directory loads what Save wrote.
type Redis struct {
	t    testing.TB
	Port int
	Dir  string
	cmd  *exec.Cmd
}

// StartRedis starts redis-server on port (0: a free one) with dir as its
// data directory ("": a new one). It has no persistence of its own: only
// Save writes a snapshot. It is killed when the test ends.
func StartRedis(t testing.TB, port int, dir string) *Redis {
	t.Helper()
	bin := lookPath(t, "redis-server")
	if port == 0 {
		port = FreePort(t)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Redis{t: t, Port: port, Dir: dir, cmd: cmd}
	t.Cleanup(r.Kill)
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr()})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("own redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

// Addr is host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

// URL is the redis:// URL of database 0.
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Kill stops the process at once (SIGKILL); harmless when it is gone.
func (r *Redis) Kill() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGCONT)
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// Stop stops it the way an operator does (SIGTERM: no snapshot, since it
// has no persistence) and waits for the exit.
func (r *Redis) Stop() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		_ = r.cmd.Wait()
	}
}

// Freeze stops the process (SIGSTOP): connections stay open and nothing
// answers, as a hung Redis does. Thaw resumes it.
func (r *Redis) Freeze() { _ = r.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen process.
func (r *Redis) Thaw() { _ = r.cmd.Process.Signal(syscall.SIGCONT) }

// Save writes a snapshot of the data, which a restart in the same
// directory loads (as a production Redis with persistence would).
func (r *Redis) Save() {
	r.t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr()})
	defer c.Close()
	if err := c.Save(context.Background()).Err(); err != nil {
		r.t.Fatalf("redis save: %v", err)
	}
}

// Restart starts a new redis-server on the same port and directory (it
// loads a snapshot Save left there) after the old one was stopped.
func (r *Redis) Restart() *Redis {
	r.t.Helper()
	r.Kill()
	return StartRedis(r.t, r.Port, r.Dir)
}

// Postgres is a PostgreSQL server the test owns (initdb into a directory of
// its own, pg_ctl on a free loopback port), never the shared one. It trusts
// local connections as user postgres.
type Postgres struct {
	t    testing.TB
	Port int
	Dir  string // the data directory
	bin  string // the directory of initdb, pg_ctl and postgres
	cred *syscall.Credential
}

// StartPostgres initialises a cluster and starts it. As root the server
// runs as the system user postgres (PostgreSQL refuses root). It is stopped
// and removed when the test ends.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest major version first
	initdb := lookPath(t, "initdb", dirs...)
	p := &Postgres{t: t, Port: FreePort(t), bin: filepath.Dir(initdb)}
	root, err := os.MkdirTemp("", "gosid-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	p.Dir = filepath.Join(root, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "the system user postgres (PostgreSQL does not run as root)", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := p.command("initdb", "-D", p.Dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
		"--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = p.command("pg_ctl", "-D", p.Dir, "-m", "immediate", "-w", "stop").Run() })
	p.Start()
	return p
}

func (p *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = "/"
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

// Start starts the server (again) and waits until it accepts connections.
func (p *Postgres) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='' -c fsync=off "+
		"-c max_connections=200 -c shared_buffers=16MB", p.Port)
	if out, err := p.command("pg_ctl", "-D", p.Dir, "-o", opts, "-l", filepath.Join(filepath.Dir(p.Dir), "log"),
		"-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(p.Dir), "log"))
		p.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, p.URL("postgres"))
		cancel()
		if err == nil {
			_ = c.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("own PostgreSQL does not accept connections: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server (fast shutdown: sessions are ended, as when an
// operator stops it or it fails over).
func (p *Postgres) Stop() {
	p.t.Helper()
	if out, err := p.command("pg_ctl", "-D", p.Dir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		p.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// URL is the URL of database db as user postgres.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// CreateDatabase creates database name and returns its URL.
func (p *Postgres) CreateDatabase(name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		p.t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		p.t.Fatal(err)
	}
	return p.URL(name)
}

// WaitReady waits until the readiness probe of the gosid at base passes
// (after a start, or after a store came back).
func WaitReady(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not ready: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
