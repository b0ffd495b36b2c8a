package auth0_test

import (
	"context"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// BenchmarkRefresh is /refresh's provider step against the Auth0 mock over TLS: the
// refresh grant and the ID token check; the profile comes from the one-minute cache
// after the first round.
func BenchmarkRefresh(b *testing.B) {
	_, p, client, _ := setup(b, nil)
	res, err := providertest.VendorSignIn(b, p, client, scope)
	if err != nil {
		b.Fatal(err)
	}
	req := providers.RefreshRequest{Session: res.Session, Scope: scope}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Refresh(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
