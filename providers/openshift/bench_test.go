package openshift_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/openshift"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// BenchmarkRefresh is /refresh's provider step against the OpenShift mock: the sealed
// access token re-checked at users/~ (no token request).
func BenchmarkRefresh(b *testing.B) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.OpenShift})
	base := m.Start(b)
	cfg, ps := openshift.Module.Parse(config.SectionFromMap(envFor(base)))
	if err := ps.Err(); err != nil {
		b.Fatal(err)
	}
	p, err := cfg.Build(providers.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	res, err := providertest.VendorSignIn(b, p.(providers.OAuthProvider), http.DefaultClient, "user:full")
	if err != nil {
		b.Fatal(err)
	}
	req := providers.RefreshRequest{Session: res.Session, Scope: "user:full"}
	r := p.(providers.Refresher)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Refresh(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
