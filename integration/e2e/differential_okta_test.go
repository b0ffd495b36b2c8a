package e2e_test

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// The differential rows of the OpenID Connect vendors whose host comes from config:
// Okta (an org at https://acme.okta.com), OneLogin (https://acme.onelogin.com/oidc/2)
// and Auth0 (https://acme.us.auth0.com), each stub mockvendor's personality.

const (
	diffOktaHost     = "acme.okta.com"
	diffOneLoginHost = "acme.onelogin.com"
	diffAuth0Host    = "acme.us.auth0.com"
)

// pkceNonceDifferences are the deliberate differences of a vendor to which we send S256
// PKCE and a nonce where Backstage sends neither.
func pkceNonceDifferences(vendor string) map[string]string {
	return map[string]string{
		"authorize params":  "we send S256 PKCE and an OIDC nonce, which " + vendor + " accepts and Backstage does not send",
		"signin response":   "the ID token carries the nonce we sent (and verified)",
		"signin[2] cookies": "the nonce cookie is cleared after a successful callback, so a callback URL works once; cookie lifetime capped at 400 days",
	}
}

func TestDifferentialOkta(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.Okta, ClientID: "e2e-okta-client", ClientSecret: "e2e-okta-secret"})
	runDifferential(t, diffCase{
		provider: "okta", module: "okta",
		config: m{"clientId": "e2e-okta-client", "clientSecret": "e2e-okta-secret", "audience": "https://" + diffOktaHost},
		stub:   stub.Handler(), hosts: []string{diffOktaHost},
		deliberate: pkceNonceDifferences("Okta"),
	})
}

func TestDifferentialOneLogin(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.OneLogin, ClientID: "e2e-onelogin-client", ClientSecret: "e2e-onelogin-secret"})
	runDifferential(t, diffCase{
		provider: "onelogin", module: "onelogin",
		config: m{"clientId": "e2e-onelogin-client", "clientSecret": "e2e-onelogin-secret", "issuer": "https://" + diffOneLoginHost + mockvendor.OneLoginIssuerPath},
		stub:   stub.Handler(), hosts: []string{diffOneLoginHost},
		deliberate: pkceNonceDifferences("OneLogin"),
	})
}

func TestDifferentialAuth0(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.Auth0, ClientID: "e2e-auth0-client", ClientSecret: "e2e-auth0-secret"})
	runDifferential(t, diffCase{
		provider: "auth0", module: "auth0",
		config: m{"clientId": "e2e-auth0-client", "clientSecret": "e2e-auth0-secret", "domain": diffAuth0Host},
		scope:  "openid profile email offline_access",
		stub:   stub.Handler(), hosts: []string{diffAuth0Host},
		// The authorize request is passport-auth0's, nonce included.
		deliberate: map[string]string{
			"signin[0] cookies": "no server session (connect.sid): the nonce is the router's, bound to the browser by the nonce cookie",
			"signin[2] cookies": "the nonce cookie is cleared after a successful callback, so a callback URL works once; cookie lifetime capped at 400 days",
		},
	})
}
