package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// row is one line of the results table.
type row struct {
	Scenario    string        `json:"scenario"`
	Generator   string        `json:"generator"` // go, wrk, or local for the argon2id figure
	Concurrency int           `json:"concurrency"`
	Requests    uint64        `json:"requests"`
	Seconds     float64       `json:"seconds"`
	Rate        float64       `json:"per_second"`
	P50         ms            `json:"p50_ms"`
	P90         ms            `json:"p90_ms"`
	P99         ms            `json:"p99_ms"`
	Max         ms            `json:"max_ms"`
	Errors      uint64        `json:"errors"`
	ErrorDetail []errorSample `json:"error_samples,omitempty"`
	Floor       float64       `json:"floor,omitempty"`
	CPU         *cpuShare     `json:"cpu,omitempty"`
	// ServerCPUPerOp is the server's CPU time per operation, in µs: the
	// figure that depends least on how much of the machine the generator took.
	ServerCPUPerOp float64 `json:"server_cpu_us_per_op,omitempty"`
	Status         string  `json:"status"` // ok, below floor, errors, reference
	Unit           string  `json:"unit"`   // req/s, flows/s, hashes/s
}

// ms is a duration that marshals as fractional milliseconds.
type ms time.Duration

func (d ms) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))), nil
}

func (d ms) String() string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

func rowFromLoad(scenario, generator, unit string, conc int, floor float64, r *loadResult) row {
	out := row{
		Scenario: scenario, Generator: generator, Unit: unit, Concurrency: conc, Requests: r.ops,
		Seconds: r.elapsed.Seconds(), Rate: r.rate(), P50: ms(r.hist.percentile(50)), P90: ms(r.hist.percentile(90)),
		P99: ms(r.hist.percentile(99)), Max: ms(r.hist.max), Errors: r.errors + r.warmupErrors,
		ErrorDetail: r.errorSamples, Floor: floor, CPU: r.cpu,
	}
	out.judge()
	return out
}

func rowFromWrk(scenario string, conc int, floor float64, r *wrkResult) row {
	out := row{
		Scenario: scenario, Generator: "wrk", Unit: "req/s", Concurrency: conc, Requests: r.requests,
		Seconds: r.elapsed.Seconds(), Rate: r.rate, P50: ms(r.p50), P90: ms(r.p90), P99: ms(r.p99),
		Max: ms(r.max), Errors: r.errors, ErrorDetail: r.details, Floor: floor, CPU: r.cpu,
	}
	out.judge()
	return out
}

func (r *row) judge() {
	if r.CPU != nil && r.Rate > 0 {
		r.ServerCPUPerOp = r.CPU.Server / r.Rate * 1e6
	}
	switch {
	case r.Errors > 0:
		r.Status = "errors"
	case r.Floor > 0 && r.Rate < r.Floor:
		r.Status = "below floor"
	default:
		r.Status = "ok"
	}
}

// report is the whole run, as --json prints it.
type report struct {
	Command   string    `json:"command"`
	Started   time.Time `json:"started"`
	Machine   machine   `json:"machine"`
	Rows      []row     `json:"results"`
	Pass      bool      `json:"pass"`
	FloorsMet bool      `json:"floors_met"`
}

type machine struct {
	CPU        string `json:"cpu"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	Commit     string `json:"gosid_commit"`
}

func describeMachine(root string) machine {
	m := machine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if root != "" {
		if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
			m.Commit = strings.TrimSpace(string(out))
		}
		if out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(out) > 0 {
			m.Commit += "-dirty"
		}
	}
	return m
}

// finish sets the verdicts: Pass is no errors anywhere, FloorsMet is every
// rate at or above its floor.
func (r *report) finish() {
	r.Pass, r.FloorsMet = true, true
	for _, x := range r.Rows {
		if x.Errors > 0 {
			r.Pass = false
		}
		if x.Floor > 0 && x.Rate < x.Floor {
			r.FloorsMet = false
		}
	}
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeMarkdown prints the table the README's performance section takes, with
// the command and machine above it and the error samples below.
func (r *report) writeMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "Command: `%s`  \n", r.Command)
	fmt.Fprintf(w, "Machine: %s, %d CPUs (GOMAXPROCS %d), %s; gosid %s; %s  \n", orUnknown(m.CPU), m.NumCPU,
		m.GOMAXPROCS, m.GoVersion, orUnknown(m.Commit), r.Started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Server on PostgreSQL + Redis; the load generator runs on the same cores as the server.\n\n")
	fmt.Fprintln(w, "| scenario | generator | conc. | requests | rate | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | errors | floor | result | server CPU/op (µs) | cores: server / generator / pg+redis / other / idle |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
	for _, x := range r.Rows {
		floor := "—"
		if x.Floor > 0 {
			floor = fmt.Sprintf("≥ %s", thousands(x.Floor))
		}
		perOp := "—"
		if x.ServerCPUPerOp > 0 {
			perOp = thousands(x.ServerCPUPerOp)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", x.Scenario, x.Generator,
			x.Concurrency, x.Requests, thousands(x.Rate), x.Unit, x.P50, x.P90, x.P99, x.Max, x.Errors, floor, x.Status, perOp, x.CPU)
	}
	fmt.Fprintln(w)
	for _, x := range r.Rows {
		for _, e := range x.ErrorDetail {
			fmt.Fprintf(w, "- %s [%s]: %d × %s\n", x.Scenario, x.Generator, e.Count, e.Message)
		}
	}
	switch {
	case !r.Pass:
		fmt.Fprintln(w, "\nResult: FAIL (errors)")
	case !r.FloorsMet:
		fmt.Fprintln(w, "Result: below a floor")
	default:
		fmt.Fprintln(w, "Result: all floors met, no errors")
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// thousands formats a rate with comma separators (12,345), or with one
// decimal below 100.
func thousands(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
