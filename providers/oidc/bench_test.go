package oidc_test

import (
	"context"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// BenchmarkRefreshWithGrant is one refresh through the token endpoint (the path whose
// errors are observed by a per-call transport): redeem and rotate the refresh token,
// verify the new ID token, fetch userinfo.
func BenchmarkRefreshWithGrant(b *testing.B) {
	idp := mockpalette.New(mockpalette.Options{RefreshGrant: true})
	p := newOIDC(b, clientConfig(idp.Start(b)))
	res, _, err := providertest.Flow{T: b, IdP: idp, Provider: p}.SignIn()
	if err != nil {
		b.Fatal(err)
	}
	session := res.Session
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: session})
		if err != nil {
			b.Fatal(err)
		}
		session = r.Session
	}
}
