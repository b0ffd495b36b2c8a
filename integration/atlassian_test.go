package integration

import (
	"strings"
	"testing"
)

const atlassianScope = "offline_access read:me read:jira-work read:jira-user"

func atlassianEnv(name, resolvers string) string { return vendorEnv(name, resolvers, "") }

// Atlassian's hosts are hard-coded in the module: the real binary reaches the mock as
// auth.atlassian.com and api.atlassian.com through the test's proxy and CA.
func TestAtlassianProvider(t *testing.T) {
	v := newVendorHosts(t, "auth.atlassian.com", "api.atlassian.com")
	mock, addr := startVendorMockTLS(t, v, "atlassian", "--users", usersFile(t, githubUsers))
	v.route(t, addr, "auth.atlassian.com:443", "api.atlassian.com:443")
	s := startServer(t, serverConfig{Providers: "    atlassian:" +
		atlassianEnv("email", "[{resolver: emailMatchingUserEntityProfileEmail}]") +
		atlassianEnv("username", "[{resolver: usernameMatchingUserEntityName}, {resolver: emailMatchingUserEntityProfileEmail}]")}, v.serverEnv()...)
	flow := func(t *testing.T, env string) oauthFlow {
		// AtlassianAuth asks for no scope of its own: the module's required ones are sent.
		return oauthFlow{t: t, s: s, provider: "atlassian", env: env, scope: "", hosts: v}
	}

	t.Run("sign-in, refresh with rotation, revocation, logout", func(t *testing.T) {
		f := flow(t, "email")
		b := f.browser()
		resp := f.signInAlice(b, "https://avatar-management.services.atlassian.com/alice/128")
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "eyJatl.") || dig(resp, "providerInfo", "scope") != atlassianScope || dig(resp, "providerInfo", "expiresInSeconds") != float64(3600) {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		r := f.refreshAsAlice(b, true)
		if dig(r, "providerInfo", "accessToken") == at || dig(r, "providerInfo", "scope") != atlassianScope {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}
		f.expectRevoked(mock, b, "invalid_grant")
		f.signInAndOut()
	})

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{
			{"email", "carol", "carol", ""},
			{"email", "bob", "", "Login failed, user profile does not contain an email"},
			// As in Backstage: Atlassian profiles have no username; the chain stops.
			{"username", "alice", "", "Atlassian user profile does not contain a username"},
		})
	})

	t.Run("Atlassian's error answers", func(t *testing.T) {
		flow(t, "email").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, access_denied"},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502 server_error)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
		}, "0123456789abcdef0123", "Authentication failed, Failed to obtain access token (HTTP 403 invalid_grant)")
	})
	v.expectTunnelled(t, "auth.atlassian.com:443", "api.atlassian.com:443")
}
