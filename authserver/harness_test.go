package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/authdb"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

const (
	testBackend     = "http://localhost:7007"
	testApp         = "http://app.test"
	testStaticToken = "static-service-token-0123456789"
	publicClient    = "cli-public"
	confClient      = "ci-confidential"
	confSecret      = "s3cr3t-value"
	publicRedirect  = "http://127.0.0.1:8055/callback"
	confRedirect    = "https://ci.example.com/cb?x=1"
	jane            = "user:default/jane"
)

// users is a catalog of present users.
type users struct {
	mu      sync.Mutex
	present map[string]bool
	err     error
}

func (u *users) UserExists(_ context.Context, ref string) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.present[ref], u.err
}

// auditLog collects audit events.
type auditLog struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *auditLog) Enabled(context.Context, audit.Severity) bool { return true }
func (a *auditLog) Audit(_ context.Context, e audit.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *auditLog) find(id, outcome string) *audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.events {
		if a.events[i].ID == id && (outcome == "" || a.events[i].Outcome == outcome) {
			return &a.events[i]
		}
	}
	return nil
}

type harness struct {
	t       testing.TB
	srv     *Server
	handler http.Handler
	db      *authdb.DB
	issuer  *tokens.Issuer
	users   *users
	audit   *auditLog
	now     time.Time
	nowMu   sync.Mutex
}

func (h *harness) clock() time.Time {
	h.nowMu.Lock()
	defer h.nowMu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.nowMu.Lock()
	h.now = h.now.Add(d)
	h.nowMu.Unlock()
}

// defaultAuth is an auth section with a public and a confidential static client, CIMD
// and refresh tokens.
func defaultAuth() map[string]any {
	return map[string]any{
		"staticClients": []any{
			map[string]any{"clientId": publicClient, "clientName": "Public CLI", "redirectUris": []any{publicRedirect}},
			map[string]any{"clientId": confClient, "clientSecret": confSecret, "redirectUris": []any{confRedirect}},
		},
		"clientIdMetadataDocuments": map[string]any{"enabled": true, "allowedClientIdPatterns": []any{"http://127.0.0.1:*/*"}},
		"experimentalRefreshToken":  map[string]any{"enabled": true},
	}
}

func newHarness(t testing.TB, auth map[string]any, tweak ...func(*Options)) *harness {
	t.Helper()
	db, err := authdb.Open(context.Background(), authdb.Options{Client: "sqlite", SQLitePath: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cfg := &config.Config{
		App:             config.AppConfig{BaseURL: testApp},
		Backend:         config.BackendConfig{BaseURL: testBackend, Auth: config.BackendAuthConfig{ExternalAccess: []config.ExternalAccess{{Type: "static", Token: testStaticToken, Subject: "ci"}}}},
		Auth:            config.AuthConfig{BackstageTokenExpiration: time.Hour},
		DevelopmentMode: true,
	}
	st, problems := DecodeSettings(config.SectionFromMap(auth))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, users: &users{present: map[string]bool{jane: true}}, audit: &auditLog{}, now: time.Now().UTC()}
	keys := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: signingkeys.NewMemoryKeyStore(), KeyDuration: time.Hour})
	h.issuer = tokens.NewIssuer(tokens.IssuerOptions{Issuer: cfg.AuthBaseURL(), Keys: keys, Expiration: time.Hour, OmitOwnershipClaim: true, UserInfo: db.UserInfo()})
	opts := Options{
		Config: cfg, Settings: st, Sessions: db.OAuthSessions(), Codes: db.OIDCCodes(), Offline: db.OfflineSessions(),
		Issuer: h.issuer, Verifier: tokens.NewVerifier(keys, nil), Users: h.users, Auditor: h.audit, Now: h.clock,
	}
	for _, f := range tweak {
		f(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.handler = mountForTest(srv)
	return h
}

// mountForTest serves the routes on a ServeMux the way authbackend does: under
// /api/auth, path values set, returned errors as Backstage-style error JSON.
func mountForTest(s *Server) http.Handler {
	mux := http.NewServeMux()
	s.Mount(func(method, path string, _ bool, h func(http.ResponseWriter, *http.Request) error) {
		segs := strings.Split(path, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, ":") {
				segs[i] = "{" + seg[1:] + "}"
			}
		}
		mux.HandleFunc(method+" /api/auth"+strings.Join(segs, "/"), func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				be, ok := backstageerr.As(err)
				if !ok {
					be = backstageerr.Plain("An internal error occurred")
				}
				body, _ := jsrules.Marshal(map[string]any{"error": map[string]any{"name": be.Name, "message": be.Message}})
				writeJSON(w, r, backstageerr.Status(be.Name), body)
			}
		})
	})
	return mux
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// oauthErr asserts an OAuth error answer.
func (r resp) oauthErr(t testing.TB, status int, code, desc string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (%s)", r.status, status, r.body)
	}
	m := r.json(t)
	if m["error"] != code || (desc != "" && m["error_description"] != desc) {
		t.Fatalf("error %v %q, want %s %q", m["error"], m["error_description"], code, desc)
	}
	if status == 401 && code == "invalid_client" && r.header.Get("WWW-Authenticate") != `Basic realm="auth"` {
		t.Fatalf("401 invalid_client without WWW-Authenticate")
	}
	if r.header.Get("Location") != "" {
		t.Fatalf("error answer redirects to %s", r.header.Get("Location"))
	}
}

