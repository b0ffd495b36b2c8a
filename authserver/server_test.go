package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/authserver/store"
)

func TestPublicStaticClientFlow(t *testing.T) {
	h := newHarness(t, defaultAuth())
	id := h.startSession(publicClient, publicRedirect, "openid offline_access")

	r := h.do("GET", "/api/auth/v1/sessions/"+id, nil, "")
	if r.status != 200 || string(r.body) != fmt.Sprintf(`{"id":"%s","clientId":"cli-public","clientName":"Public CLI","scope":"openid offline_access","redirectUri":"%s"}`, id, publicRedirect) {
		t.Fatalf("session: %d %s", r.status, r.body)
	}
	r = h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer(h.userToken(jane)), "")
	if r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	redirect := r.json(t)["redirectUrl"].(string)
	u, _ := url.Parse(redirect)
	code := u.Query().Get("code")
	if !strings.HasPrefix(redirect, publicRedirect+"?code=") || !strings.HasSuffix(redirect, "&state=st+1") || len(code) != 43 {
		t.Fatalf("redirectUrl %s", redirect)
	}
	if h.audit.find(EventConsent, "approved") == nil {
		t.Fatal("consent not audited")
	}
	// The session is decided: a second approval is refused.
	h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer(h.userToken(jane)), "").
		oauthErr(t, 400, "invalid_request", "Authorization session not found or expired")

	r = h.do("POST", "/api/auth/v1/token", nil, codeForm(code, publicRedirect, publicClient))
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response Cache-Control %q", r.header.Get("Cache-Control"))
	}
	body := r.json(t)
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["scope"] != "openid offline_access" ||
		body["access_token"] != body["id_token"] || !strings.Contains(body["refresh_token"].(string), ".") {
		t.Fatalf("token body %s", r.body)
	}
	keys := []string{}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	_, _ = dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip any
		_ = dec.Decode(&skip)
	}
	if strings.Join(keys, ",") != "access_token,token_type,expires_in,id_token,scope,refresh_token" {
		t.Fatalf("token body keys %v", keys)
	}
	p, err := h.srv.verifier.VerifyUserToken(context.Background(), body["access_token"].(string), false)
	if err != nil || p.Sub != jane {
		t.Fatalf("access token: %+v %v", p, err)
	}
	// Replaying the code fails and revokes the refresh token it produced.
	h.do("POST", "/api/auth/v1/token", nil, codeForm(code, publicRedirect, publicClient)).
		oauthErr(t, 400, "invalid_grant", "Authorization code already used")
	h.do("POST", "/api/auth/v1/token", nil, refreshForm(body["refresh_token"].(string), publicClient)).
		oauthErr(t, 400, "invalid_grant", "Invalid refresh token")
	if e := h.audit.find(EventReplay, "code_replayed"); e == nil {
		t.Fatal("code replay not audited")
	}
}

func TestTokenWithoutUserInfoWrite(t *testing.T) {
	h := newHarness(t, defaultAuth())
	id := h.startSession(publicClient, publicRedirect, "")
	// Approve with a token for bob, issued without a user_info row.
	tok, err := h.issuer.IssueUserToken(context.Background(), userClaimsNoInfo("user:default/bob"))
	if err != nil {
		t.Fatal(err)
	}
	r := h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer(tok.Token), "")
	u, _ := url.Parse(r.json(t)["redirectUrl"].(string))
	r = h.do("POST", "/api/auth/v1/token", nil, codeForm(u.Query().Get("code"), publicRedirect, publicClient))
	if r.status != 200 || r.json(t)["scope"] != "openid" || r.json(t)["refresh_token"] != nil {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	if _, err := h.db.UserInfo().GetUserInfo(context.Background(), "user:default/bob"); err == nil {
		t.Fatal("the token endpoint wrote user_info")
	}
}

