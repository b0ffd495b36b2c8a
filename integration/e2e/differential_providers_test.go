package e2e_test

import (
	"net/url"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// Differential rows for providers whose endpoints come from config: the stub serves
// as hosts of its own inside the vendornet namespace.

const (
	diffOpenShiftOAuth = "oauth-openshift.apps.ocp.e2e.test"
	diffOpenShiftAPI   = "api.ocp.e2e.test"
	diffPinnipedHost   = "pinniped.e2e.test"
	diffOAuth2Host     = "idp.e2e.test"
)

// Deliberate differences every row on the router shares (the GitHub row's reasons).
const (
	whyNonceCookie = "the nonce cookie is cleared after a successful callback, so a callback URL works once; cookie lifetime capped at 400 days"
	whyPKCE        = "we send S256 PKCE, which the vendor accepts and Backstage does not send"
	whyPKCENonce   = "we send S256 PKCE and a nonce (checked in the verified ID token); Backstage sends neither"
	whyCookieCap   = "the rotated refresh token's cookie lifetime is capped at 400 days (the browser limit), Backstage asks for 1000"
)

func TestDifferentialOpenShift(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.OpenShift, ClientID: "e2e-os-client", ClientSecret: "e2e-os-secret"})
	runDifferential(t, diffCase{
		provider: "openshift", module: "openshift",
		config: m{
			"clientId": "e2e-os-client", "clientSecret": "e2e-os-secret",
			"authorizationUrl":      "https://" + diffOpenShiftOAuth + mockvendor.OpenShiftAuthorizePath,
			"tokenUrl":              "https://" + diffOpenShiftOAuth + mockvendor.OpenShiftTokenPath,
			"openshiftApiServerUrl": "https://" + diffOpenShiftAPI,
		},
		signIn: m{"resolvers": []any{m{"resolver": "displayNameMatchingUserEntityName"}}},
		scope:  "user:info",
		stub:   vendornet.HostMux{diffOpenShiftOAuth: stub.Handler(), diffOpenShiftAPI: stub.Handler()},
		hosts:  []string{diffOpenShiftOAuth, diffOpenShiftAPI},
		deliberate: map[string]string{
			"authorize params":  whyPKCE,
			"signin[2] cookies": whyNonceCookie,
			"refresh body":      "providerInfo.scope is the scope the token was granted at sign-in; the module echoes the refresh request's scope",
		},
	})
}

func TestDifferentialPinniped(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped, ClientID: "e2e-pin-client", ClientSecret: "e2e-pin-secret"})
	runDifferential(t, diffCase{
		provider: "pinniped", module: "pinniped",
		config: m{"federationDomain": "https://" + diffPinnipedHost + mockvendor.PinnipedIssuerPath, "clientId": "e2e-pin-client", "clientSecret": "e2e-pin-secret"},
		// The profile is empty: no resolver can sign in, so none is configured and the
		// response carries the Kubernetes tokens only.
		noSignIn: true,
		query:    url.Values{"audience": {"cluster-a"}},
		stub:     vendornet.HostMux{diffPinnipedHost: stub.Handler()},
		hosts:    []string{diffPinnipedHost},
		deliberate: map[string]string{
			"authorize params":   "we send a nonce (and check it in the ID token)",
			"signin[0] cookies":  "no server session, so no connect.sid cookie (Backstage's openid-client keeps the PKCE verifier in an express session)",
			"signin[2] cookies":  whyNonceCookie,
			"signin response":    "providerInfo.expiresInSeconds counts down to the cluster token's expiry, so the frontend refreshes it (the module omits it)",
			"refresh body":       "a refresh exchanges again for the audience's cluster token (the module returns the Supervisor's ID token) and reports its expiry",
			"refresh[0] cookies": whyCookieCap,
		},
	})
}

func TestDifferentialOAuth2(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.OAuth2, ClientID: "e2e-oauth2-client", ClientSecret: "e2e-oauth2-secret"})
	runDifferential(t, diffCase{
		provider: "oauth2", module: "oauth2",
		config: m{
			"clientId": "e2e-oauth2-client", "clientSecret": "e2e-oauth2-secret",
			"authorizationUrl": "https://" + diffOAuth2Host + mockvendor.OAuth2AuthorizePath,
			"tokenUrl":         "https://" + diffOAuth2Host + mockvendor.OAuth2TokenPath,
		},
		// No profile endpoint: no resolver can sign in without a verified id_token.
		noSignIn: true,
		stub:     vendornet.HostMux{diffOAuth2Host: stub.Handler()},
		hosts:    []string{diffOAuth2Host},
		deliberate: map[string]string{
			"signin[2] cookies":  whyNonceCookie,
			"refresh[0] cookies": whyCookieCap,
		},
	})
}

// Rows for vendors with hard-coded hosts: mockvendor's personality answers as them.

func TestDifferentialMicrosoft(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.Microsoft, ClientID: "e2e-ms-client", ClientSecret: "e2e-ms-secret"})
	runDifferential(t, diffCase{
		provider: "microsoft", module: "microsoft",
		config: m{"clientId": "e2e-ms-client", "clientSecret": "e2e-ms-secret", "tenantId": mockvendor.DefaultEntraTenant},
		stub:   vendornet.HostMux{"login.microsoftonline.com": stub.Handler(), "graph.microsoft.com": stub.Handler()},
		deliberate: map[string]string{
			"authorize params":   whyPKCENonce,
			"signin[2] cookies":  whyNonceCookie,
			"refresh[0] cookies": whyCookieCap,
			"signin response":    "the ID token carries the nonce we send",
		},
	})
}

func TestDifferentialGoogle(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.Google, ClientID: "e2e-google-client", ClientSecret: "e2e-google-secret"})
	h := stub.Handler()
	runDifferential(t, diffCase{
		provider: "google", module: "google",
		config: m{"clientId": "e2e-google-client", "clientSecret": "e2e-google-secret"},
		stub: vendornet.HostMux{"accounts.google.com": h, "oauth2.googleapis.com": h, "www.googleapis.com": h,
			"openidconnect.googleapis.com": h},
		deliberate: map[string]string{
			"authorize params":  whyPKCENonce,
			"signin[2] cookies": whyNonceCookie,
			"signin response":   "the ID token carries the nonce we send",
		},
	})
}
