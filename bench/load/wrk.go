package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	requests      uint64
	elapsed       time.Duration
	rate          float64
	p50, p90, p99 time.Duration
	max           time.Duration
	// errors counts non-2xx/3xx responses and socket errors. wrk checks the
	// status only: the Go generator is the one that reads the bodies.
	errors  uint64
	details []errorSample
	cpu     *cpuShare
}

// wrkScript writes the Lua script that makes wrk send f's method, headers
// and body, and returns its path.
func wrkScript(dir string, f fixedRequest) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", f.method)
	b.WriteString("wrk.headers[\"Accept\"] = \"application/json\"\n")
	if f.body != nil {
		fmt.Fprintf(&b, "wrk.body = %q\n", f.body)
		b.WriteString("wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n")
	}
	if f.auth != "" {
		fmt.Fprintf(&b, "wrk.headers[\"Authorization\"] = %q\n", f.auth)
	}
	path := filepath.Join(dir, "wrk-"+f.key+".lua")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// runWrk runs wrk against base+f.path: a discarded warm-up run, then the
// measured one, bracketed by probe.
func runWrk(ctx context.Context, wrk, dir, base string, f fixedRequest, threads, conns int, warmup, d time.Duration, probe func() cpuSnapshot) (*wrkResult, error) {
	script, err := wrkScript(dir, f)
	if err != nil {
		return nil, err
	}
	threads = max(1, min(threads, conns))
	run := func(d time.Duration) ([]byte, time.Duration, error) {
		secs := max(1, int(d.Round(time.Second)/time.Second))
		ctx, cancel := context.WithTimeout(ctx, d+60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
			"-d", strconv.Itoa(secs)+"s", "--timeout", "10s", "--latency", "-s", script, base+f.path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return nil, 0, fmt.Errorf("wrk: %w\n%s", err, out)
		}
		return out, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
	}
	if warmup > 0 {
		if _, _, err := run(warmup); err != nil {
			return nil, err
		}
	}
	before := probe()
	out, wrkCPU, err := run(d)
	if err != nil {
		return nil, err
	}
	after := probe()
	r, err := parseWrk(out)
	if err != nil {
		return nil, err
	}
	r.cpu = share(before, after, wrkCPU)
	return r, nil
}

var (
	reWrkLatency  = regexp.MustCompile(`^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)`)
	reWrkPct      = regexp.MustCompile(`^\s*(50|75|90|99)%\s+(\S+)`)
	reWrkTotal    = regexp.MustCompile(`^\s*(\d+) requests in ([0-9.]+\w+),`)
	reWrkRate     = regexp.MustCompile(`^Requests/sec:\s+([0-9.]+)`)
	reWrkNon2xx   = regexp.MustCompile(`^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	reWrkSocketEr = regexp.MustCompile(`^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk 4's report (run with --latency).
func parseWrk(out []byte) (*wrkResult, error) {
	r := &wrkResult{}
	var haveTotal, haveRate bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		var err error
		switch {
		case reWrkLatency.MatchString(line):
			m := reWrkLatency.FindStringSubmatch(line)
			r.max, err = parseWrkDuration(m[3])
		case reWrkPct.MatchString(line):
			m := reWrkPct.FindStringSubmatch(line)
			var d time.Duration
			d, err = parseWrkDuration(m[2])
			switch m[1] {
			case "50":
				r.p50 = d
			case "90":
				r.p90 = d
			case "99":
				r.p99 = d
			}
		case reWrkTotal.MatchString(line):
			m := reWrkTotal.FindStringSubmatch(line)
			r.requests, _ = strconv.ParseUint(m[1], 10, 64)
			r.elapsed, err = parseWrkDuration(m[2])
			haveTotal = true
		case reWrkRate.MatchString(line):
			r.rate, err = strconv.ParseFloat(reWrkRate.FindStringSubmatch(line)[1], 64)
			haveRate = true
		case reWrkNon2xx.MatchString(line):
			n, _ := strconv.ParseUint(reWrkNon2xx.FindStringSubmatch(line)[1], 10, 64)
			r.errors += n
			r.details = append(r.details, errorSample{Message: "non-2xx or 3xx responses", Count: n})
		case reWrkSocketEr.MatchString(line):
			m := reWrkSocketEr.FindStringSubmatch(line)
			for i, kind := range []string{"connect", "read", "write", "timeout"} {
				n, _ := strconv.ParseUint(m[i+1], 10, 64)
				if n > 0 {
					r.errors += n
					r.details = append(r.details, errorSample{Message: "socket errors: " + kind, Count: n})
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("wrk output %q: %w", line, err)
		}
	}
	if !haveTotal || !haveRate {
		return nil, fmt.Errorf("unrecognised wrk output:\n%s", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's units: us, ms, s, m, h.
func parseWrkDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "us") {
		s = strings.TrimSuffix(s, "us") + "µs"
	}
	return time.ParseDuration(s)
}
