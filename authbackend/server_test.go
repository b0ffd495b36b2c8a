package authbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// helmetHeaders are the exact values of the captures (REFERENCE.md section 3).
var helmetHeaders = map[string]string{
	"Content-Security-Policy":           "default-src 'self';base-uri 'self';font-src 'self' https: data:;frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' 'unsafe-eval';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
	"Referrer-Policy":                   "no-referrer",
	"Strict-Transport-Security":         "max-age=15552000; includeSubDomains",
	"X-Content-Type-Options":            "nosniff",
	"X-DNS-Prefetch-Control":            "off",
	"X-Download-Options":                "noopen",
	"X-Frame-Options":                   "SAMEORIGIN",
	"X-Permitted-Cross-Domain-Policies": "none",
	"X-XSS-Protection":                  "0",
}

var absentHeaders = []string{"Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy", "Cross-Origin-Resource-Policy", "Origin-Agent-Cluster", "X-Powered-By"}

func checkHelmet(t *testing.T, hdr http.Header, what string) {
	t.Helper()
	for k, v := range helmetHeaders {
		if got := hdr.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	for _, k := range absentHeaders {
		if v := hdr.Get(k); v != "" {
			t.Errorf("%s: %s must not be sent (got %q)", what, k, v)
		}
	}
}

func TestHelmetOnEveryResponse(t *testing.T) {
	h := newHarness(t)
	for _, r := range []req{
		{target: "/api/auth/.well-known/openid-configuration"},
		{target: "/api/auth/nope/start"},                                              // JSON 404
		{target: "/api/auth/"},                                                        // empty 404
		{target: "/somewhere/else"},                                                   // root 404
		{method: "OPTIONS", target: "/api/auth/spectrocloud/refresh?env=development"}, // Express OPTIONS
		{target: "/api/auth/spectrocloud/refresh?env=development"},                    // 401
		{target: "/.backstage/health/v1/liveness"},
	} {
		rec := h.do(r)
		checkHelmet(t, rec.Header(), r.method+" "+r.target)
	}
}

func TestCSPFromConfig(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Backend.CSP = map[string][]string{
			"img-src":                   {"'self'", "data:", "https://avatars.example.com"},
			"upgrade-insecure-requests": nil,
			"connectSrc":                {"'self'", "https://api.example.com"},
			"frame-src":                 {},
		}
		o.Config.Backend.Referrer = "same-origin"
	})
	rec := h.do(req{target: "/api/auth/.well-known/jwks.json"})
	want := "default-src 'self';base-uri 'self';font-src 'self' https: data:;frame-ancestors 'self';img-src 'self' data: https://avatars.example.com;object-src 'none';script-src 'self' 'unsafe-eval';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';connect-src 'self' https://api.example.com;frame-src"
	if got := rec.Header().Get("Content-Security-Policy"); got != want {
		t.Errorf("CSP =\n%s\nwant\n%s", got, want)
	}
	if got := rec.Header().Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("Referrer-Policy = %q", got)
	}
}

func TestNotFound(t *testing.T) {
	h := newHarness(t)
	for _, target := range []string{"/api/auth", "/api/auth/", "/", "/api/catalog/entities", "/favicon.ico"} {
		rec := h.do(req{target: target})
		if rec.Code != 404 || rec.Body.Len() != 0 {
			t.Errorf("%s: %d %q, want an empty 404", target, rec.Code, rec.Body.String())
		}
	}
	// Trailing slashes match like Express's non-strict routing.
	rec := h.do(req{target: "/api/auth/.well-known/openid-configuration/"})
	if rec.Code != 200 {
		t.Errorf("trailing slash: %d", rec.Code)
	}
	checkError(t, h.do(req{method: "POST", target: "/api/auth/.well-known/openid-configuration"}), 404, "NotFoundError", "Unknown auth provider '.well-known'")
	checkError(t, h.do(req{target: "/api/auth/a%20b/start"}), 404, "NotFoundError", "Unknown auth provider 'a b'")
}

