package integration

import (
	"strings"
	"testing"
)

func openshiftEnv(name, base, resolvers string) string {
	env := "\n      " + name + `:
        clientId: backstage-client
        clientSecret: backstage-secret
        authorizationUrl: ` + base + `/oauth/authorize
        tokenUrl: ` + base + `/oauth/token
        openshiftApiServerUrl: ` + base + `
        timeout: 1s`
	if resolvers != "" {
		env += "\n        signIn:\n          resolvers: " + resolvers
	}
	return env
}

func TestOpenShiftProvider(t *testing.T) {
	m := startVendorMock(t, "openshift")
	s := startServer(t, serverConfig{Providers: "    openshift:" +
		openshiftEnv("development", m.URL, "[{resolver: displayNameMatchingUserEntityName}]") +
		openshiftEnv("chained", m.URL, "[{resolver: displayNameMatchingUserEntityName}, {resolver: displayNameMatchingUserEntityName, dangerouslyAllowSignInWithoutUserInCatalog: true}]")})
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "openshift", env: env, scope: "user:info"}
	}

	t.Run("sign-in, refresh, revoked token, logout deletes the token", func(t *testing.T) {
		f := flow(t, "development")
		b := newBrowser(t, s.AppURL)
		resp := f.signIn(b)
		identity(t, s, resp, "alice", "group:default/team-a")
		if p, _ := resp["profile"].(map[string]any); len(p) != 1 || p["displayName"] != "alice" {
			t.Errorf("profile %v", resp["profile"])
		}
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "sha256~") || dig(resp, "providerInfo", "scope") != "user:info user:full" ||
			dig(resp, "providerInfo", "expiresInSeconds") != float64(86400) || hasKey(resp, "idToken", "providerInfo") {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		code, r, body := f.refresh(b)
		if code != 200 || dig(r, "providerInfo", "accessToken") != at || hasKey(r, "expiresInSeconds", "providerInfo") {
			t.Fatalf("refresh: %d %s", code, body)
		}
		identity(t, s, r, "alice", "group:default/team-a")
		m.control(t, "revoke?login=alice")
		if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, "Refresh failed; caused by Error: Invalid access token") {
			t.Errorf("refresh after revocation: %d %s", code, body)
		}

		b = newBrowser(t, s.AppURL)
		f.signIn(b)
		deletes := func() (out []string) {
			for _, p := range m.requests(t, "") {
				if strings.HasPrefix(p, "/apis/oauth.openshift.io/v1/oauthaccesstokens/sha256~") {
					out = append(out, p)
				}
			}
			return out
		}
		before := len(deletes())
		f.logout(b)
		if got := deletes(); len(got) != before+1 {
			t.Errorf("logout did not delete the token: %v", got)
		}
	})

	t.Run("resolvers", func(t *testing.T) {
		flow(t, "development").expect(newBrowser(t, s.AppURL), "alice", "")
		m.control(t, "next?login=bob")
		flow(t, "development").expect(newBrowser(t, s.AppURL), "", "displayNameMatchingUserEntityName: User not found, looked up user:default/bob.")
		m.control(t, "next?login=bob")
		identity(t, s, flow(t, "chained").signIn(newBrowser(t, s.AppURL)), "bob")
	})

	t.Run("the vendor's error answers", func(t *testing.T) {
		flow(t, "development").expectErrors(m, []vendorError{
			{"error=access_denied", "Authentication rejected, The resource owner or authorization server denied the request."},
			{"token_status=503", "Authentication failed, Failed to obtain access token (HTTP 503)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
		}, "bogus", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})
}
