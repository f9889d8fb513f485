package faults_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosid/gosid/internal/testenv"
)

// clientTimeout is the clients' own patience: generous for a busy machine,
// far below what a request hanging on a frozen store used to take (three
// Redis calls of 5 s each).
const clientTimeout = 12 * time.Second

// cluster is three gosid processes (the real binary) on a PostgreSQL and a
// Redis the test owns, behind a round-robin balancer whose address is the
// issuer, and an SMS operator that records every message.
type cluster struct {
	t     *testing.T
	bin   string
	env   []string
	pg    *testenv.Postgres
	rd    *testenv.Redis
	nodes []*node
	URL   string // the balancer: the issuer
	sms   *smsOperator
	next  atomic.Int64
}

type node struct {
	i    int
	port int
	URL  string
	cmd  *exec.Cmd
	logs *testenv.SyncBuffer
}

func startCluster(t *testing.T, extraEnv ...string) *cluster {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gosid")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/gosid").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := &cluster{t: t, bin: bin, sms: newSMSOperator(t)}
	c.pg = testenv.StartPostgres(t)
	c.rd = testenv.StartRedis(t, 0, "")
	dbURL := c.pg.CreateDatabase("gosid")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.URL = "http://" + ln.Addr().String()
	c.env = append(os.Environ(),
		"GOSID_DEV=true", "GOSID_LOG_LEVEL=warn", "GOSID_ISSUER="+c.URL, "GOSID_ADMIN_ADDR=off",
		"GOSID_DATABASE_URL="+dbURL, "GOSID_REDIS_URL="+c.rd.URL(), "GOSID_REDIS_PREFIX=faults:",
		"GOSID_MASTER_KEY="+base64.StdEncoding.EncodeToString(key), "GOSID_SMS_URL="+c.sms.URL,
		"GOSID_LOGIN_RATE_PER_IP=100000", "GOSID_JOB_RETRY_BASE=20ms", "GOSID_MIGRATE=false", "GOSID_CONFIG=", "GOSID_SHUTDOWN_DELAY=3s")
	c.env = append(c.env, extraEnv...)
	c.run("migrate")
	c.nodes = make([]*node, 3)
	for i := range c.nodes {
		c.nodes[i] = &node{i: i, port: testenv.FreePort(t)}
		c.nodes[i].URL = fmt.Sprintf("http://127.0.0.1:%d", c.nodes[i].port)
	}
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); c.start(n) }()
	}
	wg.Wait()
	for _, n := range c.nodes {
		c.waitReady(n)
	}
	lb := &httputil.ReverseProxy{Transport: balancer{c}, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "balanced"
		pr.Out.Host = pr.In.Host
	}}
	hs := httptest.NewUnstartedServer(lb)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.nodes {
				t.Logf("node %d log:\n%s", n.i, lastLines(n.logs.String(), 40))
			}
		}
	})
	return c
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// balancer sends each request to the next node; a node that refuses the
// connection (it is down) is skipped, as a load balancer's retry of a
// connection that never carried the request does.
type balancer struct{ c *cluster }

func (b balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	var last error
	for range b.c.nodes {
		n := b.c.nodes[int(b.c.next.Add(1))%len(b.c.nodes)]
		out := req.Clone(req.Context())
		out.URL.Host = fmt.Sprintf("127.0.0.1:%d", n.port)
		out.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := http.DefaultTransport.RoundTrip(out)
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			last = err
			continue
		}
		return resp, err
	}
	return nil, last
}

// run runs an operator command of the binary and returns its output.
func (c *cluster) run(args ...string) []byte {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("gosid %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// start starts node n's process (again).
func (c *cluster) start(n *node) {
	n.cmd = exec.Command(c.bin, "serve")
	n.cmd.Env = append(append([]string{}, c.env...), "GOSID_ADDR="+fmt.Sprintf("127.0.0.1:%d", n.port))
	if n.logs == nil {
		n.logs = &testenv.SyncBuffer{}
	}
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		c.t.Error(err)
		return
	}
	cmd := n.cmd
	c.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
}

// waitReady waits until n's readiness probe passes.
func (c *cluster) waitReady(n *node) {
	c.t.Helper()
	testenv.WaitReady(c.t, n.URL)
}

func (c *cluster) waitAllReady() {
	c.t.Helper()
	for _, n := range c.nodes {
		if n.cmd.ProcessState == nil {
			c.waitReady(n)
		}
	}
}

// kill kills n at once (SIGKILL), as a crash does.
func (c *cluster) kill(n *node) {
	c.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	_ = n.cmd.Wait()
}

// answer is a response with its body read.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a *answer) String() string {
	return fmt.Sprintf("%d Retry-After %q %s %.400s", a.Status, a.Header.Get("Retry-After"), a.Header.Get("Content-Type"), a.Body)
}

// request sends one request to base (the balancer or a node) with the
// clients' own timeout; a request that is not answered within it fails
// the test.
func (c *cluster) request(base, method, path string, hdr http.Header, body io.Reader) *answer {
	c.t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Timeout: clientTimeout}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: not answered: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return &answer{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// api calls the JSON API; token is a bearer token ("" for none).
func (c *cluster) api(base, method, path, token string, body any) *answer {
	c.t.Helper()
	hdr := http.Header{}
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
		hdr.Set("Content-Type", "application/json")
	}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	return c.request(base, method, path, hdr, r)
}

