package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/authbackend"
	"github.com/spectrocloud-labs/backstage-auth-go/authdb"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/gctune"
	"github.com/spectrocloud-labs/backstage-auth-go/observe"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/spectrocloud"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/localcatalog"
	"github.com/spectrocloud-labs/backstage-auth-go/sessions"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
	"github.com/spectrocloud-labs/backstage-auth-go/tracing/otlptest"
)

// inProcess is the whole server wired in one process with its real parts (SQLite
// store, local catalog, SpectroCloud provider against the mock Palette), so that
// benchmarks measure the handlers end to end without sockets in between.
type inProcess struct {
	handler http.Handler
	appURL  string
	cookie  string // refresh cookie after a sign-in
	token   string // Backstage token from that sign-in
}

// Observability of an in-process server: none (what every benchmark but the
// Observed ones measures: the wiring cmd does with nothing configured), metrics, or
// metrics and tracing (spans exported to an in-process OTLP receiver).
const (
	observeOff     = ""
	observeMetrics = "metrics"
	observeTracing = "tracing"
)

func newInProcess(b *testing.B) *inProcess { return newObservedInProcess(b, observeOff) }

func newObservedInProcess(b *testing.B, mode string) *inProcess {
	b.Helper()
	dir := b.TempDir()
	idp := mockpalette.New(mockpalette.Options{})
	issuerURL := idp.Start(b)
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte(orgYAML), 0o600); err != nil {
		b.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "app-config.yaml")
	cfgYAML := fmt.Sprintf(`app: {baseUrl: "http://127.0.0.1:3000"}
backend: {baseUrl: "http://127.0.0.1:7007"}
auth:
  session: {secret: bench-secret-bench-secret-bench-secret}
  providers:
    spectrocloud:
      development:
        clientId: backstage-client
        clientSecret: backstage-secret
        authorizationUrl: %s/auth
        signIn:
          resolvers: [{resolver: emailMatchingUserEntityProfileEmail}]
catalog:
  rules: [{allow: [User, Group]}]
  locations: [{type: file, target: %s}]
# The sign-in limit (300 a minute per client) would refuse a benchmark's refreshes.
authbackend: {rateLimit: {enabled: false}}
`, issuerURL, org)
	if err := os.WriteFile(cfgFile, []byte(cfgYAML), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{ConfigPaths: []string{cfgFile}, WorkDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	env := map[string]string{}
	// The GC pacing cmd/authbackend installs, so that ns/op and gc/1k-op are the binary's.
	tuner := gctune.Start(os.Getenv, 0)
	b.Cleanup(tuner.Stop)
	if mode != observeOff {
		cfg.Ops.MetricsListen = "127.0.0.1:0" // the registry only; nothing listens
	}
	if mode == observeTracing {
		env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlptest.NewHTTP(b).Endpoint
	}
	obs, err := observe.New(ctx, cfg, logger, func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { obs.Close(context.Background()) })
	db, err := authdb.Open(ctx, authdb.Options{Client: "sqlite", SQLitePath: filepath.Join(dir, "auth.sqlite"), Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	keys := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: obs.WrapKeyStore("user", db.SigningKeys()), KeyDuration: time.Hour, Logger: logger})
	pluginKeys := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: obs.WrapKeyStore("plugin", db.PluginKeys()), KeyDuration: time.Hour, Logger: logger})
	issuer := tokens.NewIssuer(tokens.IssuerOptions{Issuer: cfg.AuthBaseURL(), Keys: keys, Expiration: time.Hour,
		OmitOwnershipClaim: true, UserInfo: obs.WrapUserInfo(db.UserInfo()), Logger: logger})
	local, err := localcatalog.New(localcatalog.Options{Locations: cfg.Catalog.Locations, Rules: cfg.Catalog.Rules, WorkDir: dir, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := providers.NewRegistry(spectrocloud.Module)
	if err != nil {
		b.Fatal(err)
	}
	decoded, ps := reg.Decode(cfg.Auth.Providers)
	if err := ps.Err(); err != nil {
		b.Fatal(err)
	}
	cat := obs.WrapCatalog(local)
	bd := providers.BuildDeps{Logger: logger, AuthBaseURL: cfg.AuthBaseURL(), Catalog: cat}
	if obs.Wraps() {
		bd.HTTPClientFor = obs.IdPClient
	}
	provs, err := decoded.Build(bd)
	if err != nil {
		b.Fatal(err)
	}
	sess := sessions.New(sessions.Options{Store: db.Sessions(), Logger: logger})
	if err := sess.Start(ctx); err != nil {
		b.Fatal(err)
	}
	srv, err := authbackend.New(authbackend.Options{
		Logger: logger, Config: cfg, Issuer: obs.WrapIssuer(issuer), Verifier: tokens.NewVerifier(keys, nil), UserInfo: issuer,
		UserKeys: keys, PluginKeys: pluginKeys, Health: db, Sessions: sess, Providers: provs, RegisteredIDs: reg.IDs(),
		Metrics: obs.RouterMetrics(), Auditor: obs.Auditor(), Middleware: obs.Middleware(),
	})
	if err != nil {
		b.Fatal(err)
	}
	p := &inProcess{handler: srv.Handler(), appURL: cfg.App.BaseURL}
	p.signIn(b)
	return p
}

func (p *inProcess) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	p.handler.ServeHTTP(rec, req)
	return rec
}

