package integration

import (
	"strings"
	"testing"
)

const bitbucketServerUsers = `- {id: 101, login: alice, name: Alice Smith, email: alice@example.com}
- {id: 102, login: bob, name: Bob}
- {id: 103, login: carol, name: Carol, email: carol@example.com}
`

func bitbucketServerEnv(name, resolvers string) string {
	return vendorEnv(name, resolvers, "\n        host: bitbucket.example.com")
}

// The module always uses https://{host}: the real binary reaches the mock as
// bitbucket.example.com through the test's proxy and CA.
func TestBitbucketServerProvider(t *testing.T) {
	v := newVendorHosts(t, "bitbucket.example.com")
	mock, addr := startVendorMockTLS(t, v, "bitbucketServer", "--users", usersFile(t, bitbucketServerUsers))
	v.route(t, addr, "bitbucket.example.com:443")
	s := startServer(t, serverConfig{Providers: "    bitbucketServer:" +
		bitbucketServerEnv("email", "[{resolver: emailMatchingUserEntityProfileEmail}]") +
		bitbucketServerEnv("localpart", "[{resolver: emailMatchingUserEntityProfileEmail}, {resolver: emailLocalPartMatchingUserEntityName}]")}, v.serverEnv()...)
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "bitbucketServer", env: env, scope: "PROJECT_ADMIN", hosts: v}
	}

	t.Run("sign-in, refresh with rotation, revocation, logout", func(t *testing.T) {
		f := flow(t, "email")
		b := f.browser()
		resp := f.signInAlice(b, "https://bitbucket.example.com/users/alice/avatar.png?s=256&v=1533124800000")
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "BBDC-") || dig(resp, "providerInfo", "scope") != "PROJECT_ADMIN" || dig(resp, "providerInfo", "expiresInSeconds") != float64(3600) {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		if r := f.refreshAsAlice(b, true); dig(r, "providerInfo", "accessToken") == at {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}
		f.expectRevoked(mock, b, "invalid_grant")
		f.signInAndOut()
	})

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{
			{"email", "carol", "carol", ""},
			{"email", "bob", "", "Login failed, user profile does not contain an email"},
			{"localpart", "alice", "alice", ""},
		})
	})

	t.Run("Bitbucket's error answers", func(t *testing.T) {
		flow(t, "email").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, The user denied the request."},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Failed to retrieve the username of the logged in user (HTTP 500)"},
		}, "0123456789abcdef0123", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})
	v.expectTunnelled(t, "bitbucket.example.com:443")
}
