package integration

import (
	"strings"
	"testing"
)

const googleUsers = `- {id: 1001, login: alice, name: Alice Smith, givenName: Alice, familyName: Smith, email: alice@example.com, hd: example.com}
- {id: 1002, login: bob, name: Bob Jones, email: bob@example.com}
- {id: 1003, login: carol, name: Carol, email: carol@example.com}
- {id: 1004, login: dave, name: Dave, email: carol@example.com, emailVerified: false}
`

// googleScope is what GoogleAuth asks for by default.
const googleScope = "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile"

func googleEnv(name, resolvers string) string { return vendorEnv(name, resolvers, "") }

// Google's hosts are hard-coded in the module: the real binary reaches the mock as
// accounts.google.com, www.googleapis.com and oauth2.googleapis.com through the test's
// proxy and CA.
func TestGoogleProvider(t *testing.T) {
	v := newVendorHosts(t, "accounts.google.com", "www.googleapis.com", "oauth2.googleapis.com")
	mock, addr := startVendorMockTLS(t, v, "google", "--users", usersFile(t, googleUsers))
	v.route(t, addr, "accounts.google.com:443", "www.googleapis.com:443", "oauth2.googleapis.com:443")
	s := startServer(t, serverConfig{Providers: "    google:" +
		googleEnv("byannotation", "[{resolver: emailMatchingUserEntityAnnotation}]") +
		googleEnv("chained", "[{resolver: emailMatchingUserEntityAnnotation}, {resolver: emailMatchingUserEntityProfileEmail}]") +
		googleEnv("localpart", "[{resolver: emailLocalPartMatchingUserEntityName}]")}, v.serverEnv()...)
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "google", env: env, scope: googleScope, hosts: v}
	}

	t.Run("sign-in, refresh, revocation at Google, logout revokes", func(t *testing.T) {
		f := flow(t, "byannotation")
		b := f.browser()
		resp := f.signIn(b)
		identity(t, s, resp, "alice", "group:default/team-a")
		if p := resp["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" ||
			p["picture"] != "https://lh3.googleusercontent.com/a/ACg8oc100000000000000001001=s96-c" {
			t.Errorf("profile %v", p)
		}
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		idt, _ := dig(resp, "providerInfo", "idToken").(string)
		if !strings.HasPrefix(at, "ya29.a0") || strings.Count(idt, ".") != 2 || dig(resp, "providerInfo", "scope") != googleScope ||
			dig(resp, "providerInfo", "expiresInSeconds") != float64(3599) {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		// Google does not rotate refresh tokens: nothing to write.
		r := f.refreshAsAlice(b, false)
		if got := dig(r, "providerInfo", "accessToken"); got == at || !strings.HasPrefix(got.(string), "ya29.a0") || dig(r, "providerInfo", "idToken") == idt ||
			dig(r, "providerInfo", "expiresInSeconds") != float64(3599) {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}
		// The user removes the app at Google: the grant ends.
		f.expectRevoked(mock, b, "invalid_grant")

		b = f.browser()
		f.signIn(b)
		revokes := len(mock.requests(t, "/revoke"))
		f.logout(b)
		if n := len(mock.requests(t, "/revoke")); n != revokes+1 {
			t.Errorf("logout revoked %d refresh tokens at Google, want 1", n-revokes)
		}
		// A failed revocation does not keep the user signed in.
		b = f.browser()
		f.signIn(b)
		mock.control(t, "next?revoke_status=503")
		f.logout(b)
	})

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{
			{"byannotation", "alice", "alice", ""},
			{"byannotation", "bob", "", "Tried: emailMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.google.com/email=bob@example.com."},
			// carol has no google.com/email annotation, but her profile email matches.
			{"chained", "carol", "carol", ""},
			{"chained", "bob", "", "emailMatchingUserEntityProfileEmail with spec.profile.email=bob@example.com."},
			{"localpart", "carol", "carol", ""},
			// Google says dave's address (carol's) is not verified: it is not used.
			{"chained", "dave", "", "Google profile contained no email"},
			{"localpart", "dave", "", "Login failed, user profile does not contain an email"},
		})
	})

	t.Run("Google's error answers and a forged ID token", func(t *testing.T) {
		flow(t, "byannotation").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, access_denied"},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
			{"bad_sig=1", "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
			{"id_token_aud=someone-else", "Authentication rejected, the ID token audience does not include this client"},
		}, "4/0Abogus", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})

	v.expectTunnelled(t, "accounts.google.com:443", "www.googleapis.com:443", "oauth2.googleapis.com:443")
}
