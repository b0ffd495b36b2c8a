package authbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// recordingMetrics is a Metrics that remembers every call.
type recordingMetrics struct {
	mu    sync.Mutex
	calls []string
}

func (m *recordingMetrics) add(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, s)
}

func (m *recordingMetrics) SignIn(p, o string)  { m.add("sign_in " + p + " " + o) }
func (m *recordingMetrics) Refresh(p, o string) { m.add("refresh " + p + " " + o) }
func (m *recordingMetrics) RateLimited(l string) {
	m.add("rate_limited " + l)
}

func (m *recordingMetrics) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls
	m.calls = nil
	return c
}

// auditLog collects the JSON records an audit.Logger writes.
type auditLog struct {
	lockedWriter
	buf bytes.Buffer
}

func newAuditLog() *auditLog {
	a := &auditLog{}
	a.w = &a.buf
	return a
}

// take returns the audit records written since the last take.
func (a *auditLog) take(t *testing.T) []map[string]any {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(a.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, m)
	}
	a.buf.Reset()
	return out
}

func observedHarness(t *testing.T, mods ...harnessOption) (*harness, *recordingMetrics, *auditLog) {
	m := &recordingMetrics{}
	log := newAuditLog()
	mods = append([]harnessOption{func(o *Options, _ *fakeProvider) {
		o.Metrics = m
		o.Auditor = audit.NewLogger(slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	}}, mods...)
	return newHarness(t, mods...), m, log
}

func checkCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("metrics calls = %q, want %q", got, want)
	}
}

// checkRecord compares the fields of one audit record given as dotted paths.
func checkRecord(t *testing.T, recs []map[string]any, want map[string]any) {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("audit records = %v, want one", recs)
	}
	for path, w := range want {
		if got := dig(recs[0], strings.Split(path, ".")...); got != w {
			t.Errorf("audit %s = %v, want %v (record %v)", path, got, w, recs[0])
		}
	}
}

func dig(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

func TestSignInOutcomesAreCountedAndAudited(t *testing.T) {
	notFound := resolverFunc(func(context.Context, resolvers.SignInInfo) (resolvers.Identity, error) {
		return resolvers.Identity{}, backstageerr.NotFound("Failed to sign-in, unable to resolve user identity. Tried: email=alice@example.com")
	})
	refused := resolverFunc(func(context.Context, resolvers.SignInInfo) (resolvers.Identity, error) {
		return resolvers.Identity{}, backstageerr.NotAllowed("Sign-in is not allowed for this user")
	})
	for _, tc := range []struct {
		name     string
		resolver resolvers.Resolver
		callback func(state string) string
		outcome  string
		status   string
		actor    any
		reason   any
	}{
		{name: "success", outcome: "success", status: "succeeded", actor: "user:default/alice"},
		{name: "IdP refuses the code", callback: func(st string) string { return "code=bad-code&state=" + st },
			outcome: "idp_error", status: "failed", reason: "Error: No code received from SpectroCloud"},
		{name: "user declined consent", callback: func(st string) string { return "error=access_denied&state=" + st },
			outcome: "denied", status: "failed"},
		{name: "user not in the catalog", resolver: notFound, outcome: "user_not_found", status: "failed",
			reason: "NotFoundError: Failed to sign-in, unable to resolve user identity. Tried: email=alice@example.com"},
		{name: "no resolver of the chain finds the user", resolver: resolvers.NewChain(resolvers.NamedResolver{Name: "r", Resolver: notFound}),
			outcome: "user_not_found", status: "failed"},
		{name: "resolver refuses", resolver: refused, outcome: "denied", status: "failed", reason: "NotAllowedError: Sign-in is not allowed for this user"},
		{name: "tampered state", callback: func(st string) string { return "code=good-code&state=" + st + "00" },
			outcome: "invalid_request", status: "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, m, log := observedHarness(t, func(o *Options, _ *fakeProvider) {
				if tc.resolver != nil {
					devEnv(o).Resolver = tc.resolver
				}
			})
			start := h.do(req{target: "/api/auth/spectrocloud/start?env=development&origin=http://localhost:3000"})
			loc, _ := url.Parse(start.Header().Get("Location"))
			state := loc.Query().Get("state")
			jar, _ := setCookies(start)
			q := "code=good-code&state=" + state
			if tc.callback != nil {
				q = tc.callback(state)
			}
			h.do(req{target: "/api/auth/spectrocloud/handler/frame?" + q, cookies: map[string]string{"spectrocloud-nonce": jar["spectrocloud-nonce"]},
				headers: map[string]string{"User-Agent": "test-agent"}})
			checkCalls(t, m.take(), "sign_in spectrocloud "+tc.outcome)
			want := map[string]any{"msg": "auth.sign-in", "isAuditEvent": true, "plugin": "auth", "eventId": "sign-in",
				"severityLevel": "medium", "status": tc.status, "meta.provider": "spectrocloud", "meta.outcome": tc.outcome,
				"actor.actorId": tc.actor, "actor.ip": "192.0.2.1", "actor.userAgent": "test-agent",
				"request.url": "/api/auth/spectrocloud/handler/frame", "request.method": "GET"}
			if tc.reason != nil {
				want["meta.reason"] = tc.reason
			}
			recs := log.take(t)
			checkRecord(t, recs, want)
			line, _ := json.Marshal(recs)
			for _, secret := range []string{"good-code", state, "session-1", "id-token-1", "access-token-1", testSecret, jar["spectrocloud-nonce"]} {
				if strings.Contains(string(line), secret) {
					t.Errorf("audit record holds %q: %s", secret, line)
				}
			}
		})
	}
}

