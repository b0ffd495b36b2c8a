package e2e_test

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// Differential rows for the OIDC-ish vendors whose host comes from config: an Okta
// org, an Auth0 tenant and a OneLogin subdomain, each mockvendor's personality
// serving as that host inside the vendornet namespace.

const (
	diffOktaHost     = "acme.okta.e2e.test"
	diffAuth0Host    = "acme.auth0.e2e.test"
	diffOneLoginHost = "acme.onelogin.e2e.test"
)

// TestDifferentialOkta: the org authorization server, with OktaAuth's default scopes.
func TestDifferentialOkta(t *testing.T) {
	stub := diffStub(mockvendor.Okta)
	cfg := diffClient()
	cfg["audience"] = "https://" + diffOktaHost
	runDifferential(t, diffCase{
		provider: "okta", module: "okta", config: cfg, scope: "openid email profile offline_access",
		stub: vendornet.HostMux{diffOktaHost: stub.Handler()}, hosts: []string{diffOktaHost},
		deliberate: map[string]string{
			"authorize params":  whyPKCENonce,
			"signin response":   "the ID token carries the nonce we send",
			"signin[2] cookies": whyNonceCookie,
		},
	})
}

// TestDifferentialAuth0: an OAuth2 client of the frontend asking for an ID token and a
// refresh token.
func TestDifferentialAuth0(t *testing.T) {
	stub := diffStub(mockvendor.Auth0)
	cfg := diffClient()
	cfg["domain"] = diffAuth0Host
	runDifferential(t, diffCase{
		provider: "auth0", module: "auth0", config: cfg, scope: "openid profile email offline_access",
		stub: vendornet.HostMux{diffAuth0Host: stub.Handler()}, hosts: []string{diffAuth0Host},
		deliberate: map[string]string{
			"signin[2] cookies": whyNonceCookie,
		},
	})
}

// TestDifferentialOneLogin: the module always asks for exactly openid.
func TestDifferentialOneLogin(t *testing.T) {
	stub := diffStub(mockvendor.OneLogin)
	cfg := diffClient()
	cfg["issuer"] = "https://" + diffOneLoginHost + mockvendor.OneLoginIssuerPath
	runDifferential(t, diffCase{
		provider: "onelogin", module: "onelogin", config: cfg, scope: "openid email profile",
		stub: vendornet.HostMux{diffOneLoginHost: stub.Handler()}, hosts: []string{diffOneLoginHost},
		deliberate: map[string]string{
			"authorize params":  whyPKCENonce,
			"signin response":   "the ID token carries the nonce we send",
			"signin[2] cookies": whyNonceCookie,
		},
	})
}
