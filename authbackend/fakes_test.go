package authbackend

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/oauthstate"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/guest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

const (
	testSecret      = "test-session-secret-0123456789abcdef"
	testStaticToken = "static-flow-token-0123456789abcdef"
	testAppOrigin   = "http://localhost:3000"
	testBackend     = "http://localhost:7007"
	testProvider    = "spectrocloud"
)

// maxRecorded bounds what fakes remember, so benchmarks do not grow without limit.
const maxRecorded = 1000

var testNow = time.Date(2026, 11, 27, 11, 6, 48, 0, time.UTC)

// fakeProvider is an IdP without network. Start encodes the request into the URL;
// Authenticate accepts code "good-code" and returns session "session-1".
type fakeProvider struct {
	mu         sync.Mutex
	scopes     providers.ScopeSpec
	starts     []providers.StartRequest
	callbacks  []providers.CallbackRequest
	refreshes  []providers.RefreshRequest
	logouts    [][]byte
	startErr   error
	authErr    error
	refreshErr error
	refreshNew []byte // Session returned by Refresh (nil = keep)
	logoutURL  string
	// logoutAsked are the (session, request origin) pairs LogoutURL was asked with.
	logoutAsked [][2]string
	logoutErr   error
	panicOnAuth bool
	// idpScope and idpRefreshScope are the scope the IdP's token answers name at
	// sign-in (default "openid") and at refresh (default none).
	idpScope, idpRefreshScope string
}

var (
	_ providers.OAuthProvider = (*fakeProvider)(nil)
	_ providers.Refresher     = (*fakeProvider)(nil)
	_ providers.Logouter      = (*fakeProvider)(nil)
	_ providers.LogoutURLer   = (*fakeProvider)(nil)
	_ providers.Scoper        = (*fakeProvider)(nil)
)

func (p *fakeProvider) Start(_ context.Context, req providers.StartRequest) (providers.StartResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starts = append(p.starts, req)
	if p.startErr != nil {
		return providers.StartResult{}, p.startErr
	}
	q := url.Values{"scope": {req.Scope}, "state": {req.State}, "nonce": {req.Secrets.Nonce}, "redirect_uri": {req.CallbackURL}}
	return providers.StartResult{URL: "https://idp.example.com/authorize?" + q.Encode()}, nil
}

func (p *fakeProvider) Authenticate(_ context.Context, req providers.CallbackRequest) (providers.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.callbacks = append(p.callbacks, req)
	if p.panicOnAuth {
		panic("boom: secret internal detail")
	}
	if p.authErr != nil {
		return providers.Result{}, p.authErr
	}
	if req.Params.Get("code") != "good-code" {
		return providers.Result{}, backstageerr.Plain("No code received from SpectroCloud")
	}
	scope := p.idpScope
	if scope == "" {
		scope = "openid"
	}
	return providers.Result{
		Profile:      providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"},
		ProviderInfo: providers.ProviderInfo{IDToken: "id-token-1", AccessToken: "access-token-1", Scope: scope, ExpiresInSeconds: 3600},
		Claims:       map[string]any{"email": "alice@example.com"},
		Session:      []byte("session-1"),
	}, nil
}

func (p *fakeProvider) Refresh(_ context.Context, req providers.RefreshRequest) (providers.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.refreshes) < maxRecorded {
		p.refreshes = append(p.refreshes, req)
	}
	if p.refreshErr != nil {
		return providers.Result{}, p.refreshErr
	}
	return providers.Result{
		Profile:      providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"},
		ProviderInfo: providers.ProviderInfo{IDToken: "id-token-2", AccessToken: "access-token-2", Scope: p.idpRefreshScope, ExpiresInSeconds: 3599},
		Claims:       map[string]any{"email": "alice@example.com"},
		Session:      p.refreshNew,
	}, nil
}

func (p *fakeProvider) Logout(_ context.Context, session []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logouts = append(p.logouts, session)
	return p.logoutErr
}

func (p *fakeProvider) LogoutURL(ctx context.Context, session []byte) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logoutAsked = append(p.logoutAsked, [2]string{string(session), providers.RequestOrigin(ctx)})
	return p.logoutURL, nil
}

func (p *fakeProvider) Scopes() providers.ScopeSpec { return p.scopes }

func (p *fakeProvider) counts() (starts, callbacks, refreshes, logouts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.starts), len(p.callbacks), len(p.refreshes), len(p.logouts)
}

