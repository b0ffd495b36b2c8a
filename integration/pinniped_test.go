package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// jwtClaims decodes a JWT's claims without verifying it (the provider verified it;
// the test only reads which token it is).
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPinnipedProvider(t *testing.T) {
	m := startVendorMock(t, "pinniped")
	issuer := m.URL + "/issuer"
	env := func(name, extra string) string {
		return "\n      " + name + `:
        federationDomain: ` + issuer + `
        clientId: backstage-client
        clientSecret: backstage-secret
        timeout: 1s` + extra
	}
	s := startServer(t, serverConfig{Providers: "    pinniped:" +
		env("development", "") +
		env("email", "\n        signIn:\n          resolvers: [{resolver: emailMatchingUserEntityProfileEmail}]") +
		env("expr", "\n        signIn:\n          resolvers: [{resolver: expression, entityRef: \"claims.username\"}]") +
		env("restricted", "\n        allowedAudiences: [cluster-a]")})
	flow := func(t *testing.T, env, audience string) oauthFlow {
		f := oauthFlow{t: t, s: s, provider: "pinniped", env: env}
		if audience != "" {
			// The router passes the extra query parameter to the provider.
			f.env += "&audience=" + url.QueryEscape(audience)
		}
		return f
	}

	t.Run("cluster token, refresh with the exchange again, revocation, logout", func(t *testing.T) {
		f := flow(t, "development", "cluster-a")
		b := newBrowser(t, s.AppURL)
		resp := f.signIn(b)
		if p, _ := resp["profile"].(map[string]any); len(p) != 0 || resp["backstageIdentity"] != nil {
			t.Errorf("empty profile and no identity without a resolver: %v", resp)
		}
		idt, _ := dig(resp, "providerInfo", "idToken").(string)
		if c := jwtClaims(t, idt); c["aud"].([]any)[0] != "cluster-a" || c["username"] != "alice" {
			t.Errorf("cluster token %v", c)
		}
		if sc := dig(resp, "providerInfo", "scope"); sc != "openid pinniped:request-audience username offline_access" {
			t.Errorf("scope %v", sc)
		}
		f.env = "development"
		code, r, body := f.refresh(b)
		if code != 200 {
			t.Fatalf("refresh: %d %s", code, body)
		}
		if c := jwtClaims(t, dig(r, "providerInfo", "idToken").(string)); c["aud"].([]any)[0] != "cluster-a" {
			t.Errorf("refresh: not a cluster token: %v", c)
		}
		m.control(t, "revoke?login=alice")
		if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, "(invalid_grant)") {
			t.Errorf("refresh after revocation: %d %s", code, body)
		}
		f.signInAndOut()
	})

	t.Run("no audience: the Supervisor's ID token", func(t *testing.T) {
		resp := flow(t, "development", "").signIn(newBrowser(t, s.AppURL))
		if c := jwtClaims(t, dig(resp, "providerInfo", "idToken").(string)); c["aud"].([]any)[0] != "backstage-client" {
			t.Errorf("id token %v", c)
		}
	})

	t.Run("resolvers", func(t *testing.T) {
		flow(t, "email", "").expect(newBrowser(t, s.AppURL), "", "Login failed, user profile does not contain an email")
		flow(t, "expr", "").expect(newBrowser(t, s.AppURL), "alice", "")
		m.control(t, "next?login=bob")
		flow(t, "expr", "").expect(newBrowser(t, s.AppURL), "", "Tried: expression with user:default/bob.")
	})

	t.Run("audiences: allowlist and syntax", func(t *testing.T) {
		if resp, body := flow(t, "restricted", "cluster-b").start(newBrowser(t, s.AppURL)); resp.StatusCode != 403 || !strings.Contains(string(body), `The audience \"cluster-b\" is not allowed for this provider`) {
			t.Errorf("audience outside the allowlist: %d %s", resp.StatusCode, body)
		}
		if resp, body := flow(t, "development", "a b").start(newBrowser(t, s.AppURL)); resp.StatusCode != 400 || !strings.Contains(string(body), "InputError") {
			t.Errorf("bad audience: %d %s", resp.StatusCode, body)
		}
		resp := flow(t, "restricted", "cluster-a").signIn(newBrowser(t, s.AppURL))
		if c := jwtClaims(t, dig(resp, "providerInfo", "idToken").(string)); c["aud"].([]any)[0] != "cluster-a" {
			t.Errorf("allowed audience: %v", c)
		}
	})

	t.Run("the Supervisor's error answers", func(t *testing.T) {
		if got := flow(t, "development", "x.pinniped.dev").signInError(newBrowser(t, s.AppURL)); got != `Failed to get cluster specific ID token for "x.pinniped.dev": RFC8693 token exchange failed (HTTP 400 invalid_request)` {
			t.Errorf("refused audience: %q", got)
		}
		flow(t, "development", "").expectErrors(m, []vendorError{
			{"error=access_denied", "Authentication rejected, access_denied (The resource owner or authorization server denied the request.)"},
			{"token_status=503", "Authentication failed, token exchange with the identity provider failed (HTTP 503)"},
			{"token_delay_ms=3000", "Authentication failed, token exchange with the identity provider timed out after 1s"},
			{"bad_sig=1", "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
		}, "bogus", "Authentication failed, token exchange with the identity provider failed (HTTP 400 invalid_grant)")
	})
}