func TestConfidentialClient(t *testing.T) {
	h := newHarness(t, defaultAuth())
	code := h.approveCode(h.startSession(confClient, confRedirect, "openid"), jane)
	form := codeForm(code, confRedirect, "")
	h.do("POST", "/api/auth/v1/token", nil, form).oauthErr(t, 401, "invalid_client", "Client authentication required")
	h.do("POST", "/api/auth/v1/token", basic(confClient, "wrong"), form).oauthErr(t, 401, "invalid_client", "Invalid client credentials")
	h.do("POST", "/api/auth/v1/token", basic("", "x"), codeForm(code, confRedirect, "")).oauthErr(t, 401, "invalid_client", "Invalid client credentials")
	h.do("POST", "/api/auth/v1/token", basic(publicClient, ""), form).oauthErr(t, 400, "invalid_grant", "Client ID mismatch")
	// client_secret_post works as well as Basic.
	r := h.do("POST", "/api/auth/v1/token", nil, form+"&client_id="+confClient+"&client_secret="+confSecret)
	if r.status != 200 {
		t.Fatalf("client_secret_post: %d %s", r.status, r.body)
	}
	code = h.approveCode(h.startSession(confClient, confRedirect, "openid"), jane)
	r = h.do("POST", "/api/auth/v1/token", basic(confClient, confSecret), codeForm(code, confRedirect, ""))
	if r.status != 200 {
		t.Fatalf("client_secret_basic: %d %s", r.status, r.body)
	}
	// The redirect keeps the registered query; code and state are appended.
	id := h.startSession(confClient, confRedirect, "")
	r = h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer(h.userToken(jane)), "")
	if got := r.json(t)["redirectUrl"].(string); !strings.HasPrefix(got, "https://ci.example.com/cb?x=1&code=") {
		t.Fatalf("redirectUrl %s", got)
	}
}

