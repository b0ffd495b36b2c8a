package integration

import (
	"fmt"
	"strings"
	"testing"
)

// The mock's Bitbucket account UUIDs (mockvendor.BitbucketUUID).
const (
	bitbucketAliceUUID = "{000003e9-0000-4000-8000-0000000003e9}"
	bitbucketBobUUID   = "{000003ea-0000-4000-8000-0000000003ea}"
)

func bitbucketEnv(name, resolvers, extra string) string {
	return fmt.Sprintf(`
      %s:
        clientId: backstage-client
        clientSecret: backstage-secret
        timeout: 1s%s
        signIn:
          resolvers: %s`, name, extra, resolvers)
}

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
		before, _ := b.cookie(s.auth("/bitbucket/refresh"), "bitbucket-refresh-token")
		code, r, body := f.refresh(b)
		if code != 200 {
			t.Fatalf("refresh: %d %s", code, body)
		}
		identity(t, s, r, "alice", "group:default/team-a")
		if got := dig(r, "providerInfo", "accessToken"); got == at || dig(r, "providerInfo", "scope") != "account" {
			t.Errorf("refresh providerInfo %v", r["providerInfo"])
		}
		// Bitbucket keeps the refresh token: nothing to write.
		if after, _ := b.cookie(s.auth("/bitbucket/refresh"), "bitbucket-refresh-token"); after != before {
			t.Error("the refresh cookie was rewritten although nothing changed")
		}
		mock.control(t, "revoke?login=alice")
		if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, "please sign in again (invalid_grant)") {
			t.Errorf("refresh after revocation: %d %s", code, body)
		}
		b = f.browser()
		f.signIn(b)
		f.logout(b)
		if _, ok := b.cookie(s.auth("/bitbucket"), "bitbucket-granted-scope"); ok {
			t.Error("granted-scope cookie survived logout")
		}
	})

	t.Run("resolvers", func(t *testing.T) {
		for _, tc := range []struct {
			env, login, user, err string
		}{
			{"byid", "alice", "alice", ""},
			{"byid", "bob", "", "Tried: userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.bitbucket.org/user-id=" + bitbucketBobUUID + "."},
			{"chained", "bob", "", "usernameMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.bitbucket.org/username=bob."},
			// Without the email scope the profile has no email, as in Backstage.
			{"email", "alice", "", "Login failed, user profile does not contain an email"},
			{"withemail", "carol", "carol", ""},
		} {
			mock.control(t, "next?login="+tc.login)
			f := flow(t, tc.env)
			if tc.env == "withemail" {
				f.scope = "account email"
			}
			f.expect(f.browser(), tc.user, tc.err)
		}
	})

	t.Run("Bitbucket's error answers", func(t *testing.T) {
		flow(t, "byid").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, access denied by user"},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500)"},
		}, "0123456789abcdef0123", "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
	})

	for _, hp := range []string{"bitbucket.org:443", "api.bitbucket.org:443"} {
		if !v.proxy.tunnelled(hp) {
			t.Errorf("nothing went to %s", hp)
		}
	}
}
