package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// easyAuthHeaders mints the headers App Service would inject, at the Easy Auth mock.
func easyAuthHeaders(t *testing.T, m *vendorMock, req mockvendor.EasyAuthRequest) map[string]string {
	t.Helper()
	return mockMint[map[string]string](t, m, mockvendor.EasyAuthHeadersPath, req, "headers")
}

func headerList(h map[string]string) []string {
	var out []string
	for k, v := range h {
		out = append(out, k, v)
	}
	return out
}

// appServiceEnv is what App Service sets for an app with Easy Auth for Entra ID.
func appServiceEnv() []string {
	return []string{"WEBSITE_SKU=PremiumV3", "WEBSITE_AUTH_ENABLED=True", "WEBSITE_AUTH_DEFAULT_PROVIDER=AzureActiveDirectory",
		"WEBSITE_AUTH_TOKEN_STORE=true", "WEBSITE_AUTH_CLIENT_ID=backstage-client",
		"WEBSITE_AUTH_OPENID_ISSUER=https://sts.windows.net/" + mockvendor.DefaultEntraTenant + "/v2.0"}
}

const easyAuthConfig = `    azureEasyAuth:
      signIn:
        resolvers:
          - resolver: idMatchingUserEntityAnnotation
          - resolver: emailMatchingUserEntityProfileEmail`

// Entra ID's host is hard-coded: the real binary reaches the mock as
// login.microsoftonline.com through the test's proxy and CA.
func TestAzureEasyAuthProvider(t *testing.T) {
	v := newVendorHosts(t, "login.microsoftonline.com")
	mock, addr := startVendorMockTLS(t, v, "easyauth", "--users", usersFile(t, `- {id: 1001, login: alice, name: Alice Smith, email: alice@example.com}
- {id: 1002, login: bob}
- {id: 1003, login: carol, name: Carol, email: carol@example.com}
`))
	v.route(t, addr, "login.microsoftonline.com:443")
	s := startServer(t, serverConfig{Providers: easyAuthConfig}, append(v.serverEnv(), appServiceEnv()...)...)
	hdr := func(req mockvendor.EasyAuthRequest) map[string]string { return easyAuthHeaders(t, mock, req) }
	refused := func(t *testing.T, status int, says string, h map[string]string) {
		t.Helper()
		code, m, body := proxyRefresh(t, s, "azureEasyAuth", http.MethodGet, headerList(h)...)
		if code != status || !strings.Contains(body, says) || m["backstageIdentity"] != nil {
			t.Errorf("status %d body %s, want %d with %q and no token", code, body, status, says)
		}
	}

	// Before any key was fetched, with Entra ID down: nothing can be decided.
	mock.control(t, "down")
	refused(t, 503, "Entra ID signing keys could not be fetched", hdr(mockvendor.EasyAuthRequest{}))
	if resp, _ := newBrowser(t, s.AppURL).get(s.auth("/azureEasyAuth/refresh"), headerList(hdr(mockvendor.EasyAuthRequest{}))...); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("outage answer %d without Retry-After", resp.StatusCode)
	}
	mock.control(t, "down?on=0")
	time.Sleep(1100 * time.Millisecond) // the fetcher's first backoff

	t.Run("valid headers, GET and POST", func(t *testing.T) {
		h := hdr(mockvendor.EasyAuthRequest{Login: "alice"})
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			code, m, body := proxyRefresh(t, s, "azureEasyAuth", method, headerList(h)...)
			if code != 200 {
				t.Fatalf("%s: %d %s", method, code, body)
			}
			identity(t, s, m, "alice", "group:default/team-a")
			if p := m["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" || len(p) != 2 {
				t.Errorf("profile %v", p)
			}
			if pi := m["providerInfo"].(map[string]any); pi["accessToken"] != h[mockvendor.EasyAuthAccessTokenHeader] || len(pi) != 1 {
				t.Errorf("providerInfo %v", pi)
			}
		}
	})

	t.Run("resolvers", func(t *testing.T) {
		// carol has no graph.microsoft.com/user-id annotation: the email resolver finds her.
		code, m, body := proxyRefresh(t, s, "azureEasyAuth", http.MethodGet, headerList(hdr(mockvendor.EasyAuthRequest{Login: "carol"}))...)
		if code != 200 {
			t.Fatalf("carol: %d %s", code, body)
		}
		identity(t, s, m, "carol")
		// bob has neither: the email resolver fails as Backstage's does.
		refused(t, 500, "Login failed, user profile does not contain an email", hdr(mockvendor.EasyAuthRequest{Login: "bob"}))
	})

	t.Run("refused headers", func(t *testing.T) {
		only := func(h map[string]string) map[string]string {
			return map[string]string{mockvendor.EasyAuthIDTokenHeader: h[mockvendor.EasyAuthIDTokenHeader]}
		}
		unsigned := func() map[string]string {
			h := hdr(mockvendor.EasyAuthRequest{})
			p := strings.Split(h[mockvendor.EasyAuthIDTokenHeader], ".")
			h[mockvendor.EasyAuthIDTokenHeader] = "eyJhbGciOiJub25lIn0." + p[1] + "."
			return h
		}()
		for _, tc := range []struct {
			name   string
			status int
			h      map[string]string
			says   string
		}{
			{"missing", 401, map[string]string{mockvendor.EasyAuthAccessTokenHeader: "x"}, "Missing x-ms-token-aad-id-token header"},
			{"unsigned", 401, unsigned, "not an accepted algorithm"},
			{"wrongly signed", 401, hdr(mockvendor.EasyAuthRequest{BadSignature: true}), "signature is invalid"},
			{"expired", 401, only(hdr(mockvendor.EasyAuthRequest{ExpiresIn: -300})), "the token has expired"},
			{"wrong iss", 401, only(hdr(mockvendor.EasyAuthRequest{Issuer: "https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555/v2.0"})), "issuer"},
			{"wrong aud", 401, only(hdr(mockvendor.EasyAuthRequest{Audience: "another-app"})), "audience"},
			{"unknown kid", 401, only(hdr(mockvendor.EasyAuthRequest{Kid: "unknown-kid"})), "key the issuer does not publish"},
			{"principal disagrees with the token", 401, hdr(mockvendor.EasyAuthRequest{PrincipalOID: "00000000-0000-4000-8000-000000009999"}), "another object id"},
			{"v1.0 token (Backstage's answer)", 500, only(hdr(mockvendor.EasyAuthRequest{Version: "1.0"})), "id_token is not version 2.0 "},
		} {
			t.Run(tc.name, func(t *testing.T) { refused(t, tc.status, tc.says, tc.h) })
		}
	})
}

