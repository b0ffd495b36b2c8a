package pinniped_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// BenchmarkRefresh is /refresh's provider step against the Supervisor mock for a
// session with an audience: the refresh grant (ES256 ID token verified) and the
// cluster token exchange (verified).
func BenchmarkRefresh(b *testing.B) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped})
	issuer := m.Start(b) + mockvendor.PinnipedIssuerPath
	p := build(b, envFor(issuer))
	res, err := signIn(b, p, url.Values{"audience": {"cluster-a"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	session := res.Session
	b.ReportAllocs()
	for b.Loop() {
		// The Supervisor rotates refresh tokens: each refresh uses the last session.
		rr, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: session, Scope: "openid"})
		if err != nil {
			b.Fatal(err)
		}
		if rr.Session != nil {
			session = rr.Session
		}
	}
}
