// Command load benchmarks a gosid server on PostgreSQL + Redis: it builds the
// binary, gives it a fresh database and Redis prefix, registers clients and
// citizens with the CLI, starts `gosid serve`, and drives it with a
// closed-loop load generator (and, with --wrk, also with wrk). It prints
// requests a second and latency percentiles as a Markdown table or JSON.
//
//	go run ./bench/load [--check] [--wrk] [--json] [--duration 10s] ...
//
// See bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	pg              string
	redis           string
	binary          string
	concurrency     int
	flowConcurrency int
	duration        time.Duration
	flowDuration    time.Duration
	warmup          time.Duration
	hashDuration    time.Duration
	scenarios       string
	check           bool
	json            bool
	wrk             bool
	wrkThreads      int
	keepTemp        bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server to create the benchmark database on")
	fs.StringVar(&o.redis, "redis", "redis://127.0.0.1:6379/0", "Redis for short-lived state (keys under a random prefix, removed at the end)")
	fs.StringVar(&o.binary, "gosid", "", "use this gosid binary instead of building ./cmd/gosid")
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent workers (connections) for the fixed-request scenarios")
	fs.IntVar(&o.flowConcurrency, "flow-concurrency", 4, "concurrent sign-in flows")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per fixed-request scenario")
	fs.DurationVar(&o.flowDuration, "flow-duration", 10*time.Second, "measured time for the sign-in flow scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each scenario")
	fs.DurationVar(&o.hashDuration, "hash-duration", 3*time.Second, "time spent measuring the raw argon2id hash rate (0: skip)")
	fs.StringVar(&o.scenarios, "scenarios", "cc,jwks,discovery,introspect,flow", "comma-separated scenarios to run")
	fs.BoolVar(&o.check, "check", false, "exit 1 when a rate is below its floor (errors always exit 1)")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of the Markdown table")
	fs.BoolVar(&o.wrk, "wrk", false, "also run the fixed-request scenarios with wrk, if installed")
	fs.IntVar(&o.wrkThreads, "wrk-threads", 1, "wrk threads (--wrk)")
	fs.BoolVar(&o.keepTemp, "keep", false, "keep the temporary directory (binary, server log, wrk scripts)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case o.concurrency < 1 || o.concurrency > 1024:
		return nil, errors.New("--concurrency must be 1 to 1024")
	case o.flowConcurrency < 1 || o.flowConcurrency > 64:
		return nil, errors.New("--flow-concurrency must be 1 to 64")
	case o.duration <= 0 || o.duration > time.Hour || o.flowDuration <= 0 || o.flowDuration > time.Hour:
		return nil, errors.New("durations must be positive and at most 1h")
	case o.warmup < 0 || o.warmup > time.Minute || o.hashDuration < 0 || o.hashDuration > time.Minute:
		return nil, errors.New("--warmup and --hash-duration must be 0 to 1m")
	}
	for _, s := range strings.Split(o.scenarios, ",") {
		switch s {
		case "cc", "jwks", "discovery", "introspect", "flow":
		default:
			return nil, fmt.Errorf("unknown scenario %q (want cc, jwks, discovery, introspect, flow)", s)
		}
	}
	return o, nil
}

