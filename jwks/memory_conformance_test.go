package jwks_test

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/jwks"
	"github.com/spectrocloud-labs/backstage-auth-go/jwks/keystoretest"
)

// The memory key store passes the same conformance suite as the database stores.
func TestMemoryKeyStoreConformance(t *testing.T) {
	newStore := func(t *testing.T) jwks.KeyStore { return jwks.NewMemoryKeyStore() }
	keystoretest.Run(t, newStore)
	keystoretest.RunConcurrency(t, newStore)
}
