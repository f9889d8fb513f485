package pii_test

import (
	"testing"

	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage/conformance"
)

func TestMemKeyStoreConformance(t *testing.T) {
	conformance.RunPIIKeyStore(t, func(*testing.T) pii.KeyStore { return pii.NewMemKeyStore() })
}
