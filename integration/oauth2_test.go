package integration

import (
	"fmt"
	"strings"
	"testing"
)

const genericOIDCUsers = `- {subject: u-alice, email: alice@example.com, emailVerified: true, name: Alice Smith, preferredUsername: alice, groups: [team-a]}
- {subject: u-bob, email: bob@example.com, emailVerified: true, name: Bob Jones, preferredUsername: bob}
- {subject: u-carol, email: carol@elsewhere.test, name: Carol, preferredUsername: carol}
- {subject: u-dave, email: dave@example.com, name: Dave}
`

// startGenericOIDC starts cmd/mockpalette as a standard OpenID Connect IdP; it returns
// the mock and its issuer URL.
func startGenericOIDC(t *testing.T) (*vendorMock, string) {
	t.Helper()
	port := freePort(t)
	m := &vendorMock{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	m.proc = startProcess(t, "mockpalette", nil, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--personality", "generic-oidc",
		"--tenant", "t1", "--client-id", "backstage-client", "--client-secret", "backstage-secret", "--users", usersFile(t, genericOIDCUsers))
	issuer := m.URL + "/realms/t1"
	waitHTTP(t, m.proc, issuer+"/.well-known/openid-configuration")
	return m, issuer
}

func oauth2Env(name, authorize, token, extra, resolvers string) string {
	env := fmt.Sprintf(`
      %s:
        clientId: backstage-client
        clientSecret: backstage-secret
        authorizationUrl: %s
        tokenUrl: %s
        timeout: 1s%s`, name, authorize, token, extra)
	if resolvers != "" {
		env += "\n        signIn:\n          resolvers: " + resolvers
	}
	return env
}

func TestOAuth2Provider(t *testing.T) {
	plain := startVendorMock(t, "oauth2")
	oidcMock, issuer := startGenericOIDC(t)
	pa, pt := plain.URL+"/oauth2/authorize", plain.URL+"/oauth2/token"
	oa, ot := issuer+"/protocol/openid-connect/auth", issuer+"/protocol/openid-connect/token"
	verify := "\n        idTokenMetadataUrl: " + issuer
	s := startServer(t, serverConfig{Providers: "    oauth2:" +
		oauth2Env("plain", pa, pt, "\n        includeBasicAuth: true\n        additionalScopes: [read]", "") +
		oauth2Env("noemail", pa, pt, "", "[{resolver: emailMatchingUserEntityProfileEmail}]") +
		oauth2Env("unverified", oa, ot, "", "[{resolver: emailMatchingUserEntityProfileEmail}]") +
		oauth2Env("verified", oa, ot, verify, "[{resolver: emailMatchingUserEntityProfileEmail}, {resolver: emailLocalPartMatchingUserEntityName}]") +
		oauth2Env("username", oa, ot, verify, "[{resolver: usernameMatchingUserEntityName}]") +
		oauth2Env("norefresh", pa, pt, "\n        disableRefresh: true", "")})
	flow := func(t *testing.T, env, scope string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "oauth2", env: env, scope: scope}
	}

	t.Run("plain OAuth 2.0: no profile, Basic auth, refresh, revocation, logout", func(t *testing.T) {
		f := flow(t, "plain", "")
		b := newBrowser(t, s.AppURL)
		resp := f.signIn(b)
		if p, _ := resp["profile"].(map[string]any); len(p) != 0 || resp["backstageIdentity"] != nil {
			t.Errorf("no profile endpoint and no resolver: %v", resp)
		}
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "mock-at-") || dig(resp, "providerInfo", "scope") != "read" || dig(resp, "providerInfo", "expiresInSeconds") != float64(3600) {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		code, r, body := f.refresh(b)
		if code != 200 || dig(r, "providerInfo", "accessToken") == at || dig(r, "providerInfo", "expiresInSeconds") != float64(3600) {
			t.Fatalf("refresh: %d %s", code, body)
		}
		plain.control(t, "revoke?login=alice")
		if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, "The identity provider session has ended, please sign in again (invalid_grant)") {
			t.Errorf("refresh after revocation: %d %s", code, body)
		}
		f.signInAndOut()
	})

	t.Run("disableRefresh keeps no session", func(t *testing.T) {
		f := flow(t, "norefresh", "")
		b := newBrowser(t, s.AppURL)
		f.signIn(b)
		if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, "Missing session cookie") {
			t.Errorf("refresh: %d %s", code, body)
		}
	})

	t.Run("an id_token is used only when verified", func(t *testing.T) {
		if got := flow(t, "noemail", "").signInError(newBrowser(t, s.AppURL)); got != "Login failed, user profile does not contain an email" {
			t.Errorf("no id_token: %q", got)
		}
		// The IdP sends an id_token, but nothing says how to verify it.
		if got := flow(t, "unverified", "openid email").signInError(newBrowser(t, s.AppURL)); got != "Login failed, user profile does not contain an email" {
			t.Errorf("unverified id_token: %q", got)
		}
		oidcMock.control(t, "next?bad_sig=1")
		if got := flow(t, "verified", "openid email").signInError(newBrowser(t, s.AppURL)); !strings.HasPrefix(got, "Authentication rejected, the ID token signature could not be verified") {
			t.Errorf("forged id_token: %q", got)
		}
	})

	t.Run("verified id_token: resolvers, refresh, revocation", func(t *testing.T) {
		f := flow(t, "verified", "openid email offline_access")
		b := newBrowser(t, s.AppURL)
		resp := f.signIn(b)
		identity(t, s, resp, "alice", "group:default/team-a")
		if p := resp["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" {
			t.Errorf("profile %v", p)
		}
		if idt, _ := dig(resp, "providerInfo", "idToken").(string); strings.Count(idt, ".") != 2 {
			t.Errorf("providerInfo.idToken %q", idt)
		}
		code, r, body := f.refresh(b)
		if code != 200 {
			t.Fatalf("refresh: %d %s", code, body)
		}
		identity(t, s, r, "alice", "group:default/team-a")
		oidcMock.control(t, "revoke?sub=u-alice")
		if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, "(invalid_grant)") {
			t.Errorf("refresh after revocation: %d %s", code, body)
		}
		f.logout(b)

		for _, tc := range []struct{ env, email, user, err string }{
			// carol@elsewhere.test: no catalog email, then the local part matches.
			{"verified", "carol@elsewhere.test", "carol", ""},
			{"verified", "bob@example.com", "", "Tried: emailMatchingUserEntityProfileEmail with spec.profile.email=bob@example.com; emailLocalPartMatchingUserEntityName with user:default/bob."},
			{"username", "alice@example.com", "alice", ""},
			{"username", "bob@example.com", "", "usernameMatchingUserEntityName: User not found, looked up user:default/bob."},
			{"username", "dave@example.com", "", "Oauth2 user profile does not contain a username"},
		} {
			oidcMock.control(t, "next?email="+tc.email)
			flow(t, tc.env, "openid email").expect(newBrowser(t, s.AppURL), tc.user, tc.err)
		}
	})

	t.Run("the IdP's error answers", func(t *testing.T) {
		flow(t, "plain", "").expectErrors(plain, []vendorError{
			{"error=access_denied&error_description=The+resource+owner+denied+the+request.", "Authentication rejected, The resource owner denied the request."},
			{"token_status=503", "Authentication failed, Failed to obtain access token (HTTP 503 server_error)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		}, "bogus", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})
}
