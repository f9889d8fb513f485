package faults_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gracefulShutdown: a node told to stop (SIGTERM) while sign-ins are in
// flight and a message is being delivered first reports itself unready
// (GOSID_SHUTDOWN_DELAY) while it keeps serving, then finishes every
// request it accepted — no connection is reset — and exits cleanly; the
// message is delivered and the flow it belongs to finishes on another
// node.
func gracefulShutdown(t *testing.T, c *cluster, phone string) {
	const reco = "+79160000021"
	c.createAccount(reco, password)
	victim, other := c.nodes[0], c.nodes[2]

	// A message on its way to the operator when the node is told to stop.
	release := c.sms.hold(reco)
	defer release()
	f := c.startFlow(victim.URL, "recovery")
	if a, v := c.submit(victim.URL, "recovery", f, map[string]any{"action": "start", "login": reco}); a.Status != http.StatusOK || v.State != "confirm" {
		t.Fatalf("recovery: %s", a)
	}
	for deadline := time.Now().Add(60 * time.Second); c.sms.attempts(reco) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the recovery code never reached the operator")
		}
	}

	// Sign-ins in flight: each request is written to the node before it is
	// told to stop.
	const inFlight = 12
	flows := make([]*flow, inFlight)
	for i := range flows {
		flows[i] = c.startFlow(victim.URL, "login")
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
			raw, _ := json.Marshal(map[string]any{"login": phone, "password": password})
			req, _ := http.NewRequest(http.MethodPost, victim.URL+"/api/v1/flows/login/"+f.ID, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+f.FlowToken)
			var once sync.Once
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(wrote.Done) },
			}))
			resp, err := (&http.Client{Timeout: clientTimeout, Transport: &http.Transport{}}).Do(req)
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
	release()

	// Unready first, while still answering.
	for {
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
			t.Errorf("sign-in %d in flight at SIGTERM: %v", i, errs[i])
		} else if statuses[i] != http.StatusOK || answers[i].SessionToken == "" {
			t.Errorf("sign-in %d in flight at SIGTERM: %d %+v", i, statuses[i], answers[i])
		}
	}
	if err := victim.cmd.Wait(); err != nil {
		t.Errorf("the node did not exit cleanly: %v\n%s", err, lastLines(victim.logs.String(), 20))
	}

	// The message is delivered and the flow finishes elsewhere.
	code := c.sms.code(t, reco, 1)
	if a, v := c.submit(other.URL, "recovery", f, map[string]any{"action": "confirm", "code": code}); a.Status != http.StatusOK || v.State != "password" {
		t.Fatalf("recovery code after the shutdown: %s", a)
	}
	c.start(victim)
	c.waitReady(victim)
}
