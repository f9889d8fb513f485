package keys

import (
	"context"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"
)

// benchClaims are the claims of a typical gosid access token.
var benchClaims = map[string]any{
	"iss": testIssuer, "sub": "8f14e45f-ceea-467f-a8d2-3b5c1e2f9a01", "aud": []string{"client-1"},
	"client_id": "client-1", "scope": "openid profile", "jti": "b7f1c3d2-9a8e-4f6b-8c1d-2e3f4a5b6c7d",
	"gid": "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f", "iat": 1767225600, "exp": 1767229200,
}

func benchManager(b *testing.B, alg string) *Manager {
	b.Helper()
	return initManager(b, &memStore{}, testOptions(newTestClock(), alg))
}

func benchSign(b *testing.B, alg string) {
	m := benchManager(b, alg)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Sign(ctx, alg, benchClaims, "at+jwt"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSignES256(b *testing.B) { benchSign(b, ES256) }
func BenchmarkSignRS256(b *testing.B) { benchSign(b, RS256) }

func BenchmarkVerifyES256(b *testing.B) {
	m := benchManager(b, ES256)
	tok, err := m.Sign(context.Background(), ES256, benchClaims, "at+jwt")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := m.Verify(tok, ES256); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFositeGenerateES256 and BenchmarkFositeDecodeES256 measure the
// path fosite takes for JWT access tokens.
func BenchmarkFositeGenerateES256(b *testing.B) {
	s := benchManager(b, ES256).FositeSigner(ES256)
	ctx := context.Background()
	hdr := &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Generate(ctx, jwt.MapClaims(benchClaims), hdr); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFositeDecodeES256(b *testing.B) {
	s := benchManager(b, ES256).FositeSigner(ES256)
	ctx := context.Background()
	claims := jwt.MapClaims{"sub": "x", "exp": time.Now().Add(24 * time.Hour).Unix()}
	tok, _, err := s.Generate(ctx, claims, &jwt.Headers{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Decode(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJWKS(b *testing.B) {
	m := initManager(b, &memStore{}, testOptions(newTestClock())) // ES256 and RS256, two keys each
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if len(m.JWKS()) == 0 || m.JWKSETag() == "" {
				b.Fatal("empty JWKS")
			}
		}
	})
}
