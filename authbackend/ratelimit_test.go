package authbackend

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/fakeclock"
)

func limitedHarness(t *testing.T, mod func(*config.Config)) (*harness, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New()
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Now = clk.Now
		o.Config.RateLimit = config.OwnRateLimitConfig{Enabled: true, Window: time.Minute, Limit: 3, UserInfoLimit: 2}
		if mod != nil {
			mod(o.Config)
		}
	})
	return h, clk
}

// from sends r from the given client address.
func (h *harness) from(addr string, r req, extra http.Header) *httptest.ResponseRecorder {
	h.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, r.target, nil)
	hr.RemoteAddr = addr
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	for k, vs := range extra {
		hr.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, hr)
	return rec
}

const refreshTarget = "/api/auth/spectrocloud/refresh?env=development"

func TestOwnRateLimitOnSignInRoutes(t *testing.T) {
	h, clk := limitedHarness(t, nil)
	client := "203.0.113.7:5000"
	// Refreshes without a cookie fail (401) and still count; /start counts too.
	for i := 0; i < 2; i++ {
		if rec := h.from(client, req{target: refreshTarget, headers: xrw}, nil); rec.Code != http.StatusUnauthorized {
			t.Fatalf("refresh %d: %d", i, rec.Code)
		}
	}
	rec := h.from(client, req{target: "/api/auth/spectrocloud/start?env=development"}, nil)
	if rec.Code != http.StatusFound || rec.Header().Get("X-RateLimit-Remaining") != "0" || rec.Header().Get("X-RateLimit-Limit") != "3" {
		t.Fatalf("start: %d %v", rec.Code, rec.Header())
	}
	rec = h.from(client, req{target: refreshTarget, headers: xrw}, nil)
	if rec.Code != http.StatusTooManyRequests || rec.Body.String() != rateLimitBody || rec.Header().Get("Retry-After") != "60" ||
		rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("over the limit: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	// Logout, JWKS and the other routes are not limited by it; another client is not.
	if rec := h.from(client, req{target: "/api/auth/.well-known/jwks.json"}, nil); rec.Code != 200 {
		t.Errorf("jwks limited: %d", rec.Code)
	}
	if rec := h.from("198.51.100.1:1", req{target: refreshTarget, headers: xrw}, nil); rec.Code == http.StatusTooManyRequests {
		t.Error("another client was limited")
	}
	// One log line per client per minute, however many refusals.
	h.from(client, req{target: refreshTarget, headers: xrw}, nil)
	if n := strings.Count(h.logs.String(), "rate limit exceeded"); n != 1 {
		t.Errorf("%d log lines for one client within a minute", n)
	}
	clk.Advance(61 * time.Second)
	if rec := h.from(client, req{target: refreshTarget, headers: xrw}, nil); rec.Code == http.StatusTooManyRequests {
		t.Error("still limited after the window")
	}
}

func TestRateLimitClientAddress(t *testing.T) {
	xff := http.Header{"X-Forwarded-For": {"203.0.113.9, 10.0.0.1"}}
	// Without trustProxy, X-Forwarded-For is ignored: everyone behind the proxy is one client.
	h, _ := limitedHarness(t, nil)
	for i := 0; i < 3; i++ {
		h.from("10.0.0.1:1", req{target: refreshTarget, headers: xrw}, http.Header{"X-Forwarded-For": {"203.0.113." + strconv.Itoa(i)}})
	}
	if rec := h.from("10.0.0.1:1", req{target: refreshTarget, headers: xrw}, xff); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For escaped the limit: %d", rec.Code)
	}
	// With trustProxy the leftmost address is the client.
	h, _ = limitedHarness(t, func(c *config.Config) { c.Backend.TrustProxy = true })
	for i := 0; i < 3; i++ {
		h.from("10.0.0.1:1", req{target: refreshTarget, headers: xrw}, xff)
	}
	if rec := h.from("10.0.0.1:1", req{target: refreshTarget, headers: xrw}, xff); rec.Code != http.StatusTooManyRequests {
		t.Errorf("client from X-Forwarded-For not limited: %d", rec.Code)
	}
	if rec := h.from("10.0.0.1:1", req{target: refreshTarget, headers: xrw}, http.Header{"X-Forwarded-For": {"203.0.113.10"}}); rec.Code == http.StatusTooManyRequests {
		t.Error("another forwarded client was limited")
	}
	// IPv6 clients are grouped by /56; loopback is allow-listed by default.
	h, _ = limitedHarness(t, func(c *config.Config) { c.RateLimit.IPAllowList = []string{"127.0.0.1", "::1"} })
	for i := 0; i < 3; i++ {
		h.from("[2001:db8:1:ff00::"+strconv.Itoa(i+1)+"]:1", req{target: refreshTarget, headers: xrw}, nil)
	}
	if rec := h.from("[2001:db8:1:ffaa::9]:1", req{target: refreshTarget, headers: xrw}, nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("same /56 not limited: %d", rec.Code)
	}
	for i := 0; i < 10; i++ {
		if rec := h.from("127.0.0.1:1", req{target: refreshTarget, headers: xrw}, nil); rec.Code == http.StatusTooManyRequests {
			t.Fatal("an allow-listed client was limited")
		}
	}
}

