package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	jwt "github.com/golang-jwt/jwt/v5"
)

const opsStaticToken = "offboarding-token-0123456789abcdef"

// extraConfig writes a second app-config (merged over the first, as Backstage merges
// --config files) and returns its --config arguments.
func extraConfig(t *testing.T, yaml string) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "extra.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", p}
}

// twoReplicas starts two servers on one PostgreSQL database with the mock Palette and
// an externalAccess static token.
func twoReplicas(t *testing.T) (*mockIdP, *server, *server) {
	t.Helper()
	dsn, prefix := pgPrefix(t)
	mock := startMock(t)
	db := pgDatabaseYAML(t, dsn, prefix)
	extra := extraConfig(t, "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options:\n          token: "+opsStaticToken+"\n          subject: offboarding-job\n")
	var a, b *server
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = startOpsServer(t, serverConfig{Mock: mock, Database: db}, nil, extra...) }()
	go func() { defer wg.Done(); b = startOpsServer(t, serverConfig{Mock: mock, Database: db}, nil, extra...) }()
	wg.Wait()
	if a == nil || b == nil {
		t.Fatal("a replica did not start")
	}
	return mock, a, b
}

// refreshWith refreshes at s with exactly this refresh cookie (a copy of it, as an
// attacker who copied it would send).
func refreshWith(t *testing.T, s *server, cookie string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, refreshURL(s), nil)
	req.Header.Set(xrw, "XMLHttpRequest")
	req.Header.Set("Cookie", "spectrocloud-refresh-token="+cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func signedIn(t *testing.T, s *server) (*browser, string) {
	t.Helper()
	b := newBrowser(t, s.AppURL)
	msg := signInPopup(t, b, s)
	if msg["response"] == nil {
		t.Fatalf("sign-in failed: %v", msg)
	}
	cookie, ok := b.cookie(s.auth("/spectrocloud/refresh"), "spectrocloud-refresh-token")
	if !ok || cookie == "" {
		t.Fatal("no refresh cookie after sign-in")
	}
	return b, cookie
}

// revokedWithin refreshes at s with cookie until it is refused as revoked, failing
// after bound; it returns how long that took. The revocation reaches other replicas
// over NOTIFY, applied in memory there: milliseconds, not a poll interval.
func revokedWithin(t *testing.T, s *server, cookie string, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		code, body := refreshWith(t, s, cookie)
		if code == 401 && strings.Contains(body, "Session revoked, please sign in again") {
			return time.Since(start)
		}
		if code != 200 || time.Since(start) > bound {
			t.Fatalf("refresh at %s after the revocation: %d %s", s.URL, code, body)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// revocationBound is how soon another replica must refuse a revoked session. The
// revoking replica answers after its own notification came back from PostgreSQL, which
// sends it to every listener at once; the others apply it within milliseconds.
const revocationBound = 500 * time.Millisecond

// Logout on replica A ends the session on replica B: a copy of the refresh cookie that
// refreshed at B a moment ago is refused there within milliseconds of the logout's
// answer (Palette has no refresh grant, so before this only the cookie's own end
// stopped it). The revocation is audited at A.
func TestLogoutOnOneReplicaEndsTheSessionOnAll(t *testing.T) {
	_, a, b := twoReplicas(t)
	br, cookie := signedIn(t, a)
	if code, body := refreshWith(t, b, cookie); code != 200 {
		t.Fatalf("refresh at B before logout: %d %s", code, body)
	}
	if r, body := br.do(http.MethodPost, a.auth("/spectrocloud/logout?env=development"), xrw, "XMLHttpRequest"); r.StatusCode != 200 {
		t.Fatalf("logout at A: %d %s", r.StatusCode, body)
	}
	t.Logf("replica B refused the session %v after A's logout answered", revokedWithin(t, b, cookie, revocationBound))
	if code, _ := refreshWith(t, a, cookie); code != 401 {
		t.Fatalf("refresh at A after logout: %d", code)
	}
	if findRecord(auditRecords(t, a.proc.out.String()), map[string]any{"eventId": "session-revoke", "actor.actorId": "user:default/alice", "meta.reason": "logout"}) == nil {
		t.Errorf("no session-revoke audit record at A:\n%s", a.proc.out.String())
	}
	// A new sign-in of the same user is a new session and works everywhere.
	_, fresh := signedIn(t, b)
	if code, body := refreshWith(t, a, fresh); code != 200 {
		t.Fatalf("refresh of a new session: %d %s", code, body)
	}
}

func offboard(t *testing.T, s *server, auth, user string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.auth("/v1/offline-sessions/revoke"), strings.NewReader(`{"userEntityRef":"`+user+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The offboarding endpoint ends every session of a user on every replica, reports how
// many, and refuses user tokens and missing credentials.
func TestOffboardingEndsEverySessionOfAUser(t *testing.T) {
	mock, a, b := twoReplicas(t)
	_, c1 := signedIn(t, a)
	_, c2 := signedIn(t, b)
	mock.next(t, "email=carol@example.com")
	_, carol := signedIn(t, a)

	// A user token, even alice's own, is refused.
	r, body := newBrowser(t, a.AppURL).get(refreshURL(a), xrw, "XMLHttpRequest", "Cookie", "spectrocloud-refresh-token="+c1)
	token, _ := dig(jsonBody(t, body), "backstageIdentity", "token").(string)
	if r.StatusCode != 200 || token == "" {
		t.Fatalf("refresh: %d %s", r.StatusCode, body)
	}
	if code, body := offboard(t, b, "Bearer "+token, "alice"); code != 403 || !strings.Contains(body, "This endpoint does not allow 'user' credentials") {
		t.Fatalf("user token: %d %s", code, body)
	}
	if code, body := offboard(t, b, "", "alice"); code != 401 || !strings.Contains(body, "Missing credentials") {
		t.Fatalf("no credentials: %d %s", code, body)
	}
	if code, _ := refreshWith(t, a, c1); code != 200 {
		t.Fatal("a refused offboarding request ended a session")
	}

	if code, body := offboard(t, b, "Bearer "+opsStaticToken, "user:default/alice"); code != 200 || body != `{"revokedCount":2}` {
		t.Fatalf("offboarding: %d %s", code, body)
	}
	for _, s := range []*server{a, b} {
		for _, c := range []string{c1, c2} {
			revokedWithin(t, s, c, revocationBound)
		}
		if code, _ := refreshWith(t, s, carol); code != 200 {
			t.Fatalf("carol's session at %s after alice's offboarding: %d", s.URL, code)
		}
	}
	if findRecord(auditRecords(t, b.proc.out.String()), map[string]any{"eventId": "offline-sessions-revoke",
		"actor.actorId": "external:offboarding-job", "meta.userEntityRef": "user:default/alice", "meta.revokedCount": float64(2)}) == nil {
		t.Errorf("no offline-sessions-revoke audit record:\n%s", b.proc.out.String())
	}
	if code, body := offboard(t, a, "Bearer "+opsStaticToken, "alice"); code != 200 || body != `{"revokedCount":0}` {
		t.Fatalf("second offboarding: %d %s", code, body)
	}
}

// A plugin token from another backend plugin (here "user-sync", whose keys discovery
// finds at its own JWKS) is service credentials for the offboarding endpoint; one
// signed with another key is refused.
func TestOffboardingAcceptsPluginTokens(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), cryptorand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "sync-1", Algorithm: "ES256", Use: "sig"}}})
	plugin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/user-sync/.backstage/auth/v1/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(plugin.Close)
	mint := func(key *ecdsa.PrivateKey, aud string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "user-sync", "aud": aud, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["typ"] = "vnd.backstage.plugin"
		tok.Header["kid"] = "sync-1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	mock := startMock(t)
	s := startOpsServer(t, serverConfig{Mock: mock,
		Extra: "discovery:\n  endpoints:\n    - target: " + plugin.URL + "/api/{{pluginId}}\n      plugins: [user-sync]\n"}, nil)
	_, cookie := signedIn(t, s)

	other, _ := ecdsa.GenerateKey(elliptic.P256(), cryptorand.Reader)
	if code, body := offboard(t, s, "Bearer "+mint(other, "auth"), "alice"); code != 401 {
		t.Fatalf("plugin token signed with another key: %d %s", code, body)
	}
	if code, body := offboard(t, s, "Bearer "+mint(priv, "catalog"), "alice"); code != 401 {
		t.Fatalf("plugin token for another audience: %d %s", code, body)
	}
	if code, body := offboard(t, s, "Bearer "+mint(priv, "auth"), "alice"); code != 200 || body != `{"revokedCount":1}` {
		t.Fatalf("plugin token: %d %s", code, body)
	}
	if code, _ := refreshWith(t, s, cookie); code != 401 {
		t.Fatalf("refresh after offboarding: %d", code)
	}
	if findRecord(auditRecords(t, s.proc.out.String()), map[string]any{"eventId": "offline-sessions-revoke", "actor.actorId": "plugin:user-sync"}) == nil {
		t.Error("no audit record with the plugin as actor")
	}
}
