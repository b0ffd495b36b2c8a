package integration

import (
	"strings"
	"testing"
)

// withAliceAnnotations is the test catalog with more annotations on alice (one
// "key: value" per line).
func withAliceAnnotations(annotations ...string) string {
	extra := ""
	for _, a := range annotations {
		extra += "    " + a + "\n"
	}
	return strings.Replace(orgYAML, "  name: alice\n  annotations:\n", "  name: alice\n  annotations:\n"+extra, 1)
}

// gitlabEnv is one auth.providers.gitlab environment against a mock self-managed
// GitLab (audience = its base URL).
func gitlabEnv(name string, mock *vendorMock, resolvers string) string {
	return vendorEnv(name, resolvers, "\n        audience: "+mock.URL)
}

func TestGitLabProvider(t *testing.T) {
	mock := startVendorMock(t, "gitlab", "--users", usersFile(t, githubUsers))
	// The mock's web_url is http://127.0.0.1:<port>/<username>: the annotation's host
	// is 127.0.0.1.
	s := startServer(t, serverConfig{Org: withAliceAnnotations(`127.0.0.1/user-id: "1001"`), Providers: "    gitlab:" +
		gitlabEnv("byid", mock, "[{resolver: userIdMatchingUserEntityAnnotation}]") +
		gitlabEnv("chained", mock, "[{resolver: userIdMatchingUserEntityAnnotation}, {resolver: usernameMatchingUserEntityName}]") +
		gitlabEnv("email", mock, "[{resolver: emailMatchingUserEntityProfileEmail}]") +
		gitlabEnv("fallback", mock, "[{resolver: usernameMatchingUserEntityName, dangerouslyAllowSignInWithoutUserInCatalog: true}]") +
		gitlabEnv("openid", mock, "[{resolver: usernameMatchingUserEntityName}]\n        additionalScopes: [openid, profile]")})
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "gitlab", env: env, scope: "read_user"}
	}

	t.Run("sign-in, refresh with rotation, revocation, logout", func(t *testing.T) {
		f := flow(t, "byid")
		b := newBrowser(t, s.AppURL)
		resp := f.signInAlice(b, "https://avatars.githubusercontent.com/u/1001?v=4")
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "glpat-oauth-") || dig(resp, "providerInfo", "scope") != "read_user" ||
			dig(resp, "providerInfo", "expiresInSeconds") != float64(3600) || hasKey(resp, "idToken", "providerInfo") {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		if _, ok := b.cookie(s.auth("/gitlab"), "gitlab-granted-scope"); ok {
			t.Error("GitLab's scopes do not persist")
		}
		r := f.refreshAsAlice(b, true)
		if got := dig(r, "providerInfo", "accessToken"); got == at || dig(r, "providerInfo", "expiresInSeconds") != float64(3600) || dig(r, "providerInfo", "scope") != "read_user" {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}
		f.expectRevoked(mock, b, "invalid_grant")
		f.signInAndOut()
	})

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{
			{"byid", "alice", "alice", ""},
			{"byid", "carol", "", "Tried: userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.127.0.0.1/user-id=1003."},
			// carol has no user-id annotation: NotFound, then her username matches.
			{"chained", "carol", "carol", ""},
			{"chained", "bob", "", "usernameMatchingUserEntityName: User not found, looked up user:default/bob."},
			{"email", "carol", "carol", ""},
			{"email", "bob", "", "Login failed, user profile does not contain an email"},
			{"fallback", "bob", "bob", ""},
		})
	})

	t.Run("openid: a verified id_token", func(t *testing.T) {
		f := flow(t, "openid")
		resp := f.signIn(newBrowser(t, s.AppURL))
		identity(t, s, resp, "alice", "group:default/team-a")
		if idt, _ := dig(resp, "providerInfo", "idToken").(string); strings.Count(idt, ".") != 2 || dig(resp, "providerInfo", "scope") != "read_user openid profile" {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		f.expectErrors(mock, []vendorError{
			{"bad_sig=1", "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
			{"id_token_aud=someone-else", "Authentication rejected, the ID token audience does not include this client"},
		}, "0123456789abcdef0123", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})

	t.Run("GitLab's error answers", func(t *testing.T) {
		flow(t, "byid").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, The resource owner or authorization server denied the request."},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
		}, "0123456789abcdef0123", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})
}