func TestTokenGrantErrors(t *testing.T) {
	h := newHarness(t, defaultAuth())
	newCode := func() string { return h.approveCode(h.startSession(publicClient, publicRedirect, ""), jane) }
	for _, tc := range []struct {
		name, body        string
		header            http.Header
		status            int
		code, desc, ctype string
	}{
		{name: "no grant", body: "x=1", status: 400, code: "invalid_request", desc: `Validation error: Invalid input: expected string, received undefined at "grant_type"`},
		{name: "unsupported", body: "grant_type=password", status: 400, code: "unsupported_grant_type", desc: "Grant type password is not supported"},
		{name: "missing code", body: "grant_type=authorization_code&redirect_uri=http://x/", status: 400, code: "invalid_request", desc: "Missing code or redirect_uri parameters for authorization_code grant"},
		{name: "bad redirect url", body: "grant_type=authorization_code&code=x&redirect_uri=nope", status: 400, code: "invalid_request", desc: `Validation error: Invalid URL at "redirect_uri"`},
		{name: "unknown code", body: codeForm("nope", publicRedirect, publicClient), status: 400, code: "invalid_grant", desc: "Invalid authorization code"},
		{name: "wrong redirect", body: codeForm(newCode(), "http://127.0.0.1:8055/other", publicClient), status: 400, code: "invalid_grant", desc: "Redirect URI mismatch"},
		{name: "other client", body: codeForm(newCode(), publicRedirect, "someone-else"), status: 400, code: "invalid_grant", desc: "Client ID mismatch"},
		{name: "wrong verifier", body: strings.Replace(codeForm(newCode(), publicRedirect, publicClient), "code_verifier="+verifier, "code_verifier=wrong", 1), status: 400, code: "invalid_grant", desc: "Invalid code verifier"},
		{name: "no verifier", body: strings.Replace(codeForm(newCode(), publicRedirect, publicClient), "code_verifier="+verifier, "", 1), status: 400, code: "invalid_grant", desc: "Code verifier required for PKCE"},
		{name: "json body", body: `{"grant_type":["a"]}`, ctype: "application/json", status: 400, code: "invalid_request", desc: `Validation error: Invalid input: expected string, received array at "grant_type"`},
		{name: "refresh missing", body: "grant_type=refresh_token", status: 400, code: "invalid_request", desc: "Missing refresh_token parameter for refresh_token grant"},
		{name: "refresh format", body: refreshForm("abc", ""), status: 400, code: "invalid_grant", desc: "Invalid refresh token format"},
		{name: "refresh unknown", body: refreshForm("a.b", ""), status: 400, code: "invalid_grant", desc: "Invalid refresh token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := tc.header
			if tc.ctype != "" {
				hdr = http.Header{"Content-Type": {tc.ctype}}
			}
			h.do("POST", "/api/auth/v1/token", hdr, tc.body).oauthErr(t, tc.status, tc.code, tc.desc)
		})
	}
	t.Run("expired code", func(t *testing.T) {
		code := newCode()
		h.advance(11 * time.Minute)
		defer h.advance(-11 * time.Minute)
		h.do("POST", "/api/auth/v1/token", nil, codeForm(code, publicRedirect, publicClient)).oauthErr(t, 400, "invalid_grant", "Authorization code expired")
	})
	t.Run("not approved", func(t *testing.T) {
		// A code whose session was never approved (written directly, as a bug or
		// another writer might).
		id := h.startSession(publicClient, publicRedirect, "")
		if err := h.db.OIDCCodes().CreateCode(context.Background(), store.Code{Code: "raw", SessionID: id, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		h.do("POST", "/api/auth/v1/token", nil, codeForm("raw", publicRedirect, publicClient)).oauthErr(t, 400, "invalid_grant", "Authorization not approved")
	})
}

func TestAuthorizeErrors(t *testing.T) {
	h := newHarness(t, defaultAuth())
	q := func(mod func(url.Values)) string {
		v := url.Values{"client_id": {publicClient}, "redirect_uri": {publicRedirect}, "response_type": {"code"},
			"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}}
		mod(v)
		return "/api/auth/v1/authorize?" + v.Encode()
	}
	h.do("GET", "/api/auth/v1/authorize", nil, "").oauthErr(t, 400, "invalid_request",
		`Validation error: Invalid input: expected string, received undefined at "client_id"; Invalid input: expected string, received undefined at "redirect_uri"; Invalid input: expected string, received undefined at "response_type"`)
	for _, tc := range []struct {
		name string
		mod  func(url.Values)
		msg  string
	}{
		{"token flow", func(v url.Values) { v.Set("response_type", "token") }, "Only authorization code flow is supported"},
		{"no pkce", func(v url.Values) { v.Del("code_challenge") }, "PKCE is required for all clients. Provide a code_challenge parameter."},
		{"plain", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "Invalid code_challenge_method"},
		{"no method", func(v url.Values) { v.Del("code_challenge_method") }, "Invalid code_challenge_method"},
		{"redirect mismatch", func(v url.Values) { v.Set("redirect_uri", "http://evil.example/cb") }, "Invalid redirect_uri 'http://evil.example/cb'"},
		{"unknown client", func(v url.Values) { v.Set("client_id", "nobody") }, "Invalid client_id: not a valid URL"},
		{"cimd not allowed", func(v url.Values) { v.Set("client_id", "https://evil.example/client.json") }, "Invalid client_id 'https://evil.example/client.json'"},
		{"cimd query", func(v url.Values) { v.Set("client_id", "http://127.0.0.1:1/c.json?x=1") }, "Invalid client_id: must not contain a query string"},
		{"cimd empty query", func(v url.Values) { v.Set("client_id", "http://127.0.0.1:1/c.json?") }, "Invalid client_id: must not contain a query string"},
		{"cimd fragment", func(v url.Values) { v.Set("client_id", "http://127.0.0.1:1/c.json#f") }, "Invalid client_id: must not contain a fragment"},
		{"cimd dots", func(v url.Values) { v.Set("client_id", "http://127.0.0.1:1/a/../c.json") }, "Invalid client_id: path must not contain dot segments"},
		{"cimd encoded dots", func(v url.Values) { v.Set("client_id", "http://127.0.0.1:1/a/%2E%2e/c.json") }, "Invalid client_id: path must not contain dot segments"},
		{"cimd root", func(v url.Values) { v.Set("client_id", "http://127.0.0.1:1/") }, "Invalid client_id: must have a path component"},
		{"cimd credentials", func(v url.Values) { v.Set("client_id", "http://u:p@127.0.0.1:1/c.json") }, "Invalid client_id: must not contain credentials"},
		{"cimd http", func(v url.Values) { v.Set("client_id", "http://example.com/c.json") }, "Invalid client_id: must use HTTPS (or HTTP for localhost in development)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.do("GET", q(tc.mod), nil, "").backstageErr(t, 400, "InputError", tc.msg)
		})
	}
}

func TestSessionsErrors(t *testing.T) {
	h := newHarness(t, defaultAuth())
	h.do("GET", "/api/auth/v1/sessions/nope", nil, "").oauthErr(t, 400, "invalid_request", "Invalid authorization session")
	id := h.startSession(publicClient, publicRedirect, "")
	h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", nil, "").oauthErr(t, 403, "access_denied", "Authentication required")
	h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer(testStaticToken), "").oauthErr(t, 403, "access_denied", "Authentication required")
	h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer("garbage"), "").oauthErr(t, 401, "invalid_client", "")
	h.do("POST", "/api/auth/v1/sessions/"+id+"/reject", bearer("garbage"), "").backstageErr(t, 401, "AuthenticationError", "")
	h.do("POST", "/api/auth/v1/sessions/"+id+"/reject", bearer(testStaticToken), "").oauthErr(t, 403, "access_denied", "Authentication required")
	r := h.do("POST", "/api/auth/v1/sessions/"+id+"/reject", bearer(h.userToken(jane)), "")
	if r.status != 200 || r.json(t)["redirectUrl"] != publicRedirect+"?error=access_denied&error_description=User+denied+the+request&state=st+1" {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	h.do("GET", "/api/auth/v1/sessions/"+id, nil, "").oauthErr(t, 400, "invalid_request", "Authorization session not found or expired")
	id = h.startSession(publicClient, publicRedirect, "")
	h.advance(61 * time.Minute)
	h.do("GET", "/api/auth/v1/sessions/"+id, nil, "").oauthErr(t, 400, "invalid_request", "Authorization session expired")
	h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer(h.userToken(jane)), "").oauthErr(t, 400, "invalid_request", "Authorization session expired")
}

