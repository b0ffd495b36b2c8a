package metrics

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("scrape lacks %q", l)
		}
	}
}

func testEngine(m *Metrics) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	if m != nil {
		e.Use(m.Middleware())
	}
	e.GET("/users/:name", func(c *gin.Context) { c.String(200, "hi") })
	e.POST("/fail", func(c *gin.Context) { c.Status(503) })
	e.NoRoute(func(c *gin.Context) { c.Status(404) })
	return e
}

func TestRequestsAreLabelledByRouteTemplateNotPath(t *testing.T) {
	m := New(BuildInfo{Version: "v1.2.3", Revision: "abc"})
	e := testEngine(m)
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/users/alice", nil),
		httptest.NewRequest("GET", "/users/bob", nil),
		httptest.NewRequest("POST", "/fail", nil),
		httptest.NewRequest("GET", "/secret-path-123", nil),
		httptest.NewRequest("BREW", "/users/carol", nil),
	} {
		e.ServeHTTP(httptest.NewRecorder(), r)
	}
	body := scrape(t, m)
	wantLines(t, body,
		`authbackend_http_requests_total{method="GET",route="/users/:name",status="200"} 2`,
		`authbackend_http_requests_total{method="POST",route="/fail",status="503"} 1`,
		`authbackend_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`authbackend_http_requests_total{method="other",route="unmatched",status="404"} 1`,
		`authbackend_http_request_duration_seconds_count{method="GET",route="/users/:name",status="200"} 2`,
		`authbackend_http_requests_in_flight 0`,
	)
	for _, leak := range []string{"alice", "bob", "secret-path-123", "BREW"} {
		if strings.Contains(body, leak) {
			t.Errorf("a label holds %q", leak)
		}
	}
	if !strings.Contains(body, `authbackend_build_info{goversion="go`) || !strings.Contains(body, `revision="abc",version="v1.2.3"} 1`) {
		t.Errorf("no build info in scrape")
	}
	for _, family := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, "\n"+family+" ") {
			t.Errorf("scrape lacks %s", family)
		}
	}
}

func TestOutcomeCounters(t *testing.T) {
	m := New(BuildInfo{})
	m.SignIn("oidc", "success")
	m.SignIn("oidc", "success")
	m.SignIn("oidc", "user_not_found")
	m.Refresh("oidc", "idp_error")
	m.RateLimited("authbackend.rateLimit")
	m.TokenCounter("user").Inc()
	m.KeyCreated("user")
	m.KeysRemoved("plugin", 2)
	m.KeysServed("user", func() int { return 3 })
	rec := m.CatalogOperation("find_users")
	rec.Observe(CatalogHit, time.Millisecond)
	rec.Observe(CatalogMiss, time.Millisecond)
	rec.Observe(CatalogError, time.Millisecond)
	m.DBStats("auth", func() sql.DBStats {
		return sql.DBStats{MaxOpenConnections: 10, OpenConnections: 4, InUse: 1, Idle: 3, WaitCount: 7}
	})
	wantLines(t, scrape(t, m),
		`authbackend_sign_ins_total{outcome="success",provider="oidc"} 2`,
		`authbackend_sign_ins_total{outcome="user_not_found",provider="oidc"} 1`,
		`authbackend_refreshes_total{outcome="idp_error",provider="oidc"} 1`,
		`authbackend_rate_limited_total{limit="authbackend.rateLimit"} 1`,
		`authbackend_tokens_issued_total{type="user"} 1`,
		`authbackend_signing_keys_created_total{kind="user"} 1`,
		`authbackend_signing_keys_removed_total{kind="plugin"} 2`,
		`authbackend_signing_keys_served{kind="user"} 3`,
		`authbackend_catalog_lookups_total{operation="find_users",result="hit"} 1`,
		`authbackend_catalog_lookups_total{operation="find_users",result="miss"} 1`,
		`authbackend_catalog_lookups_total{operation="find_users",result="error"} 1`,
		`authbackend_catalog_lookup_duration_seconds_count{operation="find_users"} 3`,
		`go_sql_max_open_connections{db_name="auth"} 10`,
		`go_sql_in_use_connections{db_name="auth"} 1`,
		`go_sql_wait_count_total{db_name="auth"} 7`,
	)
}

