package microsoft_test

import (
	"context"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// BenchmarkRefresh is /refresh's provider step against the Entra ID and Graph mock over
// TLS: the refresh grant (rotated refresh token, ID token verified), then Graph's /me
// and the photo, asked at the same time.
func BenchmarkRefresh(b *testing.B) {
	e := newEnv(b)
	p := e.provider(b, nil)
	sess := e.signIn(b, p, signInScope).Session
	b.ReportAllocs()
	for b.Loop() {
		r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: sess, Scope: signInScope})
		if err != nil {
			b.Fatal(err)
		}
		sess = r.Session
	}
}
