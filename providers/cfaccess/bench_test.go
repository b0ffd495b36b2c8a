package cfaccess

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// BenchmarkAuthenticateCached is the hot path: a refresh with a token whose keys and
// identity are cached (signature and claim checks, no network).
func BenchmarkAuthenticateCached(b *testing.B) {
	e := newEnv(b, baseConfig())
	tok, _ := e.mock.CFAccessToken(mockvendor.CFAccessTokenRequest{Login: "alice"})
	r := httptest.NewRequest(http.MethodGet, "/api/auth/cfaccess/refresh", nil)
	r.Header.Set("Cf-Access-Jwt-Assertion", tok)
	if _, err := e.p.AuthenticateRequest(context.Background(), r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.p.AuthenticateRequest(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	if n := len(e.mock.RequestsTo(mockvendor.CFAccessIdentityPath)); n != 1 {
		b.Fatalf("get-identity asked %d times", n)
	}
}