func TestIdPTransportByEndpointAndErrorKind(t *testing.T) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth/token":
			w.WriteHeader(500)
		case "/hang":
			time.Sleep(200 * time.Millisecond)
		case "/userinfo":
			w.WriteHeader(401)
		}
	}))
	defer idp.Close()
	m := New(BuildInfo{})
	c := &http.Client{Transport: m.IdPTransport("spectrocloud", nil)}
	do := func(method, path string, timeout time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, method, idp.URL+path, nil)
		if resp, err := c.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	do("GET", "/.well-known/openid-configuration", time.Second)
	do("POST", "/oauth/token", time.Second)
	do("GET", "/userinfo", time.Second)
	do("GET", "/hang", 20*time.Millisecond)
	c.Transport.(*idpTransport).base = failingTransport{}
	do("GET", "/jwks", time.Second)
	wantLines(t, scrape(t, m),
		`authbackend_idp_request_duration_seconds_count{endpoint="discovery",provider="spectrocloud"} 1`,
		`authbackend_idp_request_duration_seconds_count{endpoint="token",provider="spectrocloud"} 1`,
		`authbackend_idp_request_errors_total{endpoint="token",kind="http_5xx",provider="spectrocloud"} 1`,
		`authbackend_idp_request_errors_total{endpoint="userinfo",kind="http_4xx",provider="spectrocloud"} 1`,
		`authbackend_idp_request_errors_total{endpoint="api",kind="timeout",provider="spectrocloud"} 1`,
		`authbackend_idp_request_errors_total{endpoint="jwks",kind="network",provider="spectrocloud"} 1`,
		`authbackend_idp_request_errors_total{endpoint="discovery",kind="http_5xx",provider="spectrocloud"} 0`,
	)
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, &refused{}
}

type refused struct{}

func (*refused) Error() string { return "connection refused" }

func TestClassifyEndpoint(t *testing.T) {
	for _, tc := range []struct{ method, url, want string }{
		{"GET", "https://idp/v1/oidc/tenant/x/.well-known/openid-configuration", EndpointDiscovery},
		{"POST", "https://idp/oauth2/token", EndpointToken},
		{"POST", "https://github.com/login/oauth/access_token", EndpointToken},
		{"GET", "https://idp/oauth2/token", EndpointOther},
		{"POST", "https://idp/oauth2/revoke", EndpointRevocation},
		{"GET", "https://idp/userinfo", EndpointUserinfo},
		{"GET", "https://idp/.well-known/jwks.json", EndpointJWKS},
		{"GET", "https://www.googleapis.com/oauth2/v3/certs", EndpointJWKS},
		{"GET", "https://api.github.com/user", EndpointOther},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		if got := ClassifyEndpoint(r); got != tc.want {
			t.Errorf("%s %s = %s, want %s", tc.method, tc.url, got, tc.want)
		}
	}
}

// The request middleware adds no allocation to a request once its label children
// exist (the first request of a route, method and status creates them).
func TestMiddlewareDoesNotAllocate(t *testing.T) {
	m := New(BuildInfo{})
	with, without := testEngine(m), testEngine(nil)
	r := httptest.NewRequest("GET", "/users/alice", nil)
	w := &discardWriter{h: http.Header{}}
	with.ServeHTTP(w, r)
	base := testing.AllocsPerRun(200, func() { without.ServeHTTP(w, r) })
	got := testing.AllocsPerRun(200, func() { with.ServeHTTP(w, r) })
	if got > base {
		t.Errorf("allocations per request: %.1f with metrics, %.1f without", got, base)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func BenchmarkMiddleware(b *testing.B) {
	m := New(BuildInfo{})
	e := testEngine(m)
	r := httptest.NewRequest("GET", "/users/alice", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		e.ServeHTTP(w, r)
	}
}
