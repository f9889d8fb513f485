package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuSnapshot is cumulative CPU time, read from /proc: the whole machine's
// busy and total time, the server's and generator's own time, and that of
// every PostgreSQL and Redis process on the machine. Two snapshots bracket a
// measured window and say where the cores went; a large "other" share means
// the figures were taken on a machine busy with something else.
type cpuSnapshot struct {
	at        time.Time
	busy      time.Duration
	total     time.Duration
	server    time.Duration
	generator time.Duration
	stores    time.Duration
	ok        bool
}

// storeCommands are the process names counted as the storage gosid runs on.
// Other users of the same PostgreSQL or Redis are counted too.
var storeCommands = map[string]bool{"postgres": true, "redis-server": true}

// cpuShare is a window's CPU use, in cores (1.0 = one core busy throughout).
type cpuShare struct {
	Server    float64 `json:"server_cores"`
	Generator float64 `json:"generator_cores"`
	Stores    float64 `json:"postgres_redis_cores"`
	Other     float64 `json:"other_cores"`
	Idle      float64 `json:"idle_cores"`
}

func (c *cpuShare) String() string {
	if c == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f / %.2f / %.2f / %.2f / %.2f", c.Server, c.Generator, c.Stores, c.Other, c.Idle)
}

// clockTick is USER_HZ, 100 on every Linux that matters.
const clockTick = 10 * time.Millisecond

// takeCPU reads the machine's and serverPID's CPU time; the generator is
// this process unless genPID is given. ok is false off Linux.
func takeCPU(serverPID, genPID int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now()}
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return s
	}
	var v [10]int64
	for i := 1; i < len(f) && i <= len(v); i++ {
		v[i-1], _ = strconv.ParseInt(f[i], 10, 64)
	}
	// user nice system idle iowait irq softirq steal (guest time is already
	// counted in user).
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	s.busy = time.Duration(busy) * clockTick
	s.total = time.Duration(busy+v[3]+v[4]) * clockTick
	s.server = procCPU(serverPID)
	if genPID == 0 {
		genPID = os.Getpid()
	}
	s.generator = procCPU(genPID)
	s.stores = storesCPU()
	s.ok = true
	return s
}

// storesCPU sums the CPU time of the PostgreSQL and Redis processes running
// now; a backend that exits between two snapshots is missed, which gosid's
// pooled connections make rare.
func storesCPU() time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || !storeCommands[strings.TrimSpace(string(comm))] {
			continue
		}
		sum += procCPU(pid)
	}
	return sum
}

// procCPU is a process's user+system time from /proc/<pid>/stat.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields are counted after its ')'.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// share turns two snapshots into cores used. genOverride, when not zero,
// replaces the generator's time (wrk's, read from its exit status).
func share(a, b cpuSnapshot, genOverride time.Duration) *cpuShare {
	wall := b.at.Sub(a.at)
	if !a.ok || !b.ok || wall <= 0 || b.total <= a.total {
		return nil
	}
	cores := float64(b.total-a.total) / float64(wall)
	gen := b.generator - a.generator
	if genOverride > 0 {
		gen = genOverride
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(wall) }
	busy := per(b.busy - a.busy)
	c := &cpuShare{Server: per(b.server - a.server), Generator: per(gen), Stores: per(max(0, b.stores-a.stores))}
	c.Other = max(0, busy-c.Server-c.Generator-c.Stores)
	c.Idle = max(0, cores-busy)
	return c
}