// backstageErr asserts a Backstage error answer.
func (r resp) backstageErr(t testing.TB, status int, name, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (%s)", r.status, status, r.body)
	}
	e, _ := r.json(t)["error"].(map[string]any)
	if e["name"] != name || (msg != "" && e["message"] != msg) {
		t.Fatalf("error %v %q, want %s %q", e["name"], e["message"], name, msg)
	}
	if r.header.Get("Location") != "" {
		t.Fatalf("error answer redirects to %s", r.header.Get("Location"))
	}
}

func (h *harness) do(method, path string, header http.Header, body string) resp {
	h.t.Helper()
	req := httptest.NewRequest(method, testBackend+path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return resp{status: rec.Code, header: rec.Header(), body: b}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func basic(id, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
}

func (h *harness) userToken(sub string) string {
	h.t.Helper()
	tok, err := h.issuer.IssueUserToken(context.Background(), tokens.UserClaims{Sub: sub})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok.Token
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// authorizeQuery builds /v1/authorize's query.
func authorizeQuery(clientID, redirectURI, scope string) string {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "state": {"st 1"},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}}
	if scope != "" {
		q.Set("scope", scope)
	}
	return "/api/auth/v1/authorize?" + q.Encode()
}

// startSession runs /v1/authorize and returns the session id.
func (h *harness) startSession(clientID, redirectURI, scope string) string {
	h.t.Helper()
	r := h.do("GET", authorizeQuery(clientID, redirectURI, scope), nil, "")
	if r.status != http.StatusFound {
		h.t.Fatalf("authorize: %d %s", r.status, r.body)
	}
	loc := r.header.Get("Location")
	const prefix = testApp + "/oauth2/authorize/"
	if !strings.HasPrefix(loc, prefix) {
		h.t.Fatalf("authorize redirected to %s", loc)
	}
	return strings.TrimPrefix(loc, prefix)
}

// approveCode approves a session as user and returns the code.
func (h *harness) approveCode(session, user string) string {
	h.t.Helper()
	r := h.do("POST", "/api/auth/v1/sessions/"+session+"/approve", bearer(h.userToken(user)), "")
	if r.status != 200 {
		h.t.Fatalf("approve: %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.json(h.t)["redirectUrl"].(string))
	if err != nil {
		h.t.Fatal(err)
	}
	return u.Query().Get("code")
}

func codeForm(code, redirectURI, clientID string) string {
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	if clientID != "" {
		v.Set("client_id", clientID)
	}
	return v.Encode()
}

func refreshForm(token, clientID string) string {
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	if clientID != "" {
		v.Set("client_id", clientID)
	}
	return v.Encode()
}

// publicTokens runs the public static client's flow with offline_access.
func (h *harness) publicTokens() map[string]any {
	h.t.Helper()
	code := h.approveCode(h.startSession(publicClient, publicRedirect, "openid offline_access"), jane)
	r := h.do("POST", "/api/auth/v1/token", nil, codeForm(code, publicRedirect, publicClient))
	if r.status != 200 {
		h.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return r.json(h.t)
}

func userClaimsNoInfo(sub string) tokens.UserClaims {
	return tokens.UserClaims{Sub: sub, NoUserInfo: true}
}

func mapSection(m map[string]any) config.Section { return config.SectionFromMap(m) }

// parallel runs f n times concurrently and counts the calls that return true.
func parallel(n int, f func() bool) int {
	var won atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f() {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(won.Load())
}