func TestExpressOptions(t *testing.T) {
	h := newHarness(t)
	for target, allow := range map[string]string{
		"/api/auth/spectrocloud/refresh?env=development": "GET,HEAD,POST",
		"/api/auth/spectrocloud/start":                   "GET,HEAD",
		"/api/auth/spectrocloud/logout":                  "POST",
		"/api/auth/spectrocloud/handler/frame":           "GET,HEAD,POST",
		"/api/auth/v1/userinfo":                          "GET,HEAD",
	} {
		rec := h.do(req{method: "OPTIONS", target: target, headers: map[string]string{
			"Origin": testBackend, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-requested-with"}})
		if rec.Code != 200 || rec.Header().Get("Allow") != allow || rec.Body.String() != allow ||
			rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("OPTIONS %s: %d Allow=%q body=%q", target, rec.Code, rec.Header().Get("Allow"), rec.Body.String())
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("CORS header without backend.cors")
		}
	}
	checkError(t, h.do(req{method: "OPTIONS", target: "/api/auth/nope/refresh"}), 404, "NotFoundError", "Unknown auth provider 'nope'")
}

func TestCORS(t *testing.T) {
	maxAge := 600
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.App.BaseURL = "https://app.example.com"
		o.Config.Backend.CORS = &config.CORSConfig{
			Origins:        []string{"https://app.example.com", "https://*.preview.example.com"},
			Credentials:    true,
			ExposedHeaders: []string{"X-Trace"},
			MaxAge:         &maxAge,
		}
	})
	// An error response to a credentialed cross-origin request carries CORS headers.
	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: map[string]string{"Origin": "https://pr-1.preview.example.com"}})
	checkError(t, rec, 401, "AuthenticationError", "Invalid X-Requested-With header")
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":      "https://pr-1.preview.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "X-Trace",
		"Vary":                             "Origin",
	} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	checkHelmet(t, rec.Header(), "cors error")

	// Preflight.
	rec = h.do(req{method: "OPTIONS", target: "/api/auth/spectrocloud/refresh?env=development", headers: map[string]string{
		"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-requested-with"}})
	if rec.Code != 204 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "0" {
		t.Errorf("preflight: %d %q", rec.Code, rec.Body.String())
	}
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET,HEAD,PUT,PATCH,POST,DELETE",
		"Access-Control-Allow-Headers":     "x-requested-with",
		"Access-Control-Max-Age":           "600",
		"Vary":                             "Origin, Access-Control-Request-Headers",
	} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	checkHelmet(t, rec.Header(), "preflight")

	// Other origins get no CORS headers; their preflight falls through to Express.
	rec = h.do(req{method: "OPTIONS", target: "/api/auth/spectrocloud/refresh", headers: map[string]string{"Origin": "https://evil.example.com"}})
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Allow") != "GET,HEAD,POST" {
		t.Errorf("refused preflight: %d %v", rec.Code, rec.Header())
	}
	rec = h.do(req{target: "/api/auth/.well-known/jwks.json"})
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS headers without Origin")
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Backend.CORS = &config.CORSConfig{AllowedHeaders: []string{"X-Requested-With", "Authorization"}, Methods: []string{"GET", "POST"}, OptionsSuccessStatus: 200}
	})
	rec := h.do(req{method: "OPTIONS", target: "/api/auth/v1/userinfo", headers: map[string]string{"Origin": "https://x.example", "Access-Control-Request-Headers": "foo"}})
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Vary") != "" ||
		rec.Header().Get("Access-Control-Allow-Headers") != "X-Requested-With,Authorization" || rec.Header().Get("Access-Control-Allow-Methods") != "GET,POST" {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
}

// With credentials, a missing origin or a "*" pattern must never echo the caller's
// origin: that would hand any site the user's session (Backstage answers a literal "*",
// which browsers refuse to combine with credentials).
func TestCORSCredentialsNeverEchoAnyOrigin(t *testing.T) {
	for name, origins := range map[string][]string{"no origin": nil, "star": {"*"}, "star beside an app": {"*", "https://app.example.com"}} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, func(o *Options, _ *fakeProvider) {
				o.Config.Backend.CORS = &config.CORSConfig{Origins: origins, Credentials: true, Methods: []string{"GET", "POST"}, OptionsSuccessStatus: 204}
			})
			for _, method := range []string{"OPTIONS", "GET"} {
				rec := h.do(req{method: method, target: "/api/auth/spectrocloud/refresh?env=development",
					headers: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET", "X-Requested-With": "XMLHttpRequest"}})
				if got := rec.Header().Get("Access-Control-Allow-Origin"); got == "https://evil.example" {
					t.Errorf("%s: evil origin echoed with credentials=%q", method, rec.Header().Get("Access-Control-Allow-Credentials"))
				}
			}
			if len(origins) == 2 {
				rec := h.do(req{target: "/api/auth/.well-known/jwks.json", headers: map[string]string{"Origin": "https://app.example.com"}})
				if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
					t.Errorf("listed app origin not allowed: %v", rec.Header())
				}
			}
		})
	}
}