// Backstage's backend.rateLimit covers every route; .plugin.auth only /api/auth.
func TestBackstageRateLimits(t *testing.T) {
	h, _ := limitedHarness(t, func(c *config.Config) {
		c.RateLimit.Enabled = false
		c.Backend.RateLimit = &config.RateLimitConfig{Window: time.Minute, Limit: 2, SkipSuccessfulRequests: true}
	})
	client := "203.0.113.7:5000"
	for i := 0; i < 5; i++ { // successes are not counted
		if rec := h.from(client, req{target: "/.backstage/health/v1/liveness"}, nil); rec.Code != 200 {
			t.Fatalf("liveness %d: %d", i, rec.Code)
		}
	}
	for i := 0; i < 2; i++ {
		h.from(client, req{target: "/api/auth/nope"}, nil)
	}
	if rec := h.from(client, req{target: "/.backstage/health/v1/liveness"}, nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("global limit not applied to health routes: %d", rec.Code)
	}
	h, _ = limitedHarness(t, func(c *config.Config) {
		c.RateLimit.Enabled = false
		c.Backend.PluginRateLimit = &config.RateLimitConfig{Window: time.Minute, Limit: 1}
	})
	h.from(client, req{target: "/api/auth/.well-known/jwks.json"}, nil)
	if rec := h.from(client, req{target: "/api/auth/.well-known/jwks.json"}, nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("plugin limit not applied: %d", rec.Code)
	}
	if rec := h.from(client, req{target: "/.backstage/health/v1/liveness"}, nil); rec.Code != 200 {
		t.Errorf("plugin limit applied outside /api/auth: %d", rec.Code)
	}
}

type cachingUserInfo struct {
	fakeUserInfo
	cached map[string]bool
}

func (c cachingUserInfo) HasCachedUserInfo(sub string) bool { return c.cached[sub] }

// Userinfo requests answered from memory are free; database reads and failed
// verifications count.
func TestUserInfoRateLimit(t *testing.T) {
	h, _ := limitedHarness(t, nil)
	ui := cachingUserInfo{fakeUserInfo: fakeUserInfo{"user:default/alice": json.RawMessage(aliceUserInfo)}, cached: map[string]bool{"user:default/alice": true}}
	h.opts.UserInfo = ui
	srv, err := New(h.opts)
	if err != nil {
		t.Fatal(err)
	}
	h.handler = srv.Handler()
	client := "203.0.113.7:5000"
	auth := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	for i := 0; i < 10; i++ {
		if rec := h.from(client, req{target: "/api/auth/v1/userinfo", headers: auth("alice-token")}, nil); rec.Code != 200 {
			t.Fatalf("cached userinfo %d: %d", i, rec.Code)
		}
	}
	h.from(client, req{target: "/api/auth/v1/userinfo", headers: auth("bob-token")}, nil) // not cached: a read
	h.from(client, req{target: "/api/auth/v1/userinfo", headers: auth("garbage")}, nil)   // failed verification
	if rec := h.from(client, req{target: "/api/auth/v1/userinfo", headers: auth("bob-token")}, nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("userinfo misses not limited: %d", rec.Code)
	}
	if rec := h.from(client, req{target: "/api/auth/v1/userinfo", headers: auth("alice-token")}, nil); rec.Code != 200 {
		t.Errorf("a cached answer was limited: %d", rec.Code)
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	clk := fakeclock.New()
	l := newLimiter("x", config.RateLimitConfig{Window: time.Minute, Limit: 1}, clk.Now, nil)
	for i := 0; i < 3*maxLimiterKeys; i++ {
		l.take("k" + strconv.Itoa(i))
	}
	n := 0
	for i := range l.shards {
		n += len(l.shards[i].windows)
	}
	if n > maxLimiterKeys {
		t.Fatalf("%d windows kept, bound %d", n, maxLimiterKeys)
	}
}