func (o *options) wants(key string) bool {
	for _, s := range strings.Split(o.scenarios, ",") {
		if s == key {
			return true
		}
	}
	return false
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run returns the exit code: 0, 1 for errors or (with --check) a missed
// floor, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "load:", err)
		}
		return 2
	}
	rep, err := bench(ctx, o, args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	if o.json {
		if err := rep.writeJSON(stdout); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
	} else {
		rep.writeMarkdown(stdout)
	}
	if !rep.Pass || (o.check && !rep.FloorsMet) {
		return 1
	}
	return 0
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// bench sets everything up, runs the scenarios and tears everything down.
func bench(ctx context.Context, o *options, args []string, log io.Writer) (rep *report, err error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	rep = &report{Command: commandLine(args), Started: time.Now(), Machine: describeMachine(root)}
	dir, err := os.MkdirTemp("", "gosid-bench-")
	if err != nil {
		return nil, err
	}
	e := &benchEnv{dir: dir, pgBase: o.pg, redis: o.redis, prefix: "gosidbench" + randomHex(6) + ":"}
	defer func() {
		if err != nil || o.keepTemp {
			logf(log, "kept %s (server log: serve.log)", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()

	if e.binary = o.binary; e.binary == "" {
		logf(log, "building ./cmd/gosid")
		if e.binary, err = buildGosid(ctx, dir); err != nil {
			return nil, err
		}
	}
	if err := e.pingRedis(ctx); err != nil {
		return nil, err
	}
	dbURL, err := e.createDatabase(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if derr := e.dropDatabase(); derr != nil {
			logf(log, "drop database %s: %v", e.dbName, derr)
		}
		if rerr := e.cleanRedis(); rerr != nil {
			logf(log, "remove Redis keys %s*: %v", e.prefix, rerr)
		}
	}()
	logf(log, "database %s, Redis prefix %s", e.dbName, e.prefix)
	if err := e.configure(dbURL); err != nil {
		return nil, err
	}
	if err := mustBeLoopback(e.issuer); err != nil {
		return nil, err
	}

	logf(log, "registering clients and %d citizens", o.flowConcurrency)
	if _, err := e.gosid(ctx, "migrate"); err != nil {
		return nil, err
	}
	cc, err := e.createClient(ctx, "--name", "bench-cc", "--grant-type", "client_credentials", "--scope", "api")
	if err != nil {
		return nil, err
	}
	web, err := e.createClient(ctx, "--name", "bench-web", "--redirect-uri", benchRedirectURI,
		"--grant-type", "authorization_code", "--grant-type", "refresh_token",
		"--scope", "openid", "--scope", "profile", "--scope", "offline_access", "--first-party")
	if err != nil {
		return nil, err
	}
	logins, err := registerCitizens(ctx, e, o.flowConcurrency)
	if err != nil {
		return nil, err
	}

	logf(log, "starting gosid serve on %s", e.addr)
	if err := e.startServer(ctx); err != nil {
		return nil, err
	}
	defer func() {
		if serr := e.stopServer(); serr != nil {
			logf(log, "gosid serve: %v", serr)
		}
	}()

	rows, err := runScenarios(ctx, o, e, cc, web, logins, log)
	rep.Rows = rows
	if err != nil {
		return nil, err
	}
	if err := e.stopServer(); err != nil {
		logf(log, "gosid serve: %v", err)
	}
	if o.hashDuration > 0 {
		// Measured with the server stopped, so that the hashes have the cores.
		logf(log, "argon2id raw hash rate for %s", o.hashDuration)
		res, n, err := hashRate(ctx, o.hashDuration)
		if err != nil {
			return nil, err
		}
		r := rowFromLoad(fmt.Sprintf("argon2id raw hash (m=%d KiB, t=%d, p=%d)", argonMemoryKiB, argonTime, argonThreads),
			"local", "hashes/s", n, 0, res)
		r.Status = "reference"
		rep.Rows = append(rep.Rows, r)
	}
	rep.finish()
	return rep, nil
}

// citizenPassword satisfies the password policy; the CLI hashes it once per
// citizen.
const citizenPassword = "Bench-Passw0rd!x"

// registerCitizens creates one citizen per flow worker, +79000000001 up. A
// citizen signing in on several devices at once is rare, and the lockout
// counter is taken before the password is checked, so that parallel
// attempts on one account cannot test more than three passwords: four
// workers on one account would lock it by design.
func registerCitizens(ctx context.Context, e *benchEnv, n int) ([]string, error) {
	logins := make([]string, n)
	for i := range logins {
		logins[i] = fmt.Sprintf("+7900%07d", i+1)
		if _, err := e.gosid(ctx, "accounts", "create", "--phone", logins[i], "--password", citizenPassword, "--json"); err != nil {
			return nil, err
		}
	}
	return logins, nil
}

// runScenarios runs the selected scenarios in order, each checked once
// before it is loaded.
func runScenarios(ctx context.Context, o *options, e *benchEnv, cc, web registeredClient, logins []string, log io.Writer) ([]row, error) {
	var rows []row
	tr := newTransport(o.concurrency)
	defer tr.CloseIdleConnections()

	token, err := clientCredentialsToken(ctx, tr, e.issuer, cc)
	if err != nil {
		return nil, err
	}
	wrkPath := ""
	if o.wrk {
		if wrkPath, err = exec.LookPath("wrk"); err != nil {
			logf(log, "--wrk: wrk not found in PATH; only the Go generator runs (apt-get install wrk)")
		}
	}
	probe := func() cpuSnapshot { return takeCPU(e.server.Process.Pid, 0) }
	spec := loadSpec{concurrency: o.concurrency, warmup: o.warmup, duration: o.duration, probe: probe}
	for _, f := range fixedScenarios(e.issuer, cc, token) {
		if !o.wants(f.key) {
			continue
		}
		if err := f.once(ctx, tr, e.issuer); err != nil {
			return rows, err
		}
		logf(log, "%s: %d workers, %s warm-up + %s", f.name, o.concurrency, o.warmup, o.duration)
		res, err := runLoad(ctx, spec, f.newOp(tr, e.issuer))
		if err != nil {
			return rows, err
		}
		rows = append(rows, rowFromLoad(f.name, "go", "req/s", o.concurrency, f.floor, res))
		if wrkPath != "" {
			logf(log, "%s with wrk", f.name)
			wr, err := runWrk(ctx, wrkPath, e.dir, e.issuer, f, o.wrkThreads, o.concurrency, o.warmup, o.duration, probe)
			if err != nil {
				return rows, err
			}
			rows = append(rows, rowFromWrk(f.name, o.concurrency, f.floor, wr))
		}
	}
	if o.wants("flow") {
		base, _ := url.Parse(e.issuer)
		ftr := newTransport(o.flowConcurrency)
		defer ftr.CloseIdleConnections()
		flow := &codeFlow{base: base, client: web, logins: logins, password: citizenPassword, tr: ftr}
		if err := flow.run(ctx, logins[0]); err != nil {
			return rows, fmt.Errorf("authorization-code flow: %w", err)
		}
		logf(log, "authorization-code flows: %d workers, %s warm-up + %s", o.flowConcurrency, o.warmup, o.flowDuration)
		res, err := runLoad(ctx, loadSpec{concurrency: o.flowConcurrency, warmup: o.warmup, duration: o.flowDuration, maxOps: 1_000_000, probe: probe}, flow.newOp())
		if err != nil {
			return rows, err
		}
		rows = append(rows, rowFromLoad("authorization-code flow (PKCE, sign-in, code → tokens)", "go", "flows/s", o.flowConcurrency, 0, res))
	}
	return rows, nil
}

// clientCredentialsToken gets the access token the introspection scenario
// introspects.
func clientCredentialsToken(ctx context.Context, tr *http.Transport, base string, cc registeredClient) (string, error) {
	body := "grant_type=client_credentials&scope=api"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth2/token", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basicAuth(cc.ClientID, cc.ClientSecret))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return "", fmt.Errorf("client_credentials token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("client_credentials token: status %d: %s", resp.StatusCode, excerpt(raw))
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("client_credentials token: no access_token in %s", excerpt(raw))
	}
	return tok.AccessToken, nil
}

// commandLine renders the invocation for the report.
func commandLine(args []string) string {
	parts := []string{"go run ./bench/load"}
	for _, a := range args {
		if strings.ContainsAny(a, " '\"$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