// form posts an OAuth form as a client (HTTP Basic).
func (c *cluster) form(base, path string, cl client, v url.Values) *answer {
	c.t.Helper()
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	req, _ := http.NewRequest(http.MethodPost, "/", nil)
	req.SetBasicAuth(url.QueryEscape(cl.ID), url.QueryEscape(cl.Secret))
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	return c.request(base, http.MethodPost, path, hdr, strings.NewReader(v.Encode()))
}

// client is a relying service registered with the operator command.
type client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

func (c *cluster) createClient(args ...string) client {
	c.t.Helper()
	var cl client
	out := c.run(append([]string{"clients", "create", "--json"}, args...)...)
	if err := json.Unmarshal(out, &cl); err != nil || cl.ID == "" {
		c.t.Fatalf("clients create: %v %s", err, out)
	}
	return cl
}

func (c *cluster) createAccount(phone, password string) {
	c.t.Helper()
	c.run("accounts", "create", "--phone", phone, "--password", password, "--family-name", "Иванова", "--given-name", "Мария")
}

// flow is the part of a self-service flow's JSON view the test reads.
type flow struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	FlowToken    string `json:"flow_token"`
	SessionToken string `json:"session_token"`
	Error        string `json:"error"`
	Errors       []struct {
		Field string `json:"field"`
		Code  string `json:"code"`
	} `json:"errors"`
}

func (f *flow) errCode() string {
	for _, e := range f.Errors {
		if e.Field == "" {
			return e.Code
		}
	}
	return ""
}

func decode[T any](t *testing.T, a *answer) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	return v
}

// startFlow starts a flow of kind on base.
func (c *cluster) startFlow(base, kind string) *flow {
	c.t.Helper()
	a := c.api(base, http.MethodPost, "/api/v1/flows/"+kind, "", nil)
	f := decode[flow](c.t, a)
	if a.Status != http.StatusCreated || f.FlowToken == "" {
		c.t.Fatalf("start %s on %s: %s", kind, base, a)
	}
	return f
}

func (c *cluster) submit(base, kind string, f *flow, body map[string]any) (*answer, *flow) {
	c.t.Helper()
	a := c.api(base, http.MethodPost, "/api/v1/flows/"+kind+"/"+f.ID, f.FlowToken, body)
	if a.Status >= 500 {
		return a, &flow{}
	}
	return a, decode[flow](c.t, a)
}

// signIn signs in over the API on base and returns the session token, or
// the error code of a refused sign-in.
func (c *cluster) signIn(base, login, password string) (session, code string) {
	c.t.Helper()
	f := c.startFlow(base, "login")
	a, v := c.submit(base, "login", f, map[string]any{"login": login, "password": password})
	if a.Status >= 500 {
		c.t.Fatalf("sign-in on %s: %s", base, a)
	}
	return v.SessionToken, v.errCode()
}

// smsOperator records the messages gosid's SMS gateway sends; hold makes
// it keep the requests for one recipient waiting until released.
type smsOperator struct {
	*httptest.Server
	mu       sync.Mutex
	texts    map[string][]string // by recipient (as sent)
	held     map[string]chan struct{}
	arrived  map[string]int
	released bool
}

func newSMSOperator(t *testing.T) *smsOperator {
	s := &smsOperator{texts: map[string][]string{}, held: map[string]chan struct{}{}, arrived: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Text string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		to := digits(m.To)
		s.mu.Lock()
		s.arrived[to]++
		gate := s.held[to]
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		s.texts[to] = append(s.texts[to], m.Text)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"accepted"}`))
	}))
	t.Cleanup(func() {
		s.releaseAll()
		s.Close()
	})
	return s
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// hold makes deliveries to phone wait until the returned func is called.
func (s *smsOperator) hold(phone string) (release func()) {
	g := make(chan struct{})
	s.mu.Lock()
	s.held[digits(phone)] = g
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.held[digits(phone)] == g {
			delete(s.held, digits(phone))
			close(g)
		}
		s.mu.Unlock()
	}
}

// releaseAll lets every held delivery go on.
func (s *smsOperator) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, g := range s.held {
		close(g)
		delete(s.held, k)
	}
}

// attempts is how many deliveries to phone reached the operator.
func (s *smsOperator) attempts(phone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arrived[digits(phone)]
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// code waits for the n-th message (1-based) to phone and returns its code.
func (s *smsOperator) code(t *testing.T, phone string, n int) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		s.mu.Lock()
		texts := s.texts[digits(phone)]
		s.mu.Unlock()
		if len(texts) >= n {
			if m := codeRE.FindString(texts[n-1]); m != "" {
				return m
			}
			t.Fatalf("no code in %q", texts[n-1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d to %s never delivered (%d so far)", n, phone, len(texts))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assertAPI503 checks the answer of an API during an outage: a JSON 503
// with Retry-After, RFC 6749's temporarily_unavailable.
func assertAPI503(t *testing.T, what string, a *answer) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	err := json.Unmarshal(a.Body, &e)
	if a.Status != http.StatusServiceUnavailable || a.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") || err != nil || e.Error != "temporarily_unavailable" {
		t.Errorf("%s: want a JSON 503 with Retry-After, got %s", what, a)
	}
}

// assertPage503 checks a hosted page during an outage: 503 with
// Retry-After, in the citizen's language.
func assertPage503(t *testing.T, what, lang string, a *answer) {
	t.Helper()
	title := map[string]string{"ru": "Сервис временно недоступен", "en": "The service is temporarily unavailable"}[lang]
	if a.Status != http.StatusServiceUnavailable || a.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") || a.Header.Get("Content-Language") != lang ||
		!bytes.Contains(a.Body, []byte(title)) {
		t.Errorf("%s: want a 503 page in %s with Retry-After, got %s", what, lang, a)
	}
}