func TestCodeRedeemedOnceUnderConcurrency(t *testing.T) {
	h := newHarness(t, defaultAuth())
	code := h.approveCode(h.startSession(publicClient, publicRedirect, "openid"), jane)
	if n := parallel(20, func() bool {
		r := h.do("POST", "/api/auth/v1/token", nil, codeForm(code, publicRedirect, publicClient))
		if r.status != 200 && r.json(t)["error"] != "invalid_grant" {
			t.Errorf("loser answered %d %s", r.status, r.body)
		}
		return r.status == 200
	}); n != 1 {
		t.Fatalf("%d requests got a token for one code, want 1", n)
	}
}

func TestRefreshRotationAndReplay(t *testing.T) {
	h := newHarness(t, defaultAuth())
	first := h.publicTokens()["refresh_token"].(string)
	r := h.do("POST", "/api/auth/v1/token", nil, refreshForm(first, publicClient))
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	body := r.json(t)
	second := body["refresh_token"].(string)
	if second == first || strings.Split(second, ".")[0] != strings.Split(first, ".")[0] || body["id_token"] != nil {
		t.Fatalf("rotation: %s -> %s (%s)", first, second, r.body)
	}
	h.do("POST", "/api/auth/v1/token", nil, refreshForm(second, "other-client")).oauthErr(t, 400, "invalid_grant", "Refresh token was not issued to this client")
	// Reusing the rotated token revokes the session: the current token dies too.
	h.do("POST", "/api/auth/v1/token", nil, refreshForm(first, publicClient)).oauthErr(t, 400, "invalid_grant", "Invalid refresh token")
	h.do("POST", "/api/auth/v1/token", nil, refreshForm(second, publicClient)).oauthErr(t, 400, "invalid_grant", "Invalid refresh token")
	if h.audit.find(EventReplay, "refresh_token_replayed") == nil {
		t.Fatal("refresh replay not audited")
	}

	t.Run("parallel", func(t *testing.T) {
		tok := h.publicTokens()["refresh_token"].(string)
		if n := parallel(8, func() bool {
			return h.do("POST", "/api/auth/v1/token", nil, refreshForm(tok, publicClient)).status == 200
		}); n != 1 {
			t.Fatalf("%d parallel refreshes succeeded, want 1", n)
		}
	})
	t.Run("idle lifetime", func(t *testing.T) {
		tok := h.publicTokens()["refresh_token"].(string)
		h.advance(31 * 24 * time.Hour)
		defer h.advance(-31 * 24 * time.Hour)
		h.do("POST", "/api/auth/v1/token", nil, refreshForm(tok, publicClient)).oauthErr(t, 400, "invalid_grant", "Invalid refresh token")
	})
	t.Run("user gone", func(t *testing.T) {
		tok := h.publicTokens()["refresh_token"].(string)
		h.users.mu.Lock()
		h.users.err = errors.New("catalog down")
		h.users.mu.Unlock()
		h.do("POST", "/api/auth/v1/token", nil, refreshForm(tok, publicClient)).oauthErr(t, 400, "invalid_grant", "Unable to validate user existence")
		h.users.mu.Lock()
		h.users.err = nil
		h.users.present[jane] = false
		h.users.mu.Unlock()
		h.do("POST", "/api/auth/v1/token", nil, refreshForm(tok, publicClient)).oauthErr(t, 400, "invalid_grant", "User entity no longer exists in the catalog")
		h.users.mu.Lock()
		h.users.present[jane] = true
		h.users.mu.Unlock()
		h.do("POST", "/api/auth/v1/token", nil, refreshForm(tok, publicClient)).oauthErr(t, 400, "invalid_grant", "Invalid refresh token")
	})
}