// resolverFunc adapts a function to resolvers.Resolver.
type resolverFunc func(ctx context.Context, info resolvers.SignInInfo) (resolvers.Identity, error)

func (f resolverFunc) Resolve(ctx context.Context, info resolvers.SignInInfo) (resolvers.Identity, error) {
	return f(ctx, info)
}

func aliceResolver() resolvers.Resolver {
	return resolverFunc(func(_ context.Context, info resolvers.SignInInfo) (resolvers.Identity, error) {
		if info.Email != "alice@example.com" {
			return resolvers.Identity{}, backstageerr.Plain("Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver.")
		}
		return resolvers.Identity{UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/team-a"}}, nil
	})
}

// fakeIssuer signs real ES256 JWTs with Backstage's header and claims, so the
// benchmarks pay a realistic signing cost.
type fakeIssuer struct {
	mu     sync.Mutex
	key    *ecdsa.PrivateKey
	now    func() time.Time
	issued []tokens.UserClaims
	err    error
}

func newFakeIssuer(now func() time.Time) *fakeIssuer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return &fakeIssuer{key: k, now: now}
}

func (f *fakeIssuer) IssueUserToken(_ context.Context, c tokens.UserClaims) (tokens.IssuedToken, error) {
	f.mu.Lock()
	if len(f.issued) < maxRecorded {
		f.issued = append(f.issued, c)
	}
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return tokens.IssuedToken{}, err
	}
	iat := f.now().Truncate(time.Second)
	exp := iat.Add(time.Hour)
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": testBackend + "/api/auth", "sub": c.Sub, "aud": "backstage", "iat": iat.Unix(), "exp": exp.Unix(),
	})
	t.Header["typ"] = "vnd.backstage.user"
	t.Header["kid"] = "test-kid"
	s, err := t.SignedString(f.key)
	if err != nil {
		return tokens.IssuedToken{}, err
	}
	ent := c.Ent
	if ent == nil {
		ent = []string{c.Sub}
	}
	return tokens.IssuedToken{Token: s, Sub: c.Sub, Ent: ent, IssuedAt: iat, ExpiresAt: exp}, nil
}

func (f *fakeIssuer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.issued)
}

// fakeVerifier knows a fixed set of tokens.
type fakeVerifier struct {
	tokens       map[string]tokens.Principal
	allowLimited []bool
	mu           sync.Mutex
}

func (v *fakeVerifier) VerifyUserToken(_ context.Context, token string, allowLimited bool) (tokens.Principal, error) {
	v.mu.Lock()
	if len(v.allowLimited) < maxRecorded {
		v.allowLimited = append(v.allowLimited, allowLimited)
	}
	v.mu.Unlock()
	if p, ok := v.tokens[token]; ok {
		return p, nil
	}
	return tokens.Principal{}, backstageerr.Authentication("Illegal token")
}

type fakeUserInfo map[string]json.RawMessage

func (f fakeUserInfo) UserInfo(_ context.Context, ref string) (json.RawMessage, error) {
	if v, ok := f[ref]; ok {
		return v, nil
	}
	return nil, tokens.ErrNotFound
}

type fakeJWKS struct {
	doc []byte
	err error
}

func (f fakeJWKS) JWKS(context.Context) ([]byte, error) { return f.doc, f.err }

type fakePinger struct{ err error }

func (f fakePinger) Ping(context.Context) error { return f.err }

type fakeCatalog struct{ users map[string]resolvers.Entity }

func (f fakeCatalog) FindUsers(context.Context, map[string]string) ([]resolvers.Entity, error) {
	return nil, nil
}

func (f fakeCatalog) GetEntityByRef(_ context.Context, ref resolvers.EntityRef) (*resolvers.Entity, error) {
	if e, ok := f.users[ref.String()]; ok {
		return &e, nil
	}
	return nil, backstageerr.NotFound("User not found")
}

const aliceUserInfo = `{"claims":{"sub":"user:default/alice","ent":["user:default/alice","group:default/team-a"]}}`

func testConfig() *config.Config {
	return &config.Config{
		App: config.AppConfig{BaseURL: testAppOrigin},
		Backend: config.BackendConfig{
			BaseURL: testBackend,
			Auth: config.BackendAuthConfig{ExternalAccess: []config.ExternalAccess{
				{Type: "static", Token: testStaticToken, Subject: "ci"},
			}},
		},
		Auth: config.AuthConfig{SessionSecret: testSecret},
	}
}