// Outside App Service the provider refuses to start, with Backstage's message.
func TestAzureEasyAuthOutsideAppService(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := writeConfig(t, dir, serverConfig{Port: port, AppURL: "http://127.0.0.1:3000", Providers: easyAuthConfig})
	p := startProcess(t, "authbackend", []string{"NODE_ENV=production"}, "--config", cfg)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not stop:\n%s", p.out.String())
	}
	if out := p.out.String(); !strings.Contains(out, "Failed to initialize azureEasyAuth auth provider, Backstage is not running on Azure App Services") || p.cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("exit %d, output:\n%s", p.cmd.ProcessState.ExitCode(), out)
	}
}

// The resolver both proxy modules share with every provider, through the real binary:
// emailLocalPartMatchingUserEntityName (alice@example.com is user:default/alice).
func TestProxyProvidersLocalPartResolver(t *testing.T) {
	cfHost := mockvendor.CFAccessTeam + ".cloudflareaccess.com"
	v := newVendorHosts(t, cfHost, "login.microsoftonline.com")
	cf, cfAddr := startVendorMockTLS(t, v, "cfaccess")
	ea, eaAddr := startVendorMockTLS(t, v, "easyauth")
	v.route(t, cfAddr, cfHost+":443")
	v.route(t, eaAddr, "login.microsoftonline.com:443")
	s := startServer(t, serverConfig{Providers: `    cfaccess:
      teamName: ` + mockvendor.CFAccessTeam + `
      audience: ` + mockvendor.CFAccessAUD + `
      signIn:
        resolvers:
          - resolver: emailLocalPartMatchingUserEntityName
    azureEasyAuth:
      signIn:
        resolvers:
          - resolver: emailLocalPartMatchingUserEntityName
            allowedDomains: [example.com]`}, append(v.serverEnv(), appServiceEnv()...)...)
	for provider, header := range map[string][]string{
		"cfaccess":      {"Cf-Access-Jwt-Assertion", cfAccessToken(t, cf, mockvendor.CFAccessTokenRequest{Login: "alice"})},
		"azureEasyAuth": headerList(easyAuthHeaders(t, ea, mockvendor.EasyAuthRequest{Login: "alice"})),
	} {
		code, m, body := proxyRefresh(t, s, provider, http.MethodGet, header...)
		if code != 200 {
			t.Fatalf("%s: %d %s", provider, code, body)
		}
		identity(t, s, m, "alice", "group:default/team-a")
	}
}
