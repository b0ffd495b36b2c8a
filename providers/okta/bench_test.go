package okta_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// BenchmarkRefresh is /refresh's provider step against the Okta mock on loopback: the
// refresh grant, the ID token verified with the cached keys, and userinfo.
func BenchmarkRefresh(b *testing.B) {
	_, p, _ := setup(b, nil)
	res, err := providertest.VendorSignIn(b, p, http.DefaultClient, scope)
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
