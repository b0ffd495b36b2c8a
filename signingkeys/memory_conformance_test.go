package signingkeys_test

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys/keystoretest"
)

// The memory key store passes the same conformance suite as the database stores.
func TestMemoryKeyStoreConformance(t *testing.T) {
	newStore := func(t *testing.T) signingkeys.KeyStore { return signingkeys.NewMemoryKeyStore() }
	keystoretest.Run(t, newStore)
	keystoretest.RunConcurrency(t, newStore)
}
