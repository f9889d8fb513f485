package app_test

import (
	"context"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
)

// TestClusterOfNodes runs three nodes on one PostgreSQL and one Redis behind
// a round-robin balancer: they start together without competing signing
// keys, and every step of a flow may be served by a different node. It runs
// on a single Redis and on the six-process Redis Cluster scripts/test
// starts, where the flow's keys spread over three primaries.
func TestClusterOfNodes(t *testing.T) {
	for _, backend := range []apptest.Backend{apptest.PostgresRedis, apptest.PostgresRedisCluster} {
		t.Run(string(backend), func(t *testing.T) { testClusterOfNodes(t, backend) })
	}
}

func testClusterOfNodes(t *testing.T, backend apptest.Backend) {
	cl := apptest.StartCluster(t, backend, 3)
	var wg sync.WaitGroup
	jwks := make([]string, 3)
	for i, node := range cl.Nodes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			jwks[i] = string(node.Keys.JWKS())
		}(i)
	}
	wg.Wait()
	if jwks[0] != jwks[1] || jwks[1] != jwks[2] {
		t.Fatalf("nodes publish different key sets:\n%s\n%s\n%s", jwks[0], jwks[1], jwks[2])
	}
	keys, err := cl.Stores.DB.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 { // ES256 and RS256, each one active and one next
		t.Fatalf("want 4 keys after concurrent first start, got %d", len(keys))
	}

	cl.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	secret := cl.CreateClient(t, c)
	r := newRP(t, cl.Env, c.ID, secret)
	b := cl.NewBrowser(t)
	tok, _ := r.login(t, b)
	for i := 0; i < 3; i++ {
		next, err := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		tok = next
	}
	for i := range cl.Hits {
		if cl.Hits[i].Load() == 0 {
			t.Fatalf("node %d served nothing; the balancer did not spread the flow", i)
		}
	}
}
