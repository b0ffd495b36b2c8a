package integration

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const auth0Users = `- {id: 1001, login: alice, name: Alice Smith, givenName: Alice, familyName: Smith, email: alice@example.com}
- {id: 1002, login: bob, name: Bob Jones, email: bob@example.com}
- {id: 1003, login: carol, name: Carol, email: carol@example.com}
- {id: 1004, login: dave, name: Dave, email: carol@example.com, emailVerified: false}
`

// auth0Scope is what an OAuth2 client of Auth0 typically asks for (core-app-api has no
// Auth0 API).
const auth0Scope = "openid profile email offline_access"

const auth0Domain = "acme.us.auth0.com"

func auth0Env(name, extra, resolvers string) string {
	return vendorEnv(name, resolvers, "\n        domain: "+auth0Domain+extra)
}

// The module builds https://{domain} URLs: the real binary reaches the mock as
// acme.us.auth0.com through the test's proxy and CA.
func TestAuth0Provider(t *testing.T) {
	v := newVendorHosts(t, auth0Domain)
	mock, addr := startVendorMockTLS(t, v, "auth0", "--users", usersFile(t, auth0Users))
	v.route(t, addr, auth0Domain+":443")
	s := startServer(t, serverConfig{Providers: "    auth0:" +
		auth0Env("profileemail", "\n        federatedLogout: true", "[{resolver: emailMatchingUserEntityProfileEmail}]") +
		auth0Env("chained", "\n        prompt: auto\n        audience: https://api.example.com\n        organization: org_e2e", "[{resolver: emailMatchingUserEntityProfileEmail}, {resolver: emailLocalPartMatchingUserEntityName}]")},
		v.serverEnv()...)
	flow := func(t *testing.T, env string) oauthFlow {
		return oauthFlow{t: t, s: s, provider: "auth0", env: env, scope: auth0Scope, hosts: v}
	}

	t.Run("sign-in, refresh, revocation, logout URL", func(t *testing.T) {
		f := flow(t, "profileemail")
		resp := oidcVendorLifecycle(f, mock, auth0Scope)
		if p := resp["profile"].(map[string]any); !strings.HasPrefix(p["picture"].(string), "https://s.gravatar.com/") {
			t.Errorf("profile %v", p)
		}
		b := f.browser()
		f.signIn(b)
		// Auth0 sends the browser back to the app (the request's Origin).
		want := "https://" + auth0Domain + "/v2/logout?federated=&client_id=backstage-client&returnTo=" + url.QueryEscape(s.AppURL)
		lr, lb := b.do(http.MethodPost, s.auth("/auth0/logout?env=profileemail"), xrw, "XMLHttpRequest", "Origin", s.AppURL)
		if lr.StatusCode != 200 || jsonBody(t, lb)["logoutUrl"] != want {
			t.Errorf("logout: %d %s, want %s", lr.StatusCode, lb, want)
		}
		if code, _, _ := f.refresh(b); code != 401 {
			t.Errorf("refresh after logout: %d", code)
		}
		// Without a session the logout URL is still given, as Backstage gives it.
		lr, lb = b.do(http.MethodPost, s.auth("/auth0/logout?env=profileemail"), xrw, "XMLHttpRequest")
		if lr.StatusCode != 200 || jsonBody(t, lb)["logoutUrl"] != "https://"+auth0Domain+"/v2/logout?federated=&client_id=backstage-client" {
			t.Errorf("logout without a session: %d %s", lr.StatusCode, lb)
		}
	})

	t.Run("the /start query's organization and invitation", func(t *testing.T) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		start := func(extra string) (*http.Response, string) {
			resp, err := c.Get(s.auth("/auth0/start?env=chained&scope=openid&origin=" + url.QueryEscape(s.AppURL) + extra))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		resp, _ := start("&organization=org_e2e&invitation=inv_1")
		loc := resp.Header.Get("Location")
		if resp.StatusCode != 302 || !strings.Contains(loc, "&accessType=offline&organization=org_e2e&invitation=inv_1&audience=https%3A%2F%2Fapi.example.com&nonce=") {
			t.Errorf("start: %d %s", resp.StatusCode, loc)
		}
		if resp, body := start("&organization=org_other"); resp.StatusCode != 400 || !strings.Contains(body, "Organization mismatch.") {
			t.Errorf("another organization: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("resolvers", func(t *testing.T) {
		expectResolvers(mock, func(env string) oauthFlow { return flow(t, env) }, []resolverCase{

			{"profileemail", "alice", "alice", ""},
			{"profileemail", "bob", "", "emailMatchingUserEntityProfileEmail with spec.profile.email=bob@example.com."},
			{"chained", "carol", "carol", ""},
			// Auth0 says dave's address (carol's) is not verified: it is not used.
			{"chained", "dave", "", "Login failed, user profile does not contain an email"},
		})
	})

	t.Run("Auth0's error answers and a forged ID token", func(t *testing.T) {
		flow(t, "profileemail").expectErrors(mock, []vendorError{
			{"error=access_denied", "Authentication rejected, Unauthorized"},
			{"token_status=502", "Authentication failed, Failed to obtain access token (HTTP 502 server_error)"},
			{"token_delay_ms=3000", "Authentication failed, Failed to obtain access token (timed out after 1s)"},
			{"profile_status=500", "Authentication failed, Failed to fetch user profile (HTTP 500 server_error)"},
			{"bad_sig=1", "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
			{"id_token_iss=https://" + auth0Domain, `Authentication rejected, the ID token issuer "https://` + auth0Domain + `" is not the identity provider "https://` + auth0Domain + `/"`},
		}, "bogus", "Authentication failed, Failed to obtain access token (HTTP 403 invalid_grant)")
	})

	if !v.proxy.tunnelled(auth0Domain + ":443") {
		t.Errorf("nothing went to %s", auth0Domain)
	}
}