// harness is a Server over fakes, driven in-process.
type harness struct {
	t        testing.TB
	srv      *Server
	handler  http.Handler
	prov     *fakeProvider
	issuer   *fakeIssuer
	verifier *fakeVerifier
	opts     Options
	logs     *bytes.Buffer
}

type harnessOption func(*Options, *fakeProvider)

func newHarness(t testing.TB, mods ...harnessOption) *harness {
	t.Helper()
	now := func() time.Time { return testNow }
	prov := &fakeProvider{}
	logs := &bytes.Buffer{}
	h := &harness{t: t, prov: prov, issuer: newFakeIssuer(now), logs: logs}
	h.verifier = &fakeVerifier{tokens: map[string]tokens.Principal{
		"alice-token":   {Sub: "user:default/alice", ExpiresAt: testNow.Add(time.Hour)},
		"limited-token": {Sub: "user:default/alice", Limited: true, ExpiresAt: testNow.Add(time.Hour)},
		"bob-token":     {Sub: "user:default/bob", ExpiresAt: testNow.Add(time.Hour)},
	}}
	h.opts = Options{
		Logger:     slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Config:     testConfig(),
		Issuer:     h.issuer,
		Verifier:   h.verifier,
		UserInfo:   fakeUserInfo{"user:default/alice": json.RawMessage(aliceUserInfo)},
		UserKeys:   fakeJWKS{doc: []byte(`{"keys":[]}`)},
		PluginKeys: fakeJWKS{doc: []byte(`{"keys":[{"kid":"plugin"}]}`)},
		Providers: []providers.Configured{{ID: testProvider, Kind: providers.KindOAuth, Envs: map[string]*providers.Env{
			"development": {Name: "development", Provider: prov, Resolver: aliceResolver()},
		}}},
		RegisteredIDs: []string{"guest", "oidc", testProvider},
		Now:           now,
	}
	for _, m := range mods {
		m(&h.opts, prov)
	}
	srv, err := New(h.opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	h.handler = srv.Handler()
	return h
}

// devEnv is the test provider's development environment, for options to adjust.
func devEnv(o *Options) *providers.Env { return o.Providers[0].Envs["development"] }

// withGuest configures the guest provider (auth.providers.guest = m), built by the
// registry as cmd builds it, in development mode or not, over cat.
func withGuest(t testing.TB, dev bool, m map[string]any, cat resolvers.Catalog) harnessOption {
	return func(o *Options, _ *fakeProvider) {
		reg, err := providers.NewRegistry(guest.Module)
		if err != nil {
			t.Fatal(err)
		}
		d, ps := reg.Decode(map[string]config.Section{"guest": config.SectionFromMap(m)})
		if err := ps.Err(); err != nil {
			t.Fatal(err)
		}
		built, err := d.Build(providers.BuildDeps{DevelopmentMode: dev, Catalog: cat})
		if err != nil {
			t.Fatal(err)
		}
		o.Config.DevelopmentMode = dev
		o.Providers = append(o.Providers, built...)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// sealedNonce + n as a <p>-nonce cookie value in req.cookies stands for the cookie the
// server sets at /start for a state nonce n (h.do seals it), so tables can name the
// cookies a legitimate browser holds.
const sealedNonce = "sealed-nonce:"

// req describes one request.
type req struct {
	method  string
	target  string
	headers map[string]string
	cookies map[string]string // raw (already encoded) cookie values
	form    url.Values
}

func (h *harness) do(r req) *httptest.ResponseRecorder {
	h.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr := httptest.NewRequest(r.method, r.target, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	if len(r.cookies) > 0 {
		parts := make([]string, 0, len(r.cookies))
		for k, v := range r.cookies {
			if n, ok := strings.CutPrefix(v, sealedNonce); ok {
				v = h.nonceCookie(strings.TrimSuffix(k, "-nonce"), n)
			}
			parts = append(parts, k+"="+v)
		}
		hr.Header.Set("Cookie", strings.Join(parts, "; "))
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, hr)
	return rec
}

// nonceCookie is the <p>-nonce cookie value /start would have set for state nonce n.
func (h *harness) nonceCookie(providerID, n string) string {
	h.t.Helper()
	v, _, err := h.srv.newNonceCookie(providerID, n)
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

var xrw = map[string]string{"X-Requested-With": "XMLHttpRequest"}

// setCookies maps cookie name -> raw value for cookies set (not deleted) by rec,
// plus the full Set-Cookie lines.
func setCookies(rec *httptest.ResponseRecorder) (set map[string]string, lines []string) {
	set = map[string]string{}
	lines = rec.Result().Header.Values("Set-Cookie")
	for _, l := range lines {
		first, _, _ := strings.Cut(l, ";")
		name, value, _ := strings.Cut(first, "=")
		if strings.Contains(l, "Max-Age=0") {
			continue
		}
		set[name] = value
	}
	return set, lines
}

// errorResponse is the decoded Backstage error JSON.
type errorResponse struct {
	Error struct {
		Name    string `json:"name"`
		Message string `json:"message"`
		Stack   string `json:"stack"`
		Cause   *struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"cause"`
	} `json:"error"`
	Request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response struct {
		StatusCode int `json:"statusCode"`
	} `json:"response"`
}

// anyMessage makes checkError skip the message comparison.
const anyMessage = "\x00any"

func checkError(t *testing.T, rec *httptest.ResponseRecorder, status int, name, message string) errorResponse {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var e errorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, rec.Body.String())
	}
	if e.Error.Name != name || (message != anyMessage && e.Error.Message != message) {
		t.Errorf("error = %s: %q, want %s: %q", e.Error.Name, e.Error.Message, name, message)
	}
	if e.Response.StatusCode != status {
		t.Errorf("response.statusCode = %d", e.Response.StatusCode)
	}
	return e
}

var (
	scriptRE = regexp.MustCompile(`(?s)^<html><body><script>(.*)</script></body></html>$`)
	dataRE   = regexp.MustCompile(`decodeURIComponent\('([^']*)'\)`)
)

// framePage is a parsed popup page.
type framePage struct {
	script  string
	message map[string]any
	raw     string // the decoded message JSON
	origin  string
}

func parseFramePage(t *testing.T, rec *httptest.ResponseRecorder) framePage {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("frame status = %d: %s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html" {
		t.Errorf("frame Content-Type = %q", ct)
	}
	if xfo := rec.Header().Get("X-Frame-Options"); xfo != "sameorigin" {
		t.Errorf("X-Frame-Options = %q", xfo)
	}
	m := scriptRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("frame body has an unexpected shape: %s", rec.Body.String())
	}
	script := m[1]
	if got, want := rec.Header().Get("Content-Security-Policy"), "script-src "+scriptHash(script); got != want {
		t.Errorf("frame CSP = %q, want %q", got, want)
	}
	vals := dataRE.FindAllStringSubmatch(script, -1)
	if len(vals) != 2 {
		t.Fatalf("script has %d decodeURIComponent calls", len(vals))
	}
	raw, err := url.PathUnescape(vals[0][1])
	if err != nil {
		t.Fatal(err)
	}
	origin, err := url.PathUnescape(vals[1][1])
	if err != nil {
		t.Fatal(err)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(raw), &msg); err != nil {
		t.Fatalf("message is not JSON: %v: %s", err, raw)
	}
	if msg["type"] != "authorization_response" {
		t.Errorf("message type = %v", msg["type"])
	}
	return framePage{script: script, message: msg, raw: raw, origin: origin}
}

// signIn runs start + frame for the popup flow and returns the cookies the browser
// would then hold (raw values) and the frame response.
func (h *harness) signIn(t *testing.T, startQuery string) (map[string]string, *httptest.ResponseRecorder) {
	t.Helper()
	rec := h.do(req{target: "/api/auth/" + testProvider + "/start?" + startQuery})
	if rec.Code != http.StatusFound {
		t.Fatalf("start status = %d: %s", rec.Code, rec.Body.String())
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	state := loc.Query().Get("state")
	jar, _ := setCookies(rec)
	nonce := jar[testProvider+"-nonce"]
	if nonce == "" {
		t.Fatalf("start set no nonce cookie")
	}
	frame := h.do(req{
		target:  "/api/auth/" + testProvider + "/handler/frame?code=good-code&state=" + state,
		cookies: map[string]string{testProvider + "-nonce": nonce},
	})
	set, _ := setCookies(frame)
	return set, frame
}

func mustDecodeState(t *testing.T, location string) oauthstate.State {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	st, err := oauthstate.Decode(u.Query().Get("state"))
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	return st
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// sealedCookie seals ss the way the server does for the test provider's env.
func (h *harness) sealedCookie(t testing.TB, ss sealedSession) string {
	t.Helper()
	v, err := h.srv.seal(h.srv.oauth[testProvider].envs["development"], ss)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
