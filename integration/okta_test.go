package integration

import (
	"strings"
	"testing"
)

const oktaUsers = `- {id: 1001, login: alice, name: Alice Smith, givenName: Alice, familyName: Smith, email: alice@example.com, avatarUrl: "https://okta.example/alice.png"}
- {id: 1002, login: bob, name: Bob Jones, email: bob@example.com}
- {id: 1003, login: carol, name: Carol, email: carol@example.com}
- {id: 1004, login: dave, name: Dave, email: carol@example.com, emailVerified: false}
`

// oktaScope is what OktaAuth asks for by default.
const oktaScope = "openid email profile offline_access"

// oktaOrg is the test catalog with alice's okta.com/email annotation.
var oktaOrg = strings.Replace(orgYAML, "  annotations:\n", "  annotations:\n    okta.com/email: alice@example.com\n", 1)

func oktaEnv(name, audience, extra, resolvers string) string {
	return vendorEnv(name, resolvers, "\n        audience: "+audience+extra)
}

// The Okta org is configured (audience), so the real binary reaches the mock on
// loopback; the org and a custom authorization server both serve it.
func TestOktaProvider(t *testing.T) {
	mock := startVendorMock(t, "okta", "--users", usersFile(t, oktaUsers))
	s := startServer(t, serverConfig{Org: oktaOrg, Providers: "    okta:" +
		oktaEnv("byannotation", mock.URL, "", "[{resolver: emailMatchingUserEntityAnnotation}]") +
		oktaEnv("custom", mock.URL, "\n        authServerId: default\n        idp: 0oa1mockidp", "[{resolver: emailMatchingUserEntityAnnotation}]") +
		oktaEnv("chained", mock.URL, "", "[{resolver: emailMatchingUserEntityAnnotation}, {resolver: emailMatchingUserEntityProfileEmail}]") +
		oktaEnv("localpart", mock.URL, "", "[{resolver: emailLocalPartMatchingUserEntityName}]")})
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "okta", env: env, scope: oktaScope}
	}

	for _, tc := range []struct{ env, prefix string }{{"byannotation", "/oauth2/v1"}, {"custom", "/oauth2/default/v1"}} {
		t.Run("sign-in, refresh, revocation, logout: "+tc.env, func(t *testing.T) {
			f := flow(t, tc.env)
			resp := oidcVendorLifecycle(f, mock, oktaScope)
			if p := resp["profile"].(map[string]any); p["picture"] != "https://okta.example/alice.png" {
				t.Errorf("profile %v", p)
			}
			if at, _ := dig(resp, "providerInfo", "accessToken").(string); strings.Count(at, ".") != 2 {
				t.Errorf("Okta's access tokens are JWTs: %q", at)
			}
			if n := len(mock.requests(t, tc.prefix+"/userinfo")); n == 0 {
				t.Errorf("nothing went to %s/userinfo", tc.prefix)
			}
			f.signInAndOut()
		})
	}

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{

			{"byannotation", "alice", "alice", ""},
			{"byannotation", "bob", "", "Tried: emailMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.okta.com/email=bob@example.com."},
			{"chained", "carol", "carol", ""},
			{"chained", "bob", "", "emailMatchingUserEntityProfileEmail with spec.profile.email=bob@example.com."},
			{"localpart", "carol", "carol", ""},
			// Okta says dave's address (carol's) is not verified: it is not used.
			{"chained", "dave", "", "Okta profile contained no email"},
			{"localpart", "dave", "", "Login failed, user profile does not contain an email"},
		})
	})

	t.Run("Okta's error answers and a forged ID token", func(t *testing.T) {
		flow(t, "byannotation").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, User is not assigned to the client application."},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502 server_error)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500 server_error)"},
			{"bad_sig=1", "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
			{"id_token_aud=someone-else", "Authentication rejected, the ID token audience does not include this client"},
		}, "bogus", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})
}

// oidcVendorLifecycle signs alice in through f (an OpenID Connect vendor's mock) and
// checks her Backstage identity, profile email and name, providerInfo (an ID token,
// scope, expiresInSeconds 3600), a refresh with new tokens, and that a grant revoked at
// the mock ends the session (401). It returns the sign-in response.
func oidcVendorLifecycle(f oauthFlow, mock *vendorMock, scope string) map[string]any {
	t := f.t
	t.Helper()
	b := f.browser()
	resp := f.signIn(b)
	identity(t, f.s, resp, "alice", "group:default/team-a")
	if p := resp["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" {
		t.Errorf("profile %v", p)
	}
	at, _ := dig(resp, "providerInfo", "accessToken").(string)
	idt, _ := dig(resp, "providerInfo", "idToken").(string)
	if at == "" || strings.Count(idt, ".") != 2 || dig(resp, "providerInfo", "scope") != scope || dig(resp, "providerInfo", "expiresInSeconds") != float64(3600) {
		t.Errorf("providerInfo %v", resp["providerInfo"])
	}
	code, r, body := f.refresh(b)
	if code != 200 {
		t.Fatalf("refresh: %d %s", code, body)
	}
	identity(t, f.s, r, "alice", "group:default/team-a")
	if dig(r, "providerInfo", "accessToken") == at || dig(r, "providerInfo", "idToken") == idt || dig(r, "providerInfo", "expiresInSeconds") != float64(3600) {
		t.Errorf("refresh providerInfo %v", r["providerInfo"])
	}
	f.expectRevoked(mock, b, "invalid_grant")
	return resp
}