func TestRefreshDisabled(t *testing.T) {
	auth := defaultAuth()
	delete(auth, "experimentalRefreshToken")
	h := newHarness(t, auth)
	tokens := h.publicTokens()
	if tokens["refresh_token"] != nil {
		t.Fatal("refresh token issued while disabled")
	}
	h.do("POST", "/api/auth/v1/token", nil, refreshForm("a.b", "")).oauthErr(t, 400, "invalid_request", "Refresh tokens are not enabled")
}

func TestRevoke(t *testing.T) {
	h := newHarness(t, defaultAuth())
	tok := h.publicTokens()["refresh_token"].(string)
	id := strings.Split(tok, ".")[0]
	present := func() bool {
		_, err := h.db.OfflineSessions().GetOfflineSession(context.Background(), id)
		return err == nil
	}
	h.do("POST", "/api/auth/v1/revoke", nil, "").oauthErr(t, 400, "invalid_request", `Validation error: Invalid input: expected string, received undefined at "token"`)
	h.do("POST", "/api/auth/v1/revoke", nil, "token="+tok).oauthErr(t, 401, "invalid_client", "Client authentication required")
	h.do("POST", "/api/auth/v1/revoke", nil, "token="+tok+"&client_id=nobody").oauthErr(t, 401, "invalid_client", "Invalid client credentials")
	h.do("POST", "/api/auth/v1/revoke", basic(confClient, "wrong"), "token="+tok).oauthErr(t, 401, "invalid_client", "Invalid client credentials")
	// Node deletes the session for any caller who knows its id; we need the secret
	// and the owning client.
	for _, body := range []string{"token=" + id + ".forged&client_id=" + publicClient, "token=" + tok} {
		hdr := http.Header(nil)
		if !strings.Contains(body, "client_id") {
			hdr = basic(confClient, confSecret)
		}
		r := h.do("POST", "/api/auth/v1/revoke", hdr, body)
		if r.status != 200 || len(r.body) != 0 || !present() {
			t.Fatalf("revoke %q: %d %q present=%v", body, r.status, r.body, present())
		}
	}
	r := h.do("POST", "/api/auth/v1/revoke", nil, "token="+tok+"&client_id="+publicClient)
	if r.status != 200 || present() {
		t.Fatalf("revoke: %d present=%v", r.status, present())
	}
	h.do("POST", "/api/auth/v1/token", nil, refreshForm(tok, publicClient)).oauthErr(t, 400, "invalid_grant", "Invalid refresh token")
	if h.audit.find(EventRevoke, "success") == nil || h.audit.find(EventRevoke, "refused") == nil {
		t.Fatal("revocations not audited")
	}
}

