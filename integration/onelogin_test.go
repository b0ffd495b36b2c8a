package integration

import (
	"testing"
)

const oneLoginUsers = `- {id: 1001, login: alice, name: Alice Smith, givenName: Alice, familyName: Smith, email: alice@example.com}
- {id: 1002, login: bob, name: Bob Jones, email: bob@example.com}
- {id: 1003, login: carol.x, name: Carol, email: carol@example.com}
- {id: 1004, login: dave, name: Dave, email: carol@example.com, emailVerified: false}
`

// oneLoginScope is what OneLoginAuth asks for by default; OneLogin gets openid only.
const oneLoginScope = "openid email profile offline_access"

func oneLoginEnv(name, issuer, resolvers string) string {
	return vendorEnv(name, resolvers, "\n        issuer: "+issuer)
}

func TestOneLoginProvider(t *testing.T) {
	mock := startVendorMock(t, "onelogin", "--users", usersFile(t, oneLoginUsers))
	issuer := mock.URL + "/oidc/2"
	s := startServer(t, serverConfig{Providers: "    onelogin:" +
		oneLoginEnv("byname", issuer, "[{resolver: usernameMatchingUserEntityName}]") +
		oneLoginEnv("chained", issuer, "[{resolver: usernameMatchingUserEntityName}, {resolver: emailMatchingUserEntityProfileEmail}]")})
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "onelogin", env: env, scope: oneLoginScope}
	}

	t.Run("sign-in, refresh, revocation, logout", func(t *testing.T) {
		f := flow(t, "byname")
		// OneLogin was asked for openid only, and says so.
		oidcVendorLifecycle(f, mock, "openid")
		f.signInAndOut()
	})

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{

			{"byname", "alice", "alice", ""},
			{"byname", "bob", "", "Tried: usernameMatchingUserEntityName: User not found, looked up user:default/bob."},
			{"chained", "carol.x", "carol", ""},
			// dave (not in the catalog by name) has an email OneLogin says is unverified.
			{"chained", "dave", "", "Login failed, user profile does not contain an email"},
		})
	})

	t.Run("OneLogin's error answers and a forged ID token", func(t *testing.T) {
		flow(t, "byname").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, End user denied access"},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502 server_error)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500 server_error)"},
			{"bad_sig=1", "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
		}, "bogus", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})
}
