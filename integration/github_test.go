package integration

import (
	"net/url"
	"strings"
	"testing"
)

const githubUsers = `- {id: 1001, nodeId: MDQ6VXNlcjEwMDE=, login: alice, name: Alice Smith, email: alice@example.com, avatarUrl: "https://avatars.githubusercontent.com/u/1001?v=4"}
- {id: 1002, nodeId: MDQ6VXNlcjEwMDI=, login: bob}
- {id: 1003, nodeId: MDQ6VXNlcjEwMDM=, login: carol, email: carol@example.com}
`

// githubEnv is one auth.providers.github environment against a mock (GitHub Enterprise
// Server layout, so the real binary talks to it without any test hook).
func githubEnv(name string, mock *vendorMock, resolvers string) string {
	return vendorEnv(name, resolvers, "\n        enterpriseInstanceUrl: "+mock.URL+"/")
}

func TestGitHubProvider(t *testing.T) {
	app := startVendorMock(t, "github", "--users", usersFile(t, githubUsers))
	ghApp := startVendorMock(t, "github", "--users", usersFile(t, githubUsers), "--expiring-tokens")
	s := startServer(t, serverConfig{Providers: "    github:" +
		githubEnv("byid", app, "[{resolver: userIdMatchingUserEntityAnnotation}]") +
		githubEnv("chained", app, "[{resolver: userIdMatchingUserEntityAnnotation}, {resolver: usernameMatchingUserEntityName}]") +
		githubEnv("email", app, "[{resolver: emailMatchingUserEntityProfileEmail}, {resolver: emailLocalPartMatchingUserEntityName}]") +
		githubEnv("app", ghApp, "[{resolver: usernameMatchingUserEntityName}]")})
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "github", env: env, scope: "read:user"}
	}

	t.Run("OAuth app: sign-in, refresh re-checks /user, revocation, logout", func(t *testing.T) {
		f := flow(t, "byid")
		b := newBrowser(t, s.AppURL)
		resp := f.signInAlice(b, "https://avatars.githubusercontent.com/u/1001?v=4")
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "gho_") || dig(resp, "providerInfo", "scope") != "read:user" ||
			hasKey(resp, "expiresInSeconds", "providerInfo") || hasKey(resp, "idToken", "providerInfo") {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		if v, ok := b.cookie(s.auth("/github"), "github-granted-scope"); !ok || v != url.QueryEscape("read:user") {
			t.Errorf("granted-scope cookie %q %v", v, ok)
		}

		code, r, body := f.refresh(b)
		if code != 200 {
			t.Fatalf("refresh: %d %s", code, body)
		}
		identity(t, s, r, "alice", "group:default/team-a")
		if dig(r, "providerInfo", "accessToken") != at || dig(r, "providerInfo", "scope") != "read:user" || hasKey(r, "expiresInSeconds", "providerInfo") {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}

		// The user revokes the app at GitHub: the kept token no longer opens /user.
		app.control(t, "revoke?login=alice")
		if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, `"message":"Refresh failed; caused by Error: Invalid access token"`) {
			t.Errorf("refresh after revocation: %d %s", code, body)
		}
		b = newBrowser(t, s.AppURL)
		f.signIn(b)
		f.logout(b)
		if _, ok := b.cookie(s.auth("/github"), "github-granted-scope"); ok {
			t.Error("granted-scope cookie survived logout")
		}
	})

	t.Run("GitHub App: refresh grant, rotation, expired refresh token", func(t *testing.T) {
		f := flow(t, "app")
		b := newBrowser(t, s.AppURL)
		resp := f.signIn(b)
		identity(t, s, resp, "alice", "group:default/team-a")
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "ghu_") || dig(resp, "providerInfo", "expiresInSeconds") != float64(28800) {
			t.Errorf("providerInfo %v (expiresInSeconds must be a number)", resp["providerInfo"])
		}
		r := f.refreshAsAlice(b, true)
		if got := dig(r, "providerInfo", "accessToken"); got == at || !strings.HasPrefix(got.(string), "ghu_") || dig(r, "providerInfo", "expiresInSeconds") != float64(28800) {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}
		f.expectRevoked(ghApp, b, "bad_refresh_token")
		f.logout(b)
	})

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(app, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{
			{"byid", "alice", "alice", ""},
			{"byid", "bob", "", "Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver. Tried: userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.github.com/user-id=MDQ6VXNlcjEwMDI=."},
			// carol has no github.com/user-id annotation: NotFound, then her login matches.
			{"chained", "carol", "carol", ""},
			{"chained", "bob", "", "usernameMatchingUserEntityName: User not found, looked up user:default/bob."},
			{"email", "alice", "alice", ""},
			// bob has no public email (and /user/emails is never read).
			{"email", "bob", "", "Login failed, user profile does not contain an email"},
		})
	})

	t.Run("GitHub's error answers", func(t *testing.T) {
		// A bad (or replayed) code: GitHub answers 200 error=bad_verification_code.
		flow(t, "byid").expectErrors(app, []vendorError{
			{"error=access_denied", "Authentication rejected, The user has denied your application access."},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
		}, "0123456789abcdef0123", "Authentication failed, Failed to obtain access token (bad_verification_code)")
	})
}

// github.com itself: the module's hard-coded hosts (github.com for authorize and token,
// api.github.com for /user), reached through the test's proxy and CA.
func TestGitHubDotCom(t *testing.T) {
	v := newVendorHosts(t, "github.com", "api.github.com")
	mock, addr := startVendorMockTLS(t, v, "github", "--users", usersFile(t, githubUsers))
	v.route(t, addr, "github.com:443", "api.github.com:443")
	s := startServer(t, serverConfig{Providers: `
    github:
      production:
        clientId: backstage-client
        clientSecret: backstage-secret
        signIn:
          resolvers: [{resolver: userIdMatchingUserEntityAnnotation}]`}, v.serverEnv()...)
	f := oauthFlow{t: t, s: s, provider: "github", env: "production", scope: "read:user"}
	b := newBrowser(t, s.AppURL)
	v.browse(b)
	resp := f.signIn(b)
	identity(t, s, resp, "alice", "group:default/team-a")
	if p := resp["profile"].(map[string]any); p["email"] != "alice@example.com" {
		t.Errorf("profile %v", p)
	}
	if code, _, body := f.refresh(b); code != 200 {
		t.Fatalf("refresh: %d %s", code, body)
	}
	v.expectTunnelled(t, "github.com:443", "api.github.com:443")
	if n := len(mock.requests(t, "/user")); n != 2 {
		t.Errorf("/user asked %d times, want sign-in and refresh", n)
	}
	f.logout(b)
}