// signIn runs the popup flow: start (in process), authorize (the mock, over HTTP),
// callback (in process).
func (p *inProcess) signIn(b *testing.B) {
	b.Helper()
	start := p.serve(httptest.NewRequest("GET", "http://127.0.0.1:7007/api/auth/spectrocloud/start?scope=openid&origin="+url.QueryEscape(p.appURL)+"&env=development", nil))
	if start.Code != http.StatusFound {
		b.Fatalf("start: %d %s", start.Code, start.Body)
	}
	var nonce string
	for _, c := range start.Result().Cookies() {
		if c.Name == "spectrocloud-nonce" && c.Value != "" {
			nonce = c.Value
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(start.Header().Get("Location"))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	cb := httptest.NewRequest("GET", resp.Header.Get("Location"), nil)
	cb.AddCookie(&http.Cookie{Name: "spectrocloud-nonce", Value: nonce})
	frame := p.serve(cb)
	for _, c := range frame.Result().Cookies() {
		if c.Name == "spectrocloud-refresh-token" && c.Value != "" {
			p.cookie = c.Value
		}
	}
	if p.cookie == "" {
		b.Fatalf("no refresh cookie: %d %s", frame.Code, frame.Body)
	}
	msg := popupMessage(b, frame.Body.Bytes())
	p.token, _ = dig(msg, "response", "backstageIdentity", "token").(string)
}

func (p *inProcess) refreshRequest() *http.Request {
	req := httptest.NewRequest("GET", "http://127.0.0.1:7007/api/auth/spectrocloud/refresh?optional&scope=openid%20profile%20email&env=development", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	req.AddCookie(&http.Cookie{Name: "spectrocloud-refresh-token", Value: p.cookie})
	return req
}

// BenchmarkRefreshEndToEnd is one /refresh as the frontend sends it: open the sealed
// session, re-verify Palette's ID token, resolve the user in the catalog, mint a token
// (two ES256 signatures) and skip the unchanged user_info write.
func BenchmarkRefreshEndToEnd(b *testing.B) {
	p := newInProcess(b)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := p.serve(p.refreshRequest()); rec.Code != 200 {
				b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
		}
	})
	b.StopTimer()
	runtime.ReadMemStats(&after)
	// Collections per thousand refreshes: each is a stop-the-world the tail can hit.
	b.ReportMetric(float64(after.NumGC-before.NumGC)*1000/float64(b.N), "gc/1k-op")
}

func BenchmarkUserInfoEndToEnd(b *testing.B) {
	p := newInProcess(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "http://127.0.0.1:7007/api/auth/v1/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+p.token)
			if rec := p.serve(req); rec.Code != 200 || !strings.Contains(rec.Body.String(), "user:default/alice") {
				b.Fatalf("userinfo: %d %s", rec.Code, rec.Body)
			}
		}
	})
}

func BenchmarkJWKSEndToEnd(b *testing.B) {
	p := newInProcess(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := p.serve(httptest.NewRequest("GET", "http://127.0.0.1:7007/api/auth/.well-known/jwks.json", nil)); rec.Code != 200 {
				b.Fatalf("jwks: %d", rec.Code)
			}
		}
	})
}

// BenchmarkObservedEndToEnd is refresh, userinfo and JWKS with metrics on, and with
// metrics and tracing on: what instrumentation costs per request.
func BenchmarkObservedEndToEnd(b *testing.B) {
	requests := []struct {
		name string
		req  func(p *inProcess) *http.Request
	}{
		{"refresh", (*inProcess).refreshRequest},
		{"userinfo", func(p *inProcess) *http.Request {
			req := httptest.NewRequest("GET", "http://127.0.0.1:7007/api/auth/v1/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+p.token)
			return req
		}},
		{"jwks", func(*inProcess) *http.Request {
			return httptest.NewRequest("GET", "http://127.0.0.1:7007/api/auth/.well-known/jwks.json", nil)
		}},
	}
	for _, mode := range []string{observeMetrics, observeTracing} {
		for _, r := range requests {
			b.Run(mode+"/"+r.name, func(b *testing.B) {
				// A server per run, as the other benchmarks: the sign-in rate limit
				// counts refreshes per client.
				p := newObservedInProcess(b, mode)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if rec := p.serve(r.req(p)); rec.Code != 200 {
							b.Fatalf("%s: %d %s", r.name, rec.Code, rec.Body)
						}
					}
				})
			})
		}
	}
}