func TestOpenIDConfigurationMatchesCapture(t *testing.T) {
	want := strings.TrimSpace(readTestdata(t, "openid-configuration.capture.json"))
	h := newHarness(t, func(o *Options, _ *fakeProvider) { o.Config.Backend.BaseURL = "http://127.0.0.1:17007" })
	rec := h.do(req{target: "/api/auth/.well-known/openid-configuration"})
	if rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("got %d\n%s\nwant\n%s", rec.Code, rec.Body.String(), want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	// Discovery endpoints move the issuer.
	h = newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Discovery.Endpoints = []config.DiscoveryEndpoint{{Plugins: []string{"auth"}, External: "https://auth.example.com/api/{{pluginId}}", Internal: "http://auth:7007/api/auth"}}
	})
	var doc map[string]any
	_ = json.Unmarshal(h.do(req{target: "/api/auth/.well-known/openid-configuration"}).Body.Bytes(), &doc)
	if doc["issuer"] != "https://auth.example.com/api/auth" || doc["jwks_uri"] != "https://auth.example.com/api/auth/.well-known/jwks.json" {
		t.Errorf("doc = %v", doc)
	}
}

func TestJWKS(t *testing.T) {
	h := newHarness(t)
	for target, body := range map[string]string{
		"/api/auth/.well-known/jwks.json":        `{"keys":[]}`,
		"/api/auth/.backstage/auth/v1/jwks.json": `{"keys":[{"kid":"plugin"}]}`,
	} {
		rec := h.do(req{target: target})
		if rec.Code != 200 || rec.Body.String() != body || rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: %d %q %q", target, rec.Code, rec.Body.String(), rec.Header().Get("Cache-Control"))
		}
	}
	h = newHarness(t, func(o *Options, _ *fakeProvider) { o.UserKeys = fakeJWKS{err: plainErr("db gone")} })
	checkError(t, h.do(req{target: "/api/auth/.well-known/jwks.json"}), 500, "Error", anyMessage)
}

func TestUserInfo(t *testing.T) {
	h := newHarness(t)
	pluginTok := "eyJ0eXAiOiJ2bmQuYmFja3N0YWdlLnBsdWdpbiIsImFsZyI6IkVTMjU2In0.e30.sig" // {"typ":"vnd.backstage.plugin","alg":"ES256"}
	cases := []struct {
		auth   string
		status int
		body   string
		ct     string
	}{
		{"Bearer alice-token", 200, aliceUserInfo, "application/json; charset=utf-8"},
		{"bearer   limited-token", 200, aliceUserInfo, "application/json; charset=utf-8"},
		{"Bearer bob-token", 404, "User info not found", "text/html; charset=utf-8"},
		{"Bearer " + pluginTok, 400, "", ""},
		{"Bearer " + testStaticToken, 400, "", ""},
		{"Bearer a b", 401, "", ""},
		{"Basic YWxpY2U6eA==", 401, "", ""},
		{"Bearer unknown", 401, "", ""},
	}
	for _, tc := range cases {
		rec := h.do(req{target: "/api/auth/v1/userinfo", headers: map[string]string{"Authorization": tc.auth}})
		if rec.Code != tc.status {
			t.Errorf("%q: status %d: %s", tc.auth, rec.Code, rec.Body.String())
			continue
		}
		if tc.body != "" && (rec.Body.String() != tc.body || rec.Header().Get("Content-Type") != tc.ct) {
			t.Errorf("%q: %q (%s)", tc.auth, rec.Body.String(), rec.Header().Get("Content-Type"))
		}
	}
	for _, allow := range h.verifier.allowLimited {
		if !allow {
			t.Error("userinfo must accept limited tokens")
		}
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) { o.Health = fakePinger{} })
	for _, p := range []string{"readiness", "liveness"} {
		rec := h.do(req{target: "/.backstage/health/v1/" + p})
		if rec.Code != 200 || rec.Body.String() != `{"status":"ok"}` {
			t.Errorf("%s: %d %s", p, rec.Code, rec.Body.String())
		}
	}
	h = newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Health = fakePinger{err: plainErr("dial tcp 127.0.0.1:5432: refused")}
	})
	rec := h.do(req{target: "/.backstage/health/v1/readiness"})
	e := checkError(t, rec, 503, "ServiceUnavailableError", anyMessage)
	if strings.Contains(rec.Body.String(), "5432") || e.Request.URL != "/.backstage/health/v1/readiness" {
		t.Errorf("body = %s", rec.Body.String())
	}
	if rec := h.do(req{target: "/.backstage/health/v1/liveness"}); rec.Code != 200 {
		t.Errorf("liveness depends on the database: %d", rec.Code)
	}
}

