package integration

import (
	"strings"
	"testing"
)

// The mock's Bitbucket account UUIDs (mockvendor.BitbucketUUID).
const (
	bitbucketAliceUUID = "{000003e9-0000-4000-8000-0000000003e9}"
	bitbucketBobUUID   = "{000003ea-0000-4000-8000-0000000003ea}"
)

func bitbucketEnv(name, resolvers, extra string) string { return vendorEnv(name, resolvers, extra) }

// Bitbucket Cloud's hosts are hard-coded in the module: the real binary reaches the
// mock as bitbucket.org and api.bitbucket.org through the test's proxy and CA.
func TestBitbucketProvider(t *testing.T) {
	v := newVendorHosts(t, "bitbucket.org", "api.bitbucket.org")
	mock, addr := startVendorMockTLS(t, v, "bitbucket", "--users", usersFile(t, githubUsers))
	v.route(t, addr, "bitbucket.org:443", "api.bitbucket.org:443")
	s := startServer(t, serverConfig{Org: withAliceAnnotations(`bitbucket.org/user-id: "`+bitbucketAliceUUID+`"`, "bitbucket.org/username: alice"), Providers: "    bitbucket:" +
		bitbucketEnv("byid", "[{resolver: userIdMatchingUserEntityAnnotation}]", "") +
		bitbucketEnv("chained", "[{resolver: userIdMatchingUserEntityAnnotation}, {resolver: usernameMatchingUserEntityAnnotation}]", "") +
		bitbucketEnv("email", "[{resolver: emailMatchingUserEntityProfileEmail}]", "") +
		bitbucketEnv("withemail", "[{resolver: emailMatchingUserEntityProfileEmail}]", "\n        additionalScopes: [email]")}, v.serverEnv()...)
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "bitbucket", env: env, scope: "account", hosts: v}
	}

	t.Run("sign-in, refresh, revocation, logout", func(t *testing.T) {
		f := flow(t, "byid")
		b := f.browser()
		resp := f.signIn(b)
		identity(t, s, resp, "alice", "group:default/team-a")
		// Backstage's mapping: no email, no picture.
		if p := resp["profile"].(map[string]any); len(p) != 1 || p["displayName"] != "Alice Smith" {
			t.Errorf("profile %v", p)
		}
		at, _ := dig(resp, "providerInfo", "accessToken").(string)
		if !strings.HasPrefix(at, "bbat-") || dig(resp, "providerInfo", "scope") != "account" || dig(resp, "providerInfo", "expiresInSeconds") != float64(3600) {
			t.Errorf("providerInfo %v", resp["providerInfo"])
		}
		if c, ok := b.cookie(s.auth("/bitbucket"), "bitbucket-granted-scope"); !ok || c != "account" {
			t.Errorf("granted-scope cookie %q %v", c, ok)
		}
		// Bitbucket keeps the refresh token: nothing to write.
		r := f.refreshAsAlice(b, false)
		if got := dig(r, "providerInfo", "accessToken"); got == at || dig(r, "providerInfo", "scope") != "account" {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}
		f.expectRevoked(mock, b, "invalid_grant")
		b = f.browser()
		f.signIn(b)
		f.logout(b)
		if _, ok := b.cookie(s.auth("/bitbucket"), "bitbucket-granted-scope"); ok {
			t.Error("granted-scope cookie survived logout")
		}
	})

	t.Run("resolvers", func(t *testing.T) {
		withEmail := func(env string) oauthFlow {
			f := flow(t, env)
			if env == "withemail" {
				f.scope = "account email"
			}
			return f
		}
		expectResolvers(mock, withEmail, []resolverCase{
			{"byid", "alice", "alice", ""},
			{"byid", "bob", "", "Tried: userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.bitbucket.org/user-id=" + bitbucketBobUUID + "."},
			{"chained", "bob", "", "usernameMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.bitbucket.org/username=bob."},
			// Without the email scope the profile has no email, as in Backstage.
			{"email", "alice", "", "Login failed, user profile does not contain an email"},
			{"withemail", "carol", "carol", ""},
		})
	})

	t.Run("Bitbucket's error answers", func(t *testing.T) {
		flow(t, "byid").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, access denied by user"},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
		}, "0123456789abcdef0123", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})

	v.expectTunnelled(t, "bitbucket.org:443", "api.bitbucket.org:443")
}
