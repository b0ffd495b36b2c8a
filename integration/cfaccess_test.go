package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// mockMint asks a proxy mock to make what the proxy would send (POST path with req as
// JSON) and returns the answer's member key.
func mockMint[Out any](t *testing.T, m *vendorMock, path string, req any, key string) Out {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := m.client.Post(m.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]json.RawMessage
	var v Out
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || json.Unmarshal(out[key], &v) != nil {
		t.Fatalf("mint at %s: %d %v", path, resp.StatusCode, err)
	}
	return v
}

// cfAccessToken mints an application token at the Cloudflare Access mock.
func cfAccessToken(t *testing.T, m *vendorMock, req mockvendor.CFAccessTokenRequest) string {
	t.Helper()
	return mockMint[string](t, m, mockvendor.CFAccessTokenPath, req, "token")
}

// proxyRefresh calls a proxy provider's /refresh with headers (name, value pairs).
func proxyRefresh(t *testing.T, s *server, provider, method string, header ...string) (int, map[string]any, string) {
	t.Helper()
	resp, body := newBrowser(t, s.AppURL).do(method, s.auth("/"+provider+"/refresh"), header...)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m, string(body)
}

// Cloudflare Access's team host is hard-coded in the module: the real binary reaches
// the mock as mockteam.cloudflareaccess.com through the test's proxy and CA.
func TestCloudflareAccessProvider(t *testing.T) {
	host := mockvendor.CFAccessTeam + ".cloudflareaccess.com"
	v := newVendorHosts(t, host)
	mock, addr := startVendorMockTLS(t, v, "cfaccess")
	v.route(t, addr, host+":443")
	s := startServer(t, serverConfig{Providers: `    cfaccess:
      teamName: ` + mockvendor.CFAccessTeam + `
      audience: ` + mockvendor.CFAccessAUD + `
      serviceTokens:
        - token: ci-bot.access
          subject: alice@example.com
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail`}, v.serverEnv()...)
	tok := func(req mockvendor.CFAccessTokenRequest) string { return cfAccessToken(t, mock, req) }
	refused := func(t *testing.T, status int, says string, header ...string) {
		t.Helper()
		code, m, body := proxyRefresh(t, s, "cfaccess", http.MethodGet, header...)
		if code != status || !strings.Contains(body, says) || m["backstageIdentity"] != nil || strings.Contains(body, "canary") {
			t.Errorf("status %d body %s, want %d with %q and no token", code, body, status, says)
		}
	}

	// First, before any key was fetched: the certs endpoint is down, nothing can be decided.
	mock.control(t, "down")
	refused(t, 503, "Cloudflare Access signing keys could not be fetched", "Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{}))
	if resp, _ := newBrowser(t, s.AppURL).get(s.auth("/cfaccess/refresh"), "Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{})); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("outage answer %d without Retry-After", resp.StatusCode)
	}
	mock.control(t, "down?on=0")
	time.Sleep(1100 * time.Millisecond) // the fetcher's first backoff

	t.Run("valid token in the header or the cookie, GET and POST", func(t *testing.T) {
		jwt := tok(mockvendor.CFAccessTokenRequest{Login: "alice"})
		for _, tc := range []struct {
			method string
			header []string
		}{
			{http.MethodGet, []string{"Cf-Access-Jwt-Assertion", jwt}},
			{http.MethodPost, []string{"Cookie", "CF_Authorization=" + jwt}},
		} {
			code, m, body := proxyRefresh(t, s, "cfaccess", tc.method, tc.header...)
			if code != 200 {
				t.Fatalf("%s: %d %s", tc.method, code, body)
			}
			identity(t, s, m, "alice", "group:default/team-a")
			if p := m["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" {
				t.Errorf("profile %v", p)
			}
			if dig(m, "providerInfo", "token") != jwt || dig(m, "providerInfo", "expiresInSeconds") != float64(86400) ||
				!strings.Contains(body, `"aud":["`+mockvendor.CFAccessAUD+`"]`) || dig(m, "providerInfo", "cfIdentity", "email") != "alice@example.com" ||
				dig(m, "providerInfo", "claims", "iss") != "https://"+host {
				t.Errorf("providerInfo %v", m["providerInfo"])
			}
		}
		if n := len(mock.requests(t, mockvendor.CFAccessIdentityPath)); n != 1 {
			t.Errorf("get-identity asked %d times for one token, want 1 (cached)", n)
		}
	})

	t.Run("service token", func(t *testing.T) {
		code, m, body := proxyRefresh(t, s, "cfaccess", http.MethodGet, "Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{ServiceToken: "ci-bot.access"}))
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		identity(t, s, m, "alice", "group:default/team-a")
		if dig(m, "profile", "displayName") != "Bot" || dig(m, "providerInfo", "cfIdentity", "name") != "Bot" {
			t.Errorf("service token answer %v", m)
		}
	})

	t.Run("resolver finds no user", func(t *testing.T) {
		// bob has no email at Cloudflare: the common resolver fails as in Backstage.
		refused(t, 500, "Login failed, user profile does not contain an email", "Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{Login: "bob"}))
	})

	t.Run("refused tokens", func(t *testing.T) {
		unsigned := func() string {
			parts := strings.Split(tok(mockvendor.CFAccessTokenRequest{}), ".")
			return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
		}()
		for _, tc := range []struct {
			name   string
			header []string
			says   string
		}{
			{"missing", nil, "Missing cf-access-jwt-assertion and CF_Authorization from Cloudflare Access"},
			{"unsigned", []string{"Cf-Access-Jwt-Assertion", unsigned}, "not an accepted algorithm"},
			{"wrongly signed", []string{"Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{BadSignature: true})}, "signature is invalid"},
			{"expired", []string{"Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{ExpiresIn: -60})}, "the token has expired"},
			{"wrong iss", []string{"Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{Team: "otherteam"})}, "issuer"},
			{"wrong aud", []string{"Cookie", "CF_Authorization=" + tok(mockvendor.CFAccessTokenRequest{Audience: []string{"another-app"}})}, "audience"},
			{"unknown kid", []string{"Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{Kid: "unknown-kid"})}, "key the issuer does not publish"},
			{"unknown service token", []string{"Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{ServiceToken: "rogue.access"})}, "rogue.access is not a permitted Service Token."},
			{"email disagrees with get-identity", []string{"Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{Email: "carol@example.com"})}, "does not match the Cloudflare Access identity"},
		} {
			t.Run(tc.name, func(t *testing.T) { refused(t, 401, tc.says, tc.header...) })
		}
	})

	t.Run("get-identity failures", func(t *testing.T) {
		mock.control(t, "next?profile_status=500")
		refused(t, 503, "Failed to populate access identity information: Cloudflare Access answered HTTP 500, please try again later",
			"Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{Login: "alice"}))
		mock.control(t, "next?profile_status=403")
		refused(t, 401, "Cloudflare Access did not confirm the identity (HTTP 403)", "Cf-Access-Jwt-Assertion", tok(mockvendor.CFAccessTokenRequest{Login: "alice"}))
	})

	t.Run("start and frame are not implemented", func(t *testing.T) {
		resp, _ := newBrowser(t, s.AppURL).get(s.auth("/cfaccess/start"))
		if resp.StatusCode != 501 {
			t.Errorf("start: %d", resp.StatusCode)
		}
	})
}
