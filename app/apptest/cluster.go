package apptest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gosid/gosid/app"
)

// Cluster is several gosid nodes on one database and one Redis behind a
// round-robin load balancer, as production runs them. Every request may
// land on a different node.
type Cluster struct {
	*Env
	Nodes []*app.Server
	// Hits counts requests per node.
	Hits []atomic.Int64
}

// StartCluster starts n nodes concurrently (so that they race to create
// signing keys on first use) behind a balancer whose address is the issuer.
func StartCluster(t testing.TB, backend Backend, n int) *Cluster {
	t.Helper()
	cfg := NewConfig(t, backend)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.Addr = ln.Addr().String()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{Nodes: make([]*app.Server, n), Hits: make([]atomic.Int64, n)}
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*app.Stores, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st, err := app.Open(ctx, cfg, log, true)
			if err != nil {
				errs[i] = err
				return
			}
			stores[i] = st
			c.Nodes[i], errs[i] = app.NewServer(ctx, st)
		}(i)
	}
	wg.Wait()
	t.Cleanup(func() {
		cancel()
		for _, st := range stores {
			if st != nil {
				st.Close()
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("start node: %v", err)
		}
	}
	backends := make([]*httptest.Server, n)
	for i, node := range c.Nodes {
		stop, err := node.Start(ctx)
		if err != nil {
			t.Fatalf("start node %d: %v", i, err)
		}
		t.Cleanup(stop)
		backends[i] = httptest.NewServer(node.Handler)
		t.Cleanup(backends[i].Close)
	}
	var next atomic.Int64
	lb := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		i := int(next.Add(1)) % n
		c.Hits[i].Add(1)
		u, _ := url.Parse(backends[i].URL)
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host
	}}
	hs := httptest.NewUnstartedServer(lb)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	c.Env = &Env{URL: cfg.Issuer, Config: cfg, Stores: stores[0], Server: c.Nodes[0], HTTP: hs, ctx: ctx, cancel: func() {}}
	return c
}