func TestDiscoveryFields(t *testing.T) {
	h := newHarness(t, defaultAuth())
	scopes, methods, grants, revocation, cimd, metadata := h.srv.DiscoveryFields()
	got := fmt.Sprint(scopes, methods, grants, revocation, cimd, metadata)
	if got != "[openid offline_access] [client_secret_basic client_secret_post none] [authorization_code refresh_token] true true true" {
		t.Fatal(got)
	}
	h = newHarness(t, map[string]any{})
	scopes, methods, grants, revocation, cimd, metadata = h.srv.DiscoveryFields()
	if got := fmt.Sprint(scopes, methods, grants, revocation, cimd, metadata); got != "[openid] [] [authorization_code] false false false" {
		t.Fatal(got)
	}
	if r := h.do("GET", "/api/auth/v1/authorize", nil, ""); r.status != 404 {
		t.Fatalf("authorize mounted without clients: %d", r.status)
	}
	r := h.do("GET", "/api/auth/.well-known/oauth-client/cli.json", nil, "")
	if r.status != 404 || string(r.body) != `{"error":"not_found","error_description":"Client ID metadata documents not enabled"}` {
		t.Fatalf("cli.json without CIMD: %d %s", r.status, r.body)
	}
}

// cimdServer serves client documents on loopback.
type cimdServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]func(w http.ResponseWriter, base string)
	hits atomic.Int32
}

func newCIMDServer(t *testing.T) *cimdServer {
	c := &cimdServer{docs: map[string]func(http.ResponseWriter, string){}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		c.mu.Lock()
		f := c.docs[r.URL.Path]
		c.mu.Unlock()
		if f == nil {
			http.NotFound(w, r)
			return
		}
		f(w, c.URL)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *cimdServer) add(path string, f func(w http.ResponseWriter, base string)) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.docs[path] = f
	return c.URL + path
}

func jsonDoc(doc map[string]any) func(http.ResponseWriter, string) {
	return func(w http.ResponseWriter, _ string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}
}

