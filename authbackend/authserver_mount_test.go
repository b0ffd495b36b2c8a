package authbackend

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// fakeAuthServer mounts two routes and reports discovery fields.
type fakeAuthServer struct{ cimd bool }

func (f fakeAuthServer) Mount(add func(method, path string, limited bool, h func(http.ResponseWriter, *http.Request) error)) {
	add(http.MethodGet, "/v1/sessions/:sessionId", true, func(w http.ResponseWriter, r *http.Request) error {
		_, _ = w.Write([]byte("session " + r.PathValue("sessionId")))
		return nil
	})
	add(http.MethodPost, "/v1/token", true, func(http.ResponseWriter, *http.Request) error {
		return backstageerr.Input("bad input")
	})
}

func (f fakeAuthServer) DiscoveryFields() (scopes, authMethods, grantTypes []string, revocation, cimd, metadata bool) {
	return []string{"openid", "offline_access"}, []string{"none"}, []string{"authorization_code", "refresh_token"}, true, f.cimd, true
}

func TestAuthorizationServerMounted(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) { o.AuthorizationServer = fakeAuthServer{cimd: true} })
	rec := h.do(req{target: "/api/auth/v1/sessions/abc"})
	if rec.Code != 200 || rec.Body.String() != "session abc" {
		t.Fatalf("mounted route: %d %s", rec.Code, rec.Body)
	}
	checkError(t, h.do(req{method: "POST", target: "/api/auth/v1/token"}), 400, "InputError", "bad input")
	want := `{"issuer":"http://localhost:7007/api/auth","token_endpoint":"http://localhost:7007/api/auth/v1/token","userinfo_endpoint":"http://localhost:7007/api/auth/v1/userinfo","jwks_uri":"http://localhost:7007/api/auth/.well-known/jwks.json","response_types_supported":["code","id_token"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256","RS384","RS512","ES256","ES384","ES512","PS256","PS384","PS512","EdDSA"],"scopes_supported":["openid","offline_access"],"token_endpoint_auth_methods_supported":["none"],"claims_supported":["sub","ent"],"grant_types_supported":["authorization_code","refresh_token"],"authorization_endpoint":"http://localhost:7007/api/auth/v1/authorize","code_challenge_methods_supported":["S256"],"revocation_endpoint":"http://localhost:7007/api/auth/v1/revoke","client_id_metadata_document_supported":true}`
	for _, p := range []string{"/api/auth/.well-known/openid-configuration", "/api/auth/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/api/auth"} {
		rec := h.do(req{target: p})
		if rec.Code != 200 || rec.Body.String() != want {
			t.Fatalf("%s: %d\n%s\nwant\n%s", p, rec.Code, rec.Body, want)
		}
	}
	// Without an authorization server: Backstage's document, no RFC 8414 route.
	h = newHarness(t)
	if rec := h.do(req{target: "/api/auth/.well-known/openid-configuration"}); rec.Code != 200 || strings.Contains(rec.Body.String(), "revocation_endpoint") {
		t.Fatalf("plain discovery: %s", rec.Body)
	}
	checkError(t, h.do(req{target: "/api/auth/.well-known/oauth-authorization-server"}), 404, "NotFoundError", "Unknown auth provider '.well-known'")
}

func TestDemoConsentPage(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.AuthorizationServer = fakeAuthServer{}
		o.Config.Demo = config.DemoConfig{Enabled: true, Provider: testProvider, Env: "development"}
	})
	rec := h.do(req{target: "/oauth2/authorize/abc"})
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "Authorize access to Backstage") {
		t.Fatalf("consent page: %d", rec.Code)
	}
	m := regexp.MustCompile(`(?s)<script>(.*)</script>`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src "+scriptHash(m[1])) {
		t.Fatalf("CSP %q does not allow exactly the inline script", rec.Header().Get("Content-Security-Policy"))
	}
	for _, frag := range []string{"/v1/sessions/", "decide('approve')", "decide('reject')", "Bearer ", "flow=popup", "textContent"} {
		if !strings.Contains(body, frag) {
			t.Errorf("consent page lacks %q", frag)
		}
	}
	if strings.Contains(body, "innerHTML") {
		t.Error("consent page writes HTML from session data")
	}
	// Without the authorization server, or without the demo, no consent page.
	h = newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Demo = config.DemoConfig{Enabled: true, Provider: testProvider, Env: "development"}
	})
	if rec := h.do(req{target: "/oauth2/authorize/abc"}); rec.Code != 404 {
		t.Errorf("consent page without an authorization server: %d", rec.Code)
	}
	h = newHarness(t, func(o *Options, _ *fakeProvider) { o.AuthorizationServer = fakeAuthServer{} })
	if rec := h.do(req{target: "/oauth2/authorize/abc"}); rec.Code != 404 {
		t.Errorf("consent page without the demo: %d", rec.Code)
	}
}
