package sqlstore

// Benchmarks of the hot paths on both dialects. They measure; they never
// assert a time. Run with:
//
//	go test ./storage/sqlstore/ -run '^$' -bench . -benchtime 2s

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/grants"
)

func forEachDialectB(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) { fn(b, d.open(b)) })
	}
}

func BenchmarkGetClient(b *testing.B) {
	forEachDialectB(b, func(b *testing.B, s *Store) {
		now := time.Now()
		c := &clients.Client{ID: "bench", Name: "bench", RedirectURIs: []string{"https://a.example/cb"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid", "profile"},
			TokenEndpointAuthMethod: clients.AuthSecretBasic, SecretHash: make([]byte, 32), CreatedAt: now, UpdatedAt: now}
		if err := s.CreateClient(b.Context(), c); err != nil {
			b.Fatal(err)
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.GetClient(b.Context(), "bench"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkKVGet(b *testing.B) {
	forEachDialectB(b, func(b *testing.B, s *Store) {
		if err := s.Put(b.Context(), "bench", make([]byte, 256), time.Hour); err != nil {
			b.Fatal(err)
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Get(b.Context(), "bench"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkKVPutTake is the life of an authorization code: stored once,
// redeemed once.
func BenchmarkKVPutTake(b *testing.B) {
	forEachDialectB(b, func(b *testing.B, s *Store) {
		var n atomic.Int64
		val := make([]byte, 512)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				key := fmt.Sprint("code:", n.Add(1))
				if err := s.Put(b.Context(), key, val, time.Minute); err != nil {
					b.Error(err)
					return
				}
				if _, err := s.Take(b.Context(), key); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkKVIncr is a rate-limit counter hit from every goroutine.
func BenchmarkKVIncr(b *testing.B) {
	forEachDialectB(b, func(b *testing.B, s *Store) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Incr(b.Context(), "rate", time.Hour); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRefreshRotation is one refresh: a new token stored, the old one
// used.
func BenchmarkRefreshRotation(b *testing.B) {
	forEachDialectB(b, func(b *testing.B, s *Store) {
		var n atomic.Int64
		req := make([]byte, 1024)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				now := time.Now()
				sig := fmt.Sprint("sig-", n.Add(1))
				t := &grants.RefreshToken{Signature: sig, RequestID: sig, ClientID: "c", Subject: "a", Request: req,
					CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := s.CreateRefreshToken(b.Context(), t); err != nil {
					b.Error(err)
					return
				}
				if err := s.UseRefreshToken(b.Context(), sig, now, now.Add(-10*time.Second)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkAppendEvent(b *testing.B) {
	forEachDialectB(b, func(b *testing.B, s *Store) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e := &audit.Event{AccountID: "a1", Type: "login.success", IP: "127.0.0.1",
					Data: map[string]string{"method": "password"}, At: time.Now()}
				if err := s.AppendEvent(b.Context(), e); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