func TestCIMDClient(t *testing.T) {
	h := newHarness(t, defaultAuth())
	cs := newCIMDServer(t)
	good := cs.URL + "/good.json"
	cs.add("/good.json", jsonDoc(map[string]any{"client_id": good, "client_name": "MCP Client", "redirect_uris": []string{"http://127.0.0.1:3000/cb", "https://app.example/cb"}}))

	id := h.startSession(good, "http://127.0.0.1:49152/cb", "openid offline_access")
	r := h.do("GET", "/api/auth/v1/sessions/"+id, nil, "")
	if r.status != 200 || r.json(t)["clientName"] != "MCP Client" {
		t.Fatalf("session: %d %s", r.status, r.body)
	}
	if cs.hits.Load() != 1 {
		t.Fatalf("document fetched %d times, want 1 (cached)", cs.hits.Load())
	}
	code := h.approveCode(id, jane)
	r = h.do("POST", "/api/auth/v1/token", nil, codeForm(code, "http://127.0.0.1:49152/cb", good))
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	rt := r.json(t)["refresh_token"].(string)
	r = h.do("POST", "/api/auth/v1/token", nil, refreshForm(rt, good))
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/auth/v1/revoke", nil, "token="+r.json(t)["refresh_token"].(string)+"&client_id="+url.QueryEscape(good)); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}

	big := strings.Repeat("x", cimdMaxBytes)
	for _, tc := range []struct {
		name     string
		path     string
		serve    func(http.ResponseWriter, string)
		redirect string
		msg      string
	}{
		{"mismatching client_id", "/mismatch.json", jsonDoc(map[string]any{"client_id": "https://other/x.json", "redirect_uris": []string{"http://127.0.0.1/cb"}}), "", "Client ID mismatch in metadata document"},
		{"secret", "/secret.json", func(w http.ResponseWriter, base string) {
			jsonDoc(map[string]any{"client_id": base + "/secret.json", "redirect_uris": []string{"http://127.0.0.1/cb"}, "client_secret": "x"})(w, base)
		}, "", "Client metadata must not contain client_secret"},
		{"secret auth method", "/method.json", func(w http.ResponseWriter, base string) {
			jsonDoc(map[string]any{"client_id": base + "/method.json", "redirect_uris": []string{"http://127.0.0.1/cb"}, "token_endpoint_auth_method": "client_secret_basic"})(w, base)
		}, "", "Client metadata uses forbidden auth method"},
		{"no redirect uris", "/none.json", func(w http.ResponseWriter, base string) {
			jsonDoc(map[string]any{"client_id": base + "/none.json"})(w, base)
		}, "", "Metadata must include at least one redirect_uri"},
		{"redirect not registered", "/good.json", nil, "http://127.0.0.1:3000/other", "Invalid redirect_uri 'http://127.0.0.1:3000/other', not registered in client metadata"},
		{"redirect query differs", "/good.json", nil, "http://127.0.0.1:3000/cb?evil=1", "Invalid redirect_uri 'http://127.0.0.1:3000/cb?evil=1', not registered in client metadata"},
		{"redirect not allowed", "/good.json", nil, "https://app.example/cb", "Invalid redirect_uri 'https://app.example/cb'"},
		{"redirecting url", "/moved.json", func(w http.ResponseWriter, base string) {
			w.Header().Set("Location", base+"/good.json")
			w.WriteHeader(http.StatusFound)
		}, "", "Failed to fetch client metadata"},
		{"oversized", "/big.json", func(w http.ResponseWriter, base string) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"client_id":"` + base + `/big.json","x":"` + big + `"}`))
		}, "", "Client metadata document too large"},
		{"not json", "/html.json", func(w http.ResponseWriter, _ string) { _, _ = w.Write([]byte("<html>")) }, "", "Invalid client metadata document"},
		{"404", "/missing.json", nil, "", "Failed to fetch client metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.serve != nil {
				cs.add(tc.path, tc.serve)
			}
			redirect := tc.redirect
			if redirect == "" {
				redirect = "http://127.0.0.1/cb"
			}
			h.do("GET", authorizeQuery(cs.URL+tc.path, redirect, ""), nil, "").backstageErr(t, 400, "InputError", tc.msg)
		})
	}
}

// Outside development mode, CIMD URLs must be https and every dialled address public:
// a host resolving to loopback is refused at dial time.
func TestCIMDPrivateAddressRefused(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("private address reached: %s", r.URL)
	}))
	defer ts.Close()
	auth := defaultAuth()
	auth["clientIdMetadataDocuments"] = map[string]any{"enabled": true, "allowedClientIdPatterns": []any{"https://127.0.0.1:*/*", "https://localhost:*/*"}}
	h := newHarness(t, auth, func(o *Options) { o.Config.DevelopmentMode = false })
	h.srv.development = false
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "https://"))
	for _, id := range []string{ts.URL + "/c.json", "https://localhost:" + port + "/c.json"} {
		h.do("GET", authorizeQuery(id, "http://127.0.0.1/cb", ""), nil, "").backstageErr(t, 400, "InputError", "Invalid client_id URL")
	}
	if publicUnicast(net.ParseIP("10.1.2.3")) || publicUnicast(net.ParseIP("::ffff:192.168.1.1")) || publicUnicast(net.ParseIP("100.64.0.1")) ||
		publicUnicast(net.ParseIP("fd00::1")) || publicUnicast(net.ParseIP("169.254.169.254")) || !publicUnicast(net.ParseIP("8.8.8.8")) {
		t.Fatal("publicUnicast misclassifies")
	}
}

func TestClientDocuments(t *testing.T) {
	auth := defaultAuth()
	auth["clientIdMetadataDocuments"].(map[string]any)["clients"] = map[string]any{
		"demo": map[string]any{"clientName": "Demo", "redirectUris": []any{"http://127.0.0.1:9000/cb"}},
	}
	h := newHarness(t, auth)
	r := h.do("GET", "/api/auth/.well-known/oauth-client/cli.json", nil, "")
	want := `{"client_id":"http://localhost:7007/api/auth/.well-known/oauth-client/cli.json","client_name":"Backstage CLI","redirect_uris":["http://127.0.0.1:8055/callback"],"response_types":["code"],"grant_types":["authorization_code"],"token_endpoint_auth_method":"none","scope":"openid offline_access"}`
	if r.status != 200 || string(r.body) != want {
		t.Fatalf("cli.json: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/auth/.well-known/oauth-client/demo.json", nil, ""); r.status != 200 || !strings.Contains(string(r.body), `"client_name":"Demo"`) {
		t.Fatalf("demo.json: %d %s", r.status, r.body)
	}
	h.do("GET", "/api/auth/.well-known/oauth-client/other.json", nil, "").backstageErr(t, 404, "NotFoundError", "Unknown auth provider '.well-known'")
	// The CLI client resolves from memory (no fetch of our own URL): a full flow.
	cli := testBackend + "/api/auth/.well-known/oauth-client/cli.json"
	code := h.approveCode(h.startSession(cli, "http://127.0.0.1:8055/callback", "openid offline_access"), jane)
	if r := h.do("POST", "/api/auth/v1/token", nil, codeForm(code, "http://127.0.0.1:8055/callback", cli)); r.status != 200 {
		t.Fatalf("cli token: %d %s", r.status, r.body)
	}
}

func TestSettingsProblems(t *testing.T) {
	_, ps := DecodeSettings(mapSection(map[string]any{
		"staticClients": []any{
			map[string]any{"clientId": "https://x/y", "redirectUris": []any{"http://a/"}},
			map[string]any{"clientId": "dup", "redirectUris": []any{"http://a/"}},
			map[string]any{"clientId": "dup", "redirectUris": []any{}},
		},
		"clientIdMetadataDocuments": map[string]any{"allowedClientIdPatterns": []any{"no-scheme"}},
		"experimentalRefreshToken":  map[string]any{"enabled": true, "tokenLifetime": "30d", "maxRotationLifetime": "1d", "maxTokensPerUser": 0},
	}))
	msg := ps.Err().Error()
	for _, want := range []string{"must not be URLs", "duplicate client ID 'dup'", "at least one redirect URI", "explicit protocol is required", "must be greater than tokenLifetime", "must be a positive number"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q: %s", want, msg)
		}
	}
}
