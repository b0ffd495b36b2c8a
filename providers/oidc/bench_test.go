package oidc_test

import (
	"context"
	"net/http"
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

// BenchmarkRefreshReverify is one refresh of a session without a refresh token
// (Palette): the sealed ID token is re-verified, from the per-key-set cache after the
// first call.
func BenchmarkRefreshReverify(b *testing.B) {
	idp := mockpalette.New(mockpalette.Options{})
	p := newOIDC(b, clientConfig(idp.Start(b)))
	res, _, err := providertest.Flow{T: b, IdP: idp, Provider: p}.SignIn()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshGrantWithoutIDToken is one refresh through a token endpoint that
// answers without a new ID token, so the identity is the previous ID token's.
func BenchmarkRefreshGrantWithoutIDToken(b *testing.B) {
	idp := newFaultyIdP(b)
	p := idp.provider(b, 0, nil)
	res, err := idp.signIn(context.Background(), p)
	if err != nil {
		b.Fatal(err)
	}
	idp.set(func(f *faultyIdP) {
		f.token = answer(http.StatusOK, "application/json", `{"access_token":"at-2","token_type":"Bearer","expires_in":3600}`)
	})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); err != nil {
			b.Fatal(err)
		}
	}
}