func TestRefreshAndLogoutAreCountedAndAudited(t *testing.T) {
	h, m, log := observedHarness(t)
	set, _ := h.signIn(t, "env=development")
	m.take()
	log.take(t)
	cookie := map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}

	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: cookie})
	if rec.Code != 200 {
		t.Fatal(rec.Body.String())
	}
	checkCalls(t, m.take(), "refresh spectrocloud success")
	if recs := log.take(t); len(recs) != 0 {
		t.Errorf("a successful refresh is audited: %v", recs)
	}

	// No cookie: a signed-out frontend probing; low severity (debug here).
	h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw})
	checkCalls(t, m.take(), "refresh spectrocloud no_session")
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.refresh", "status": "failed", "meta.outcome": "no_session",
		"severityLevel": "low", "level": "DEBUG", "meta.reason": "InputError: Missing session cookie"})

	h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: map[string]string{"spectrocloud-refresh-token": "forged"}})
	checkCalls(t, m.take(), "refresh spectrocloud invalid_session")
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.refresh", "status": "failed", "meta.outcome": "invalid_session",
		"severityLevel": "medium", "meta.reason": "AuthenticationError: Invalid session cookie, please sign in again"})

	h.prov.refreshErr = backstageerr.ServiceUnavailable("SpectroCloud did not answer")
	h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: cookie})
	checkCalls(t, m.take(), "refresh spectrocloud idp_error")
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.refresh", "status": "failed", "meta.outcome": "idp_error"})

	outage := backstageerr.Wrap(backstageerr.NameServiceUnavailable, nil, "The identity provider is unavailable, please try again later")
	outage.Cause = outageErr{after: time.Second}
	h.prov.refreshErr = outage
	if rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: cookie}); rec.Code != 503 {
		t.Fatalf("refresh during an IdP outage: %d", rec.Code)
	}
	checkCalls(t, m.take(), "refresh spectrocloud idp_unavailable")
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.refresh", "status": "failed", "meta.outcome": "idp_unavailable"})

	h.do(req{method: "POST", target: "/api/auth/spectrocloud/logout?env=development", headers: xrw, cookies: cookie})
	checkCalls(t, m.take())
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.logout", "status": "succeeded", "meta.outcome": "success", "meta.provider": "spectrocloud"})
}

func TestRateLimitRefusalsAreCountedAndAuditedOncePerMinute(t *testing.T) {
	h, m, log := observedHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.RateLimit = config.OwnRateLimitConfig{Enabled: true, Limit: 1, UserInfoLimit: 1}
	})
	for range 3 {
		h.from("203.0.113.9:1234", req{target: "/api/auth/spectrocloud/start?env=development"}, nil)
	}
	checkCalls(t, m.take(), "rate_limited authbackend.rateLimit", "rate_limited authbackend.rateLimit")
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.rate-limit", "status": "failed", "actor.ip": "203.0.113.9",
		"meta.limit": "authbackend.rateLimit", "meta.outcome": "rate_limited"})
}

func TestProxySignInSuccessIsLowSeverity(t *testing.T) {
	log := newAuditLog()
	h := newHarness(t, withGuest(t, true, map[string]any{}, nil), func(o *Options, _ *fakeProvider) {
		o.Auditor = audit.NewLogger(slog.New(slog.NewJSONHandler(log, nil)), nil) // info: low is not written
	})
	if rec := h.do(req{target: "/api/auth/guest/refresh"}); rec.Code != 200 {
		t.Fatal(rec.Body.String())
	}
	if recs := log.take(t); len(recs) != 0 {
		t.Errorf("low-severity sign-in written at info: %v", recs)
	}
}

func TestDrainMakesReadinessUnavailable(t *testing.T) {
	h := newHarness(t)
	if rec := h.do(req{target: "/.backstage/health/v1/readiness"}); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	h.srv.Drain()
	rec := h.do(req{target: "/.backstage/health/v1/readiness"})
	checkError(t, rec, 503, "ServiceUnavailableError", "Service is not ready: shutting down")
	if rec := h.do(req{target: "/.backstage/health/v1/liveness"}); rec.Code != 200 {
		t.Errorf("liveness while draining = %d", rec.Code)
	}
	if rec := h.do(req{target: "/api/auth/.well-known/jwks.json"}); rec.Code != 200 {
		t.Errorf("jwks while draining = %d", rec.Code)
	}
}

// The hooks the session store calls when it ends sessions.
func TestSessionRevocationAudit(t *testing.T) {
	h, _, log := observedHarness(t)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/api/auth/v1/sessions/revoke?token=SECRET", nil)
	h.srv.AuditSessionRevoked(c, "user:default/alice", "spectrocloud", "logout")
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.session-revoke", "severityLevel": "high", "status": "succeeded",
		"actor.actorId": "user:default/alice", "meta.provider": "spectrocloud", "meta.reason": "logout",
		"request.url": "/api/auth/v1/sessions/revoke"})
	h.srv.AuditSessionsRevoked(c, "plugin:catalog", "user:default/alice", 3, nil)
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.offline-sessions-revoke", "severityLevel": "high", "status": "succeeded",
		"actor.actorId": "plugin:catalog", "meta.userEntityRef": "user:default/alice", "meta.revokedCount": float64(3)})
	h.srv.AuditSessionsRevoked(c, "plugin:catalog", "user:default/bob", 0, backstageerr.ServiceUnavailable("database down"))
	checkRecord(t, log.take(t), map[string]any{"msg": "auth.offline-sessions-revoke", "status": "failed",
		"meta.reason": "ServiceUnavailableError: database down", "meta.revokedCount": nil})
}
