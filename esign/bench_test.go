package esign_test

import (
	"context"
	"testing"

	"github.com/gosid/gosid/esign/esigntest"
)

// BenchmarkVerifyDetached is one full check of a detached CMS signature per
// algorithm: the signature, the chain, validity, key usage and the CRL
// (cached, as in steady state).
func BenchmarkVerifyDetached(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			a := newAuthority(b, alg, "Bench CA")
			c := a.checker()
			msg := []byte("challenge")
			sig := a.issue(esigntest.Ivanov()).SignDetached(b, msg)
			ctx := context.Background()
			if _, err := c.VerifyDetached(ctx, sig, msg); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.VerifyDetached(ctx, sig, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRaw is one raw signature check per algorithm (the key
// only, no certificate checks): the cost for a signed client_secret.
func BenchmarkVerifyRaw(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			a := newAuthority(b, alg, "Bench CA")
			cit := a.issue(esigntest.Ivanov())
			msg := []byte("challenge")
			sig := cit.SignRaw(b, msg)
			v := a.checker().Verifiers
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, x := range v {
					if x.Supports(cit.Cert) {
						if err := x.Raw(ctx, cit.Cert, msg, sig); err != nil {
							b.Fatal(err)
						}
						break
					}
				}
			}
		})
	}
}
