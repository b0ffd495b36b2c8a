package e2e_test

import (
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// Differential rows for gitlab, bitbucket, bitbucketServer and atlassian: each the
// real Node module and ours against the same mockvendor personality.

const (
	diffClientID     = "e2e-client"
	diffClientSecret = "e2e-secret"
)

// The router's deliberate differences the rows show.
const (
	nonceCookieCleared = "the nonce cookie is cleared after a successful callback, so a callback URL works once; the refresh cookie's lifetime is capped at 400 days (Backstage asks for 1000)"
	// refreshCookieCapped: a rotated refresh token is sealed again in a cookie with
	// the capped lifetime.
	refreshCookieCapped = "the refresh cookie's lifetime is capped at 400 days, as browsers cap it (Backstage asks for 1000)"
	// grantedScopeUnchanged: a refresh that changes nothing sets no cookie.
	grantedScopeUnchanged = "a refresh that changes nothing sets no cookie (Backstage re-sets the unchanged granted-scope cookie)"
)

func diffStub(p mockvendor.Personality) *mockvendor.Server {
	return mockvendor.New(mockvendor.Options{Personality: p, ClientID: diffClientID, ClientSecret: diffClientSecret})
}

func diffClient() m { return m{"clientId": diffClientID, "clientSecret": diffClientSecret} }

// TestDifferentialGitLab: gitlab.com (the default audience) is the GitLab personality.
func TestDifferentialGitLab(t *testing.T) {
	stub := diffStub(mockvendor.GitLab)
	runDifferential(t, diffCase{
		provider: "gitlab", module: "gitlab", config: diffClient(), scope: "read_user",
		stub: vendornet.HostMux{"gitlab.com": stub.Handler()},
		deliberate: map[string]string{
			"authorize params":   "we send S256 PKCE, which GitLab supports and Backstage does not send",
			"signin[2] cookies":  nonceCookieCleared,
			"refresh[0] cookies": refreshCookieCapped,
		},
	})
}

// TestDifferentialGitLabOpenID: with openid GitLab adds an id_token, which Node passes
// on unverified and we verify (the stub's discovery document and keys at gitlab.com).
func TestDifferentialGitLabOpenID(t *testing.T) {
	stub := diffStub(mockvendor.GitLab)
	cfg := diffClient()
	cfg["additionalScopes"] = []any{"openid", "profile", "email"}
	runDifferential(t, diffCase{
		provider: "gitlab", module: "gitlab", config: cfg, scope: "read_user",
		stub: vendornet.HostMux{"gitlab.com": stub.Handler()},
		deliberate: map[string]string{
			"authorize params":   "we send S256 PKCE and a nonce, which GitLab supports and Backstage does not send",
			"signin response":    "the id_token carries the nonce we sent (its claim names are compared)",
			"signin[2] cookies":  nonceCookieCleared,
			"refresh[0] cookies": refreshCookieCapped,
		},
	})
}

// TestDifferentialBitbucket: bitbucket.org and api.bitbucket.org are the Bitbucket
// personality; alice is found by her account UUID.
func TestDifferentialBitbucket(t *testing.T) {
	stub := diffStub(mockvendor.Bitbucket)
	org := strings.Replace(diffOrgYAML, "    github.com/user-login: alice\n",
		"    github.com/user-login: alice\n    bitbucket.org/user-id: \""+mockvendor.BitbucketUUID(1001)+"\"\n", 1)
	runDifferential(t, diffCase{
		provider: "bitbucket", module: "bitbucket", config: diffClient(), scope: "account", orgYAML: org,
		signIn: m{"resolvers": []any{m{"resolver": "userIdMatchingUserEntityAnnotation"}}},
		stub:   vendornet.HostMux{"bitbucket.org": stub.Handler(), "api.bitbucket.org": stub.Handler()},
		deliberate: map[string]string{
			"signin[2] cookies":  nonceCookieCleared,
			"refresh[0] cookies": grantedScopeUnchanged,
		},
	})
}

// TestDifferentialBitbucketServer: a Bitbucket Data Center at bitbucket.e2e.test.
func TestDifferentialBitbucketServer(t *testing.T) {
	const host = "bitbucket.e2e.test"
	stub := diffStub(mockvendor.BitbucketServer)
	cfg := diffClient()
	cfg["host"] = host
	runDifferential(t, diffCase{
		provider: "bitbucketServer", module: "bitbucket-server", config: cfg, scope: "PROJECT_ADMIN", hosts: []string{host},
		stub: vendornet.HostMux{host: stub.Handler()},
		deliberate: map[string]string{
			"signin[2] cookies":  nonceCookieCleared,
			"refresh[0] cookies": refreshCookieCapped,
		},
	})
}

// TestDifferentialAtlassian: auth.atlassian.com and api.atlassian.com are the Atlassian
// personality; AtlassianAuth asks for no scope of its own.
func TestDifferentialAtlassian(t *testing.T) {
	stub := diffStub(mockvendor.Atlassian)
	runDifferential(t, diffCase{
		provider: "atlassian", module: "atlassian", config: diffClient(),
		stub: vendornet.HostMux{"auth.atlassian.com": stub.Handler(), "api.atlassian.com": stub.Handler()},
		deliberate: map[string]string{
			"signin[2] cookies":  nonceCookieCleared,
			"refresh[0] cookies": refreshCookieCapped,
		},
	})
}
