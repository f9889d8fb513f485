package faults_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gracefulShutdown: a node told to stop (SIGTERM) while registrations are
// in flight and a message is being delivered first reports itself unready
// (GOSID_SHUTDOWN_DELAY) while it keeps serving, then finishes every
// request it accepted — no connection is reset — and exits cleanly; the
// messages are delivered and the flows they belong to finish on another
// node.
// drainTimeout is the patience of a request in flight at SIGTERM: the
// node's own drain limit (30 s), since several password hashes queued on a
// busy machine may take a while; what must not happen is a reset.
const drainTimeout = 45 * time.Second

func gracefulShutdown(t *testing.T, c *cluster, phone string) {
	const reco = "+79160000021"
	c.createAccount(reco, password)
	victim, other := c.nodes[0], c.nodes[2]

	// Messages on their way to the operator when the node is told to stop:
	// a recovery code and the codes of registrations begun on the node.
	release := c.sms.hold(reco)
	defer release()
	f := c.startFlow(victim.URL, "recovery")
	if a, v := c.submit(victim.URL, "recovery", f, map[string]any{"action": "start", "login": reco}); a.Status != http.StatusOK || v.State != "confirm" {
		t.Fatalf("recovery: %s", a)
	}
	held := []string{reco}
	begun := map[string]*flow{}
	for i := 0; i < 5; i++ {
		p := fmt.Sprintf("+7916000%04d", 200+i)
		defer c.sms.hold(p)()
		g := c.startFlow(victim.URL, "registration")
		if a, v := c.submit(victim.URL, "registration", g, map[string]any{"action": "register", "family_name": "Петрова",
			"given_name": "Анна", "contact": p, "password": password, "password_confirm": password, "consent": true}); a.Status != http.StatusOK || v.State != "confirm" {
			t.Fatalf("registration: %s", a)
		}
		held = append(held, p)
		begun[p] = g
	}
	for _, p := range held {
		for deadline := time.Now().Add(60 * time.Second); c.sms.attempts(p) == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the code for %s never reached the operator", p)
			}
		}
	}

	// Registrations in flight (each hashes a password, keeps the flow and
	// queues a code): every request is written to the node before it is
	// told to stop.
	const inFlight = 6
	flows := make([]*flow, inFlight)
	phones := make([]string, inFlight)
	for i := range flows {
		flows[i] = c.startFlow(victim.URL, "registration")
		phones[i] = fmt.Sprintf("+7916000%04d", 100+i)
	}
	var wrote, done sync.WaitGroup
	wrote.Add(inFlight)
	done.Add(inFlight)
	errs := make([]error, inFlight)
	answers := make([]*flow, inFlight)
	statuses := make([]int, inFlight)
	for i, f := range flows {
		go func() {
			defer done.Done()
			raw, _ := json.Marshal(map[string]any{"action": "register", "family_name": "Петрова", "given_name": "Анна",
				"contact": phones[i], "password": password, "password_confirm": password, "consent": true})
			req, _ := http.NewRequest(http.MethodPost, victim.URL+"/api/v1/flows/registration/"+f.ID, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+f.FlowToken)
			var once sync.Once
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(wrote.Done) },
			}))
			resp, err := (&http.Client{Timeout: drainTimeout, Transport: &http.Transport{}}).Do(req)
			once.Do(wrote.Done)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				errs[i] = err
				return
			}
			statuses[i] = resp.StatusCode
			answers[i] = &flow{}
			_ = json.Unmarshal(body, answers[i])
		}()
	}
	wrote.Wait()
	if err := victim.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.sms.releaseAll()

	// Unready first, while still answering.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("the node never reported itself unready")
		}
		resp, err := http.Get(victim.URL + "/readyz")
		if err != nil {
			t.Fatalf("the node stopped answering before it reported itself unready: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s, code := c.signIn(victim.URL, phone, password); s == "" {
		t.Fatalf("a sign-in on the node while it drains: %q", code)
	}

	done.Wait()
	for i := range flows {
		if errs[i] != nil {
			t.Errorf("registration %d in flight at SIGTERM: %v", i, errs[i])
		} else if statuses[i] != http.StatusOK || answers[i].State != "confirm" {
			t.Errorf("registration %d in flight at SIGTERM: %d %+v", i, statuses[i], answers[i])
		}
	}
	if err := victim.cmd.Wait(); err != nil {
		t.Errorf("the node did not exit cleanly: %v\n%s", err, lastLines(victim.logs.String(), 20))
	}

	// Every code queued is delivered and every flow finishes elsewhere.
	for i, f := range flows {
		begun[phones[i]] = f
	}
	for p, f := range begun {
		if t.Failed() {
			break
		}
		a, v := c.submit(other.URL, "registration", f, map[string]any{"action": "confirm", "code": c.sms.code(t, p, 1)})
		if a.Status != http.StatusOK || v.State != "done" {
			t.Errorf("registration of %s confirmed after the shutdown: %s", p, a)
		}
	}
	// A delivery the stopping node had begun was finished, not cut off and
	// sent again.
	for _, p := range held {
		if n := c.sms.attempts(p); n != 1 {
			t.Errorf("the code for %s reached the operator %d times", p, n)
		}
	}
	code := c.sms.code(t, reco, 1)
	if a, v := c.submit(other.URL, "recovery", f, map[string]any{"action": "confirm", "code": code}); a.Status != http.StatusOK || v.State != "password" {
		t.Fatalf("recovery code after the shutdown: %s", a)
	}
	c.start(victim)
	c.waitReady(victim)
}
