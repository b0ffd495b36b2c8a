package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v5"
)

// The actions registry through the real binary, called as the MCP actions plugin of
// another Backstage backend calls it: with that backend's plugin tokens (sub
// mcp-actions, aud auth, obo = the limited form of a user token our /v1/token
// issued), its keys published at its discovery base URL.

// callerBackend is the other backend's mcp-actions plugin key endpoint.
type callerBackend struct {
	srv     *httptest.Server
	key     *ecdsa.PrivateKey
	kid     string
	fetches atomic.Int64
}

func newCallerBackend(t *testing.T) *callerBackend {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := &callerBackend{key: k, kid: "caller-key-1"}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/mcp-actions/.backstage/auth/v1/jwks.json" {
			http.NotFound(w, r)
			return
		}
		b.fetches.Add(1)
		pad := func(i *big.Int) string { return base64.RawURLEncoding.EncodeToString(i.FillBytes(make([]byte, 32))) }
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"keys":[{"kty":"EC","crv":"P-256","x":%q,"y":%q,"kid":%q,"alg":"ES256","use":"sig"}]}`, pad(k.X), pad(k.Y), b.kid)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// pluginToken signs a plugin token as backend-defaults' PluginTokenHandler does.
func (b *callerBackend) pluginToken(t *testing.T, key *ecdsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["typ"] = "vnd.backstage.plugin"
	tok.Header["kid"] = b.kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestActionsWhoAmIWithPluginTokens(t *testing.T) {
	caller := newCallerBackend(t)
	c, docs := startAuthServerStackWith(t, fmt.Sprintf(`discovery:
  endpoints:
    - target: %s/api/{{pluginId}}
      plugins: [mcp-actions]`, caller.srv.URL))

	// A user token from our /v1/token (the MCP client's), through consent.
	client, redirect := docs.URL+"/mcp-client.json", "http://127.0.0.1:50123/callback"
	form := url.Values{"grant_type": {"authorization_code"}, "code": {c.approve(c.authorize(client, redirect, "openid"))},
		"redirect_uri": {redirect}, "code_verifier": {asVerifier}, "client_id": {client}}
	resp, m := c.do("POST", "/v1/token", form.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	access := m["access_token"].(string)

	now := time.Now().Unix()
	claims := func(aud string, extra ...any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "mcp-actions", "aud": aud, "iat": now, "exp": now + 3600}
		for i := 0; i+1 < len(extra); i += 2 {
			c[extra[i].(string)] = extra[i+1]
		}
		return c
	}
	obo := caller.pluginToken(t, caller.key, claims("auth", "obo", limitedToken(t, access)))
	service := caller.pluginToken(t, caller.key, claims("auth"))
	bearer := func(tok string) []string {
		return []string{"Authorization", "Bearer " + tok, "Content-Type", "application/json"}
	}

	// List, as DefaultActionsService.list does.
	resp, m = c.do("GET", "/.backstage/actions/v1/actions", "", bearer(obo)...)
	acts, _ := m["actions"].([]any)
	if resp.StatusCode != 200 || len(acts) != 1 || dig(acts[0].(map[string]any), "id") != "auth:who-am-i" {
		t.Fatalf("list: %d %v", resp.StatusCode, m)
	}
	// Invoke, as DefaultActionsService.invoke does (v1, JSON input {}).
	invoke := "/.backstage/actions/v1/actions/" + url.PathEscape("auth:who-am-i") + "/invoke"
	for i := 0; i < 3; i++ {
		resp, m = c.do("POST", invoke, `{}`, bearer(obo)...)
		if resp.StatusCode != 200 || dig(m, "output", "userInfo", "userEntityRef") != "user:default/alice" ||
			dig(m, "output", "entity", "metadata", "name") != "alice" ||
			fmt.Sprint(dig(m, "output", "userInfo", "ownershipEntityRefs")) == "[]" {
			t.Fatalf("invoke: %d %v", resp.StatusCode, m)
		}
	}
	// The MCP client's own token works too (Node accepts user tokens here).
	resp, m = c.do("POST", invoke, `{}`, bearer(access)...)
	if resp.StatusCode != 200 || dig(m, "output", "userInfo", "userEntityRef") != "user:default/alice" {
		t.Fatalf("invoke with the user token: %d %v", resp.StatusCode, m)
	}
	if n := caller.fetches.Load(); n != 1 {
		t.Errorf("caller's keys fetched %d times, want 1 (cached)", n)
	}

	// Refusals.
	resp, m = c.do("POST", invoke, `{}`, bearer(service)...)
	c.expectBackstage(resp, m, 403, "NotAllowedError", "This action requires user credentials")
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged := caller.pluginToken(t, other, claims("auth", "obo", limitedToken(t, access)))
	resp, m = c.do("POST", invoke, `{}`, bearer(forged)...)
	c.expectBackstage(resp, m, 401, "AuthenticationError", "Failed plugin token verification")
	resp, m = c.do("POST", invoke, `{}`, bearer(caller.pluginToken(t, caller.key, claims("catalog")))...)
	c.expectBackstage(resp, m, 401, "AuthenticationError", "Failed plugin token verification")
	resp, m = c.do("POST", invoke, `{}`, bearer(caller.pluginToken(t, caller.key, jwt.MapClaims{"sub": "mcp-actions", "aud": "auth", "iat": now - 7200, "exp": now - 60}))...)
	c.expectBackstage(resp, m, 401, "AuthenticationError", "Failed plugin token verification")
	resp, m = c.do("POST", invoke, `{}`, bearer(caller.pluginToken(t, caller.key, jwt.MapClaims{"sub": "scaffolder", "aud": "auth", "iat": now, "exp": now + 60}))...)
	c.expectBackstage(resp, m, 401, "AuthenticationError", "Failed plugin token verification")
	resp, m = c.do("POST", invoke, `{}`, bearer(caller.pluginToken(t, caller.key, claims("auth", "obo", "not.a.token")))...)
	c.expectBackstage(resp, m, 401, "AuthenticationError", "Invalid user token in plugin token obo claim")
	resp, m = c.do("POST", invoke, `{}`, "Content-Type", "application/json")
	c.expectBackstage(resp, m, 403, "NotAllowedError", "Actions must be invoked by an authenticated principal, not an anonymous request")

	// /v1/offline-sessions/revoke accepts a verified plugin token (service), not one
	// on behalf of a user, nor a forged one.
	resp, m = c.do("POST", "/v1/offline-sessions/revoke", `{"userEntityRef":"alice"}`, bearer(obo)...)
	c.expectBackstage(resp, m, 403, "NotAllowedError", "This endpoint does not allow 'user' credentials")
	resp, m = c.do("POST", "/v1/offline-sessions/revoke", `{"userEntityRef":"alice"}`, bearer(caller.pluginToken(t, other, claims("auth")))...)
	c.expectBackstage(resp, m, 401, "AuthenticationError", "Failed plugin token verification")
	resp, m = c.do("POST", "/v1/offline-sessions/revoke", `{"userEntityRef":"alice"}`, bearer(service)...)
	if resp.StatusCode != 200 || m["revokedCount"] == nil {
		t.Fatalf("offline-sessions/revoke with a plugin token: %d %v", resp.StatusCode, m)
	}
}
