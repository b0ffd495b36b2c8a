package azureeasyauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// BenchmarkAuthenticate is the hot path: a refresh whose tenant keys are cached (the
// signature, claim and client principal checks; no network).
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, nil)
	r := httptest.NewRequest(http.MethodGet, "/api/auth/azureEasyAuth/refresh", nil)
	for k, v := range e.headers(b, mockvendor.EasyAuthRequest{Login: "alice"}) {
		r.Header.Set(k, v)
	}
	if _, err := e.p.AuthenticateRequest(context.Background(), r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.p.AuthenticateRequest(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	if n := len(e.mock.RequestsTo(mockvendor.EntraKeysPath)); n != 1 {
		b.Fatalf("keys fetched %d times", n)
	}
}
