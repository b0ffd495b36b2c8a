package authbackend

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/sessions"
)

// BenchmarkRefreshSessions is BenchmarkRefreshHandler without server-side sessions
// ("off", the cost before) and with them ("on": the refresh checks its session id
// against an in-memory revoked set holding 10,000 revoked sessions). The difference
// is the whole cost of revocation on the refresh path: no store call.
func BenchmarkRefreshSessions(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			store := sessions.NewMemoryStore()
			reg := sessions.New(sessions.Options{Store: store, Now: func() time.Time { return testNow }})
			h := newHarness(b, func(o *Options, _ *fakeProvider) {
				o.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
				if on {
					o.Sessions = reg
				}
			})
			ss := sealedSession{Session: []byte("session-1"), Scope: "openid profile email", IssuedAt: testNow.Unix()}
			if on {
				for i := range 10000 {
					id, err := reg.Begin(context.Background(), fmt.Sprintf("user:default/u%d", i), testProvider, testNow.Add(time.Hour))
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := reg.End(context.Background(), id, testNow.Add(time.Hour)); err != nil {
						b.Fatal(err)
					}
				}
				id, err := reg.Begin(context.Background(), "user:default/alice", testProvider, testNow.Add(time.Hour))
				if err != nil {
					b.Fatal(err)
				}
				ss.ID = id
			}
			sealed := h.sealedCookie(b, ss)
			handler := h.srv.Handler()
			newReq := func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/api/auth/spectrocloud/refresh?optional&scope=openid%20profile%20email&env=development", nil)
				r.Header.Set("X-Requested-With", "XMLHttpRequest")
				r.Header.Set("Cookie", "spectrocloud-refresh-token="+sealed)
				return r
			}
			h.prov.refreshes = nil
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, newReq())
					if rec.Code != http.StatusOK {
						b.Errorf("refresh: %d %s", rec.Code, rec.Body.String())
					}
				}
			})
		})
	}
}
