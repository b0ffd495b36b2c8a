package authbackend

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// quietHarness is a harness that logs nothing (logging is not what we measure).
func quietHarness(b *testing.B) *harness {
	return newHarness(b, func(o *Options, _ *fakeProvider) {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
}

// BenchmarkRefreshHandler measures GET /<p>/refresh end to end in-process: cookie
// parsing and opening, a provider refresh without network, the resolver, an ES256
// token signature and JSON encoding.
func BenchmarkRefreshHandler(b *testing.B) {
	h := quietHarness(b)
	sealed := h.sealedCookie(b, sealedSession{Session: []byte("session-1"), Scope: "openid profile email", IssuedAt: testNow.Unix()})
	handler := h.srv.Handler()
	newReq := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/auth/spectrocloud/refresh?optional&scope=openid%20profile%20email&env=development", nil)
		r.Header.Set("X-Requested-With", "XMLHttpRequest")
		r.Header.Set("Cookie", "spectrocloud-refresh-token="+sealed)
		return r
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, newReq())
	if rec.Code != http.StatusOK {
		b.Fatalf("refresh: %d %s", rec.Code, rec.Body.String())
	}
	h.prov.refreshes = nil
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, newReq())
			if rec.Code != http.StatusOK {
				b.Errorf("refresh: %d", rec.Code)
			}
		}
	})
}

// BenchmarkUserInfoHandler measures GET /v1/userinfo with a verified user token and a
// stored row (both fakes: this is the HTTP layer's cost).
func BenchmarkUserInfoHandler(b *testing.B) {
	h := quietHarness(b)
	handler := h.srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, "/api/auth/v1/userinfo", nil)
			r.Header.Set("Authorization", "Bearer alice-token")
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Errorf("userinfo: %d", rec.Code)
			}
		}
	})
}
