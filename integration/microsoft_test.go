package integration

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

const microsoftUsers = `- {id: 1001, login: alice, name: Alice Smith, givenName: Alice, familyName: Smith, email: alice@example.com, photo: true}
- {id: 1002, login: bob, name: Bob Jones, email: bob@example.com}
- {id: 1003, login: carol, name: Carol, upn: carol@example.com}
- {id: 1004, login: dana, name: Dana, email: dana@outlook.com, tenantId: 9188040d-6c67-4c5b-b112-36a304b66dad}
`

// microsoftScope is what MicrosoftAuth asks for by default.
const microsoftScope = "openid offline_access profile email User.Read"

// mockTenant is the mock's own Entra ID tenant (mockvendor.DefaultEntraTenant).
const mockTenant = "7f3c2a1b-4d5e-4f60-8a9b-0c1d2e3f4a5b"

func microsoftEnv(name, tenant, extra, resolvers string) string {
	return vendorEnv(name, resolvers, "\n        tenantId: "+tenant+extra)
}

// claimsOf decodes a JWT's payload (the mock's Graph tokens; Graph checks them).
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return m
}

// Entra ID's and Graph's hosts are hard-coded in the module: the real binary reaches
// the mock as login.microsoftonline.com and graph.microsoft.com through the test's
// proxy and CA.
func TestMicrosoftProvider(t *testing.T) {
	v := newVendorHosts(t, "login.microsoftonline.com", "graph.microsoft.com")
	mock, addr := startVendorMockTLS(t, v, "microsoft", "--users", usersFile(t, microsoftUsers))
	v.route(t, addr, "login.microsoftonline.com:443", "graph.microsoft.com:443")
	s := startServer(t, serverConfig{Providers: "    microsoft:" +
		microsoftEnv("byid", mockTenant, "", "[{resolver: userIdMatchingUserEntityAnnotation}]") +
		microsoftEnv("byemail", "common", "\n        domainHint: example.com", "[{resolver: emailMatchingUserEntityAnnotation}]") +
		microsoftEnv("chained", "organizations", "", "[{resolver: userIdMatchingUserEntityAnnotation}, {resolver: emailMatchingUserEntityAnnotation}, {resolver: emailMatchingUserEntityProfileEmail}]") +
		microsoftEnv("skip", mockTenant, "\n        skipUserProfile: true", "[{resolver: userIdMatchingUserEntityAnnotation}]") +
		microsoftEnv("personal", "common", "", "[{resolver: emailLocalPartMatchingUserEntityName, dangerouslyAllowSignInWithoutUserInCatalog: true}]")}, v.serverEnv()...)
	flow := func(t *testing.T, env, scope string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "microsoft", env: env, scope: scope, hosts: v}
	}

	t.Run("sign-in with Graph, refresh with rotation, revocation, logout", func(t *testing.T) {
		f := flow(t, "byid", microsoftScope)
		b := f.browser()
		resp := f.signIn(b)
		identity(t, s, resp, "alice", "group:default/team-a")
		p := resp["profile"].(map[string]any)
		if p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" || !strings.HasPrefix(p["picture"].(string), "data:image/jpeg;base64,/9j/") {
			t.Errorf("profile %v", p)
		}
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if c := claimsOf(t, at); c["aud"] != "00000003-0000-0000-c000-000000000000" || strings.Count(dig(resp, "providerInfo", "idToken").(string), ".") != 2 ||
			dig(resp, "providerInfo", "expiresInSeconds") != float64(3600) {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		// The token answer's scope as it is, as Backstage reports it for providers
		// that do not persist scopes: Entra ID leaves offline_access out.
		if sc := dig(resp, "providerInfo", "scope"); sc != "openid profile email User.Read" {
			t.Errorf("providerInfo.scope %q", sc)
		}
		if r := f.refreshAsAlice(b, true); dig(r, "providerInfo", "accessToken") == at || dig(r, "profile", "email") != "alice@example.com" {
			t.Errorf("refresh %v", r)
		}
		if code, _, body := f.refresh(b); code != 200 {
			t.Fatalf("second refresh (with the rotated token): %d %s", code, body)
		}
		f.expectRevoked(mock, b, "invalid_grant")
		f.signInAndOut()
	})

	t.Run("a resource scope: the extra Graph grant, the resource's token kept", func(t *testing.T) {
		f := flow(t, "byemail", "api://backstage-api/read")
		b := f.browser()
		tokens := len(mock.requests(t, "/oauth2/v2.0/token"))
		resp := f.signIn(b)
		identity(t, s, resp, "alice", "group:default/team-a")
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if c := claimsOf(t, at); c["aud"] != "api://backstage-api" {
			t.Errorf("providerInfo.accessToken is for %v", c["aud"])
		}
		if dig(resp, "profile", "email") != "alice@example.com" {
			t.Errorf("profile %v", resp["profile"])
		}
		if n := len(mock.requests(t, "/oauth2/v2.0/token")) - tokens; n != 2 {
			t.Errorf("%d token requests, want the code exchange and the Graph grant", n)
		}
		code, r, body := f.refresh(b)
		if code != 200 {
			t.Fatalf("refresh: %d %s", code, body)
		}
		if c := claimsOf(t, dig(r, "providerInfo", "accessToken").(string)); c["aud"] != "api://backstage-api" {
			t.Errorf("refreshed token is for %v", c["aud"])
		}
		f.logout(b)
	})

	t.Run("resolvers and tenants", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env, microsoftScope) }, []resolverCase{
			{"byid", "alice", "alice", ""},
			{"byid", "bob", "", "Tried: userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.graph.microsoft.com/user-id=00000000-0000-4000-8000-000000001002."},
			{"byemail", "alice", "alice", ""},
			{"byemail", "bob", "", "emailMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.microsoft.com/email=bob@example.com."},
			// carol: neither annotation, but her userPrincipalName is her catalog email.
			{"chained", "carol", "carol", ""},
			{"chained", "bob", "", "emailMatchingUserEntityProfileEmail with spec.profile.email=bob@example.com."},
			// skipUserProfile: no Graph; the verified ID token's oid is the user id.
			{"skip", "alice", "alice", ""},
			// A personal account at common (opaque Graph token), not in the catalog.
			{"personal", "dana", "dana", ""},
		})
		f := flow(t, "skip", microsoftScope)
		mock.control(t, "next?login=bob")
		if got := f.signInError(f.browser()); !strings.Contains(got, "userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.graph.microsoft.com/user-id=00000000-0000-4000-8000-000000001002") {
			t.Errorf("skip, bob: %q", got)
		}
	})

	t.Run("Entra ID's error answers and forged ID tokens", func(t *testing.T) {
		flow(t, "byid", microsoftScope).expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, AADSTS65004: User declined to consent to access the app."},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502 temporarily_unavailable)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
			{"bad_sig=1", "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
		}, "1.AXEAbogus", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
		// At common, a token whose iss names another tenant than its tid.
		flow(t, "byemail", microsoftScope).expectErrors(mock, []vendorError{
			{"id_token_iss=https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
				`Authentication rejected, the ID token issuer "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0" is not the identity provider "https://login.microsoftonline.com/{tenantid}/v2.0"`},
		}, "1.AXEAbogus", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})

	v.expectTunnelled(t, "login.microsoftonline.com:443", "graph.microsoft.com:443")
}