func TestPanicRecovery(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *fakeProvider) { p.panicOnAuth = true })
	_ = h
	set, rec := h.signIn(t, "env=development")
	e := checkError(t, rec, 500, "Error", anyMessage)
	if !strings.HasPrefix(e.Error.Message, "An internal error occurred logId=") || strings.Contains(rec.Body.String(), "boom") || e.Error.Stack != "" {
		t.Errorf("body = %s", rec.Body.String())
	}
	if len(set) != 0 {
		t.Errorf("cookies after panic: %v", set)
	}
	if !strings.Contains(h.logs.String(), "boom: secret internal detail") {
		t.Error("panic not logged")
	}
	checkHelmet(t, rec.Header(), "panic")
}

func TestDevelopmentModeStack(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) { o.Config.DevelopmentMode = true })
	e := checkError(t, h.do(req{target: "/api/auth/nope"}), 404, "NotFoundError", "Unknown auth provider 'nope'")
	if e.Error.Stack == "" {
		t.Error("no stack in development mode")
	}
}

func TestSessionSecret(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Auth.SessionSecret = ""
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "auth.session.secret") {
		t.Errorf("no warning: %s", logs.String())
	}
	if set, _ := h.signIn(t, "env=development"); set["spectrocloud-refresh-token"] == "" {
		t.Error("a random secret must still work")
	}
	// A short secret is accepted (Backstage accepts any) with a warning.
	logs.Reset()
	h = newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Auth.SessionSecret = "short"
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !strings.Contains(logs.String(), "auth.session.secret is weak") {
		t.Errorf("no weak-secret warning: %s", logs.String())
	}
	if set, _ := h.signIn(t, "env=development"); set["spectrocloud-refresh-token"] == "" {
		t.Error("a short secret must still work")
	}
}

