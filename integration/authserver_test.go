package integration

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The authorization server through the real binary: an MCP-style client identified
// by a Client ID Metadata Document served on loopback (development mode), consent
// approved with a user token from a real sign-in, the code exchanged, the refresh
// token rotated, replayed and revoked, and the offline sessions of a user revoked
// with a service token; a confidential static client; the discovery documents.

const (
	asStaticToken = "integration-static-service-token-0123456789"
	asVerifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

type asClient struct {
	t      *testing.T
	s      *server
	http   *http.Client
	userTK string
}

func startAuthServerStack(t *testing.T) (*asClient, *httptest.Server) {
	t.Helper()
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host
		switch r.URL.Path {
		case "/mcp-client.json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"client_id":%q,"client_name":"Test MCP client","redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none"}`, base+r.URL.Path)
		case "/with-secret.json":
			fmt.Fprintf(w, `{"client_id":%q,"redirect_uris":["http://127.0.0.1/cb"],"client_secret":"x"}`, base+r.URL.Path)
		case "/big.json":
			fmt.Fprintf(w, `{"client_id":%q,"redirect_uris":["http://127.0.0.1/cb"],"pad":%q}`, base+r.URL.Path, strings.Repeat("x", 70*1024))
		case "/redirects.json":
			http.Redirect(w, r, "/mcp-client.json", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(docs.Close)
	mock := startMock(t)
	s := startServer(t, serverConfig{Mock: mock, Auth: `  staticClients:
    - clientId: ci-bot
      clientName: CI bot
      clientSecret: ci-bot-secret
      redirectUris: [https://ci.example.com/callback]
    - clientId: desktop
      redirectUris: ["http://127.0.0.1:8999/cb"]
  clientIdMetadataDocuments:
    enabled: true
    allowedClientIdPatterns: ["http://127.0.0.1:*/*", "https://127.0.0.2:*/*"]
  experimentalRefreshToken:
    enabled: true`},
		"NODE_ENV=development",
		`APP_CONFIG_backend_auth_externalAccess=[{"type":"static","options":{"token":"`+asStaticToken+`","subject":"ops"}}]`)
	// A real sign-in (popup flow against the mock IdP) gives alice's user token.
	b := newBrowser(t, s.AppURL)
	resp, body := b.get(startURL(s, "&flow=popup"))
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	tok, _ := dig(popupMessage(t, body), "response", "backstageIdentity", "token").(string)
	if tok == "" {
		t.Fatal("no user token from sign-in")
	}
	c := &asClient{t: t, s: s, userTK: tok, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return c, docs
}

func (c *asClient) do(method, path, body string, header ...string) (*http.Response, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.s.auth(path), strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m == nil {
		m = map[string]any{"_raw": string(raw)}
	}
	return resp, m
}

func (c *asClient) expectOAuth(resp *http.Response, m map[string]any, status int, code, desc string) {
	c.t.Helper()
	if resp.StatusCode != status || m["error"] != code || (desc != "" && m["error_description"] != desc) {
		c.t.Fatalf("got %d %v, want %d %s %q", resp.StatusCode, m, status, code, desc)
	}
	if resp.Header.Get("Location") != "" {
		c.t.Fatalf("error redirected to %s", resp.Header.Get("Location"))
	}
}

func (c *asClient) expectBackstage(resp *http.Response, m map[string]any, status int, name, msg string) {
	c.t.Helper()
	e, _ := m["error"].(map[string]any)
	if resp.StatusCode != status || e["name"] != name || (msg != "" && e["message"] != msg) {
		c.t.Fatalf("got %d %v, want %d %s %q", resp.StatusCode, m, status, name, msg)
	}
	if resp.Header.Get("Location") != "" {
		c.t.Fatalf("error redirected to %s", resp.Header.Get("Location"))
	}
}

func asChallenge(v string) string {
	s := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

func (c *asClient) authorize(clientID, redirectURI, scope string) string {
	c.t.Helper()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {scope},
		"state": {"xyz"}, "code_challenge": {asChallenge(asVerifier)}, "code_challenge_method": {"S256"}}
	resp, m := c.do("GET", "/v1/authorize?"+q.Encode(), "")
	loc := resp.Header.Get("Location")
	prefix := c.s.AppURL + "/oauth2/authorize/"
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, prefix) {
		c.t.Fatalf("authorize: %d %s %v", resp.StatusCode, loc, m)
	}
	return strings.TrimPrefix(loc, prefix)
}

func (c *asClient) approve(session string) string {
	c.t.Helper()
	resp, m := c.do("POST", "/v1/sessions/"+session+"/approve", "", "Authorization", "Bearer "+c.userTK)
	if resp.StatusCode != 200 {
		c.t.Fatalf("approve: %d %v", resp.StatusCode, m)
	}
	u, _ := url.Parse(m["redirectUrl"].(string))
	if u.Query().Get("state") != "xyz" {
		c.t.Fatalf("redirectUrl %s", u)
	}
	return u.Query().Get("code")
}

func TestAuthorizationServerMCPFlow(t *testing.T) {
	c, docs := startAuthServerStack(t)
	client := docs.URL + "/mcp-client.json"
	redirect := "http://127.0.0.1:50123/callback" // loopback: any port (RFC 8252)

	// Discovery, Backstage's and RFC 8414's.
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, m := c.do("GET", p, "")
		if resp.StatusCode != 200 || m["revocation_endpoint"] != c.s.auth("/v1/revoke") || m["client_id_metadata_document_supported"] != true ||
			fmt.Sprint(m["grant_types_supported"]) != "[authorization_code refresh_token]" ||
			fmt.Sprint(m["token_endpoint_auth_methods_supported"]) != "[client_secret_basic client_secret_post none]" {
			t.Fatalf("%s: %d %v", p, resp.StatusCode, m)
		}
	}
	if resp, err := http.Get(c.s.URL + "/.well-known/oauth-authorization-server/api/auth"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("RFC 8414 path-inserted metadata: %v %v", resp, err)
	}

	session := c.authorize(client, redirect, "openid offline_access")
	resp, m := c.do("GET", "/v1/sessions/"+session, "")
	if resp.StatusCode != 200 || m["clientName"] != "Test MCP client" || m["redirectUri"] != redirect {
		t.Fatalf("session: %d %v", resp.StatusCode, m)
	}
	resp, m = c.do("POST", "/v1/sessions/"+session+"/approve", "", "Authorization", "Bearer "+asStaticToken)
	c.expectOAuth(resp, m, 403, "access_denied", "Authentication required")
	code := c.approve(session)

	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {asVerifier}, "client_id": {client}}
	resp, m = c.do("POST", "/v1/token", form.Encode())
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || m["token_type"] != "Bearer" || m["scope"] != "openid offline_access" {
		t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	access, refresh := m["access_token"].(string), m["refresh_token"].(string)
	// The access token is a Backstage user token for alice: userinfo accepts it.
	resp, m = c.do("GET", "/v1/userinfo", "", "Authorization", "Bearer "+access)
	if resp.StatusCode != 200 || dig(m, "claims", "sub") != "user:default/alice" {
		t.Fatalf("userinfo with the access token: %d %v", resp.StatusCode, m)
	}
	// Code replay.
	resp, m = c.do("POST", "/v1/token", form.Encode())
	c.expectOAuth(resp, m, 400, "invalid_grant", "Authorization code already used")

	// The replay revoked the refresh token; a new consent gives a fresh one.
	resp, m = c.do("POST", "/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {client}}.Encode())
	c.expectOAuth(resp, m, 400, "invalid_grant", "Invalid refresh token")
	form.Set("code", c.approve(c.authorize(client, redirect, "openid offline_access")))
	_, m = c.do("POST", "/v1/token", form.Encode())
	refresh = m["refresh_token"].(string)

	// Rotation, then replay of the rotated token burns the session.
	refreshForm := func(tok string) string {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}, "client_id": {client}}.Encode()
	}
	resp, m = c.do("POST", "/v1/token", refreshForm(refresh))
	if resp.StatusCode != 200 || m["refresh_token"] == refresh {
		t.Fatalf("refresh: %d %v", resp.StatusCode, m)
	}
	rotated := m["refresh_token"].(string)
	resp, m = c.do("POST", "/v1/token", refreshForm(rotated))
	if resp.StatusCode != 200 {
		t.Fatalf("second refresh: %d %v", resp.StatusCode, m)
	}
	current := m["refresh_token"].(string)
	resp, m = c.do("POST", "/v1/token", refreshForm(rotated))
	c.expectOAuth(resp, m, 400, "invalid_grant", "Invalid refresh token")
	resp, m = c.do("POST", "/v1/token", refreshForm(current))
	c.expectOAuth(resp, m, 400, "invalid_grant", "Invalid refresh token")

	// Parallel use of one refresh token rotates once.
	form.Set("code", c.approve(c.authorize(client, redirect, "openid offline_access")))
	_, m = c.do("POST", "/v1/token", form.Encode())
	refresh = m["refresh_token"].(string)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, _ := c.do("POST", "/v1/token", refreshForm(refresh)); resp.StatusCode == 200 {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d parallel refreshes won", wins.Load())
	}

	// Revoke: a forged secret for the same session id does nothing; the real token
	// (from a fresh consent) is revoked.
	form.Set("code", c.approve(c.authorize(client, redirect, "openid offline_access")))
	_, m = c.do("POST", "/v1/token", form.Encode())
	refresh = m["refresh_token"].(string)
	id := strings.Split(refresh, ".")[0]
	resp, _ = c.do("POST", "/v1/revoke", url.Values{"token": {id + ".forged"}, "client_id": {client}}.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("revoke forged: %d", resp.StatusCode)
	}
	resp, m = c.do("POST", "/v1/token", refreshForm(refresh))
	if resp.StatusCode != 200 {
		t.Fatalf("a forged revocation revoked the session: %d %v", resp.StatusCode, m)
	}
	refresh = m["refresh_token"].(string)
	resp, _ = c.do("POST", "/v1/revoke", url.Values{"token": {refresh}, "client_id": {client}}.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp, m = c.do("POST", "/v1/token", refreshForm(refresh))
	c.expectOAuth(resp, m, 400, "invalid_grant", "Invalid refresh token")

	// Offline-session revocation, service credentials only.
	form.Set("code", c.approve(c.authorize(client, redirect, "openid offline_access")))
	c.do("POST", "/v1/token", form.Encode())
	resp, m = c.do("POST", "/v1/offline-sessions/revoke", `{"userEntityRef":"alice"}`, "Content-Type", "application/json", "Authorization", "Bearer "+c.userTK)
	c.expectBackstage(resp, m, 403, "NotAllowedError", "This endpoint does not allow 'user' credentials")
	resp, m = c.do("POST", "/v1/offline-sessions/revoke", `{"userEntityRef":"alice"}`, "Content-Type", "application/json")
	c.expectBackstage(resp, m, 401, "AuthenticationError", "Missing credentials")
	resp, m = c.do("POST", "/v1/offline-sessions/revoke", `{"userEntityRef":"alice"}`, "Content-Type", "application/json", "Authorization", "Bearer "+asStaticToken)
	// Offboarding ends the offline session and alice's sign-in session (whose token
	// approved the consent) together.
	if resp.StatusCode != 200 || m["revokedCount"] != float64(2) {
		t.Fatalf("offline-sessions/revoke: %d %v", resp.StatusCode, m)
	}
	// The process's output is copied asynchronously: wait for the last record.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(c.s.proc.out.String(), "offline-sessions-revoke") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(c.s.proc.out.String(), "offline-sessions-revoke") || !strings.Contains(c.s.proc.out.String(), "oidc-token-replay") {
		t.Errorf("audit events missing from the log")
	}
	if strings.Contains(c.s.proc.out.String(), refresh) || strings.Contains(c.s.proc.out.String(), code) {
		t.Errorf("a token or code reached the log")
	}
}

func TestAuthorizationServerRefusals(t *testing.T) {
	c, docs := startAuthServerStack(t)
	q := func(clientID, redirectURI string, mod func(url.Values)) string {
		v := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
			"code_challenge": {asChallenge(asVerifier)}, "code_challenge_method": {"S256"}}
		if mod != nil {
			mod(v)
		}
		return "/v1/authorize?" + v.Encode()
	}
	mcp := docs.URL + "/mcp-client.json"
	for _, tc := range []struct {
		name, path, msg string
	}{
		{"no pkce", q(mcp, "http://127.0.0.1/callback", func(v url.Values) { v.Del("code_challenge") }), "PKCE is required for all clients. Provide a code_challenge parameter."},
		{"plain", q(mcp, "http://127.0.0.1/callback", func(v url.Values) { v.Set("code_challenge_method", "plain") }), "Invalid code_challenge_method"},
		{"implicit", q(mcp, "http://127.0.0.1/callback", func(v url.Values) { v.Set("response_type", "token") }), "Only authorization code flow is supported"},
		{"static redirect mismatch", q("ci-bot", "https://evil.example/callback", nil), "Invalid redirect_uri 'https://evil.example/callback'"},
		{"unknown client", q("nobody", "http://127.0.0.1/callback", nil), "Invalid client_id: not a valid URL"},
		{"cimd secret", q(docs.URL+"/with-secret.json", "http://127.0.0.1/cb", nil), "Client metadata must not contain client_secret"},
		{"cimd redirects", q(docs.URL+"/redirects.json", "http://127.0.0.1/cb", nil), "Failed to fetch client metadata"},
		{"cimd redirect not registered", q(mcp, "http://127.0.0.1:1/elsewhere", nil), "Invalid redirect_uri 'http://127.0.0.1:1/elsewhere', not registered in client metadata"},
		{"cimd query", q(mcp+"?a=b", "http://127.0.0.1/callback", nil), "Invalid client_id: must not contain a query string"},
		{"cimd fragment", q(mcp+"#f", "http://127.0.0.1/callback", nil), "Invalid client_id: must not contain a fragment"},
		{"cimd dot segments", q(docs.URL+"/x/../mcp-client.json", "http://127.0.0.1/callback", nil), "Invalid client_id: path must not contain dot segments"},
		{"cimd oversized", q(docs.URL+"/big.json", "http://127.0.0.1/cb", nil), "Client metadata document too large"},
		{"cimd private address", q("https://127.0.0.2:9/client.json", "http://127.0.0.1/cb", nil), "Invalid client_id URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, m := c.do("GET", tc.path, "")
			c.expectBackstage(resp, m, 400, "InputError", tc.msg)
		})
	}

	// A confidential static client: secret required, compared exactly.
	code := c.approve(c.authorize("ci-bot", "https://ci.example.com/callback", "openid"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://ci.example.com/callback"}, "code_verifier": {asVerifier}}
	resp, m := c.do("POST", "/v1/token", form.Encode())
	c.expectOAuth(resp, m, 401, "invalid_client", "Client authentication required")
	if resp.Header.Get("WWW-Authenticate") != `Basic realm="auth"` {
		t.Fatal("no WWW-Authenticate")
	}
	resp, m = c.do("POST", "/v1/token", form.Encode(), "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ci-bot:wrong")))
	c.expectOAuth(resp, m, 401, "invalid_client", "Invalid client credentials")
	resp, m = c.do("POST", "/v1/token", form.Encode(), "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(":x")))
	c.expectOAuth(resp, m, 401, "invalid_client", "Invalid client credentials")
	resp, m = c.do("POST", "/v1/token", form.Encode(), "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ci-bot:ci-bot-secret")))
	if resp.StatusCode != 200 || m["refresh_token"] != nil {
		t.Fatalf("confidential token: %d %v", resp.StatusCode, m)
	}

	// A public static client: failed exchanges do not burn the code; the good one does.
	code = c.approve(c.authorize("desktop", "http://127.0.0.1:8999/cb", "openid"))
	good := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:8999/cb"}, "code_verifier": {asVerifier}, "client_id": {"desktop"}}
	for _, bad := range []struct{ key, value, desc string }{
		{"redirect_uri", "http://127.0.0.1:8999/other", "Redirect URI mismatch"},
		{"code_verifier", "wrong-verifier", "Invalid code verifier"},
		{"client_id", "ci-bot-other", "Client ID mismatch"},
	} {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		f.Set(bad.key, bad.value)
		resp, m = c.do("POST", "/v1/token", f.Encode())
		c.expectOAuth(resp, m, 400, "invalid_grant", bad.desc)
	}
	if resp, m = c.do("POST", "/v1/token", good.Encode()); resp.StatusCode != 200 {
		t.Fatalf("public static client: %d %v", resp.StatusCode, m)
	}
	resp, m = c.do("POST", "/v1/token", good.Encode())
	c.expectOAuth(resp, m, 400, "invalid_grant", "Authorization code already used")
	resp, m = c.do("POST", "/v1/token", strings.Replace(good.Encode(), "grant_type=authorization_code", "grant_type=password", 1))
	c.expectOAuth(resp, m, 400, "unsupported_grant_type", "Grant type password is not supported")

	// Reject, then the session is gone.
	session := c.authorize(docs.URL+"/mcp-client.json", "http://127.0.0.1:1/callback", "")
	resp, m = c.do("POST", "/v1/sessions/"+session+"/reject", "", "Authorization", "Bearer "+c.userTK)
	if resp.StatusCode != 200 || m["redirectUrl"] != "http://127.0.0.1:1/callback?error=access_denied&error_description=User+denied+the+request&state=xyz" {
		t.Fatalf("reject: %d %v", resp.StatusCode, m)
	}
	resp, m = c.do("GET", "/v1/sessions/"+session, "")
	c.expectOAuth(resp, m, 400, "invalid_request", "Authorization session not found or expired")

	// cli.json.
	resp, m = c.do("GET", "/.well-known/oauth-client/cli.json", "")
	if resp.StatusCode != 200 || m["client_id"] != c.s.auth("/.well-known/oauth-client/cli.json") {
		t.Fatalf("cli.json: %d %v", resp.StatusCode, m)
	}
}