func TestNewValidation(t *testing.T) {
	base := newHarness(t).opts
	for name, mod := range map[string]func(*Options){
		"no config": func(o *Options) { o.Config = nil },
		"no issuer": func(o *Options) { o.Issuer = nil },
		"reserved id": func(o *Options) {
			o.Providers = []providers.Configured{{ID: "v1", Kind: providers.KindOAuth, Envs: map[string]*providers.Env{}}}
		},
		"duplicate id": func(o *Options) { o.Providers = append(o.Providers, o.Providers[0]) },
		"nil provider": func(o *Options) {
			o.Providers = []providers.Configured{{ID: "x", Kind: providers.KindOAuth, Envs: map[string]*providers.Env{"dev": {}}}}
		},
		"proxy without resolver": func(o *Options) {
			o.Providers = []providers.Configured{{ID: "x", Kind: providers.KindProxy, Envs: map[string]*providers.Env{"": {Provider: fakeProxy{}}}}}
		},
		"bad app baseUrl": func(o *Options) { c := *o.Config; c.App.BaseURL = "not a url"; o.Config = &c },
	} {
		o := base
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// fakeProxy is a proxy provider that authenticates nobody in particular.
type fakeProxy struct{}

func (fakeProxy) AuthenticateRequest(context.Context, *http.Request) (providers.ProxyResult, error) {
	return providers.ProxyResult{}, nil
}

func TestDemoPage(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Demo = config.DemoConfig{Enabled: true, Provider: testProvider, Env: "development"}
	})
	rec := h.do(req{target: "/"})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Sign in with SpectroCloud") {
		t.Fatalf("demo: %d", rec.Code)
	}
	body := rec.Body.String()
	m := regexp.MustCompile(`(?s)<script>(.*)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no script")
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src "+scriptHash(m[1])) || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q does not allow exactly the inline script", csp)
	}
	for _, frag := range []string{`"provider":"spectrocloud"`, "'/start?scope='", "flow=popup", "config_info", "authorization_response", "'X-Requested-With': 'XMLHttpRequest'", "/logout?env="} {
		if !strings.Contains(body, frag) {
			t.Errorf("demo lacks %q", frag)
		}
	}
	// The demo page does not widen the allowed origins: served from backend.baseUrl
	// while app.baseUrl is elsewhere, its origin is refused and a warning says why.
	checkError(t, h.do(req{target: "/api/auth/spectrocloud/start?env=development&origin=" + url.QueryEscape(testBackend)}), 403, "NotAllowedError", "Origin '"+testBackend+"' is not allowed")
	if !strings.Contains(h.logs.String(), "not an allowed origin") {
		t.Errorf("no warning about the demo origin: %s", h.logs.String())
	}
	// Served as the app (app.baseUrl = backend.baseUrl, as examples/demo does), it works,
	// IPv6 included.
	h6 := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Backend.BaseURL = "http://[::1]:7007"
		o.Config.App.BaseURL = "http://[::1]:7007"
		o.Config.Demo = config.DemoConfig{Enabled: true}
	})
	if rec := h6.do(req{target: "/api/auth/spectrocloud/start?env=development&origin=" + url.QueryEscape("http://[::1]:7007")}); rec.Code != 302 {
		t.Errorf("IPv6 demo origin: %d %s", rec.Code, rec.Body.String())
	}
	if strings.Contains(h6.logs.String(), "not an allowed origin") {
		t.Errorf("spurious warning: %s", h6.logs.String())
	}
	// Disabled: no page, and the backend origin is not allowed.
	h = newHarness(t)
	if rec := h.do(req{target: "/"}); rec.Code != 404 {
		t.Errorf("demo served while disabled")
	}
	checkError(t, h.do(req{target: "/api/auth/spectrocloud/start?env=development&origin=" + url.QueryEscape(testBackend)}), 403, "NotAllowedError", "Origin '"+testBackend+"' is not allowed")
}

// TestFramePageReproducesCapture rebuilds the success page of capture 05 from its
// decoded message and checks the script text and CSP hash are the Node backend's.
func TestFramePageReproducesCapture(t *testing.T) {
	html := readTestdata(t, "handler-frame-popup.html")
	m := scriptRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatal("capture shape")
	}
	if got := scriptHash(m[1]); got != "'sha256-lBgDVeyFShMiVaTc/5ayflX/1HBsumPSSqMTIZzMAI0='" {
		t.Fatalf("hash of the capture's script = %s", got)
	}
	vals := dataRE.FindAllStringSubmatch(m[1], -1)
	raw, _ := url.PathUnescape(vals[0][1])
	origin, _ := url.PathUnescape(vals[1][1])
	// Re-encode the message through our own types: same bytes, same script.
	var msg authorizationResponse
	if err := json.Unmarshal([]byte(raw), &msg); err != nil {
		t.Fatal(err)
	}
	payload, err := jsrules.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if string(payload) != raw {
		t.Errorf("our JSON differs from Backstage's:\n got %s\nwant %s", payload, raw)
	}
	if got := frameScript(payload, origin); got != m[1] {
		t.Errorf("script differs:\n got %q\nwant %q", got, m[1])
	}
	// An apostrophe or a closing tag in a value cannot break out of the script.
	s := frameScript([]byte(`{"message":"it's </script><script>alert(1)"}`), testAppOrigin)
	if strings.Contains(s, "'s") || strings.Contains(s, "</script>") || strings.Contains(s, "<") {
		t.Errorf("unsafe script: %s", s)
	}
}

func TestHEAD(t *testing.T) {
	h := newHarness(t)
	rec := h.do(req{method: "HEAD", target: "/api/auth/.well-known/openid-configuration"})
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD: %d len=%d CL=%s", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestMain(m *testing.M) {
	// What cmd/authbackend sets for the process: no route listing on stdout.
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}
