package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// Proxy providers: the real binary verifies the headers an authenticating proxy sets,
// with the proxy's keys served by cmd/mockpalette under the vendor's hard-coded host
// (through the test's CONNECT proxy and CA). The mock signs the headers
// (/_mock/sign): with its published key, with a key it does not publish
// ("unknown"), or with another key under the published kid ("forged").

// signHeader has the mock sign a vendor-shaped header: with its published key, "unknown"
// (a key it does not publish) or "forged" (another key under the published kid).
func (m *vendorMock) signHeader(t *testing.T, claims, header map[string]any, key string, pad bool) string {
	t.Helper()
	return mockMint[string](t, m, mockvendor.SignPath, mockvendor.SignRequest{Claims: claims, Header: header, Key: mockvendor.SignKey(key), Pad: pad}, "token")
}

// refused checks a refusal: the status, a message containing says, and no token.
func refused(t *testing.T, code int, resp map[string]any, body string, status int, says string) {
	t.Helper()
	if code != status || !strings.Contains(body, says) {
		t.Errorf("got %d %s, want %d containing %q", code, body, status, says)
	}
	if _, ok := resp["backstageIdentity"]; ok || strings.Contains(body, `"token"`) {
		t.Errorf("a refused request got a token: %s", body)
	}
}

const proxyOrg = orgYAML + `---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: dave
  annotations:
    google.com/user-id: "1004"
spec:
  profile:
    email: dave@corp.example
`

const iapAudience = "/projects/1234/global/backendServices/5678"

func iapClaims(mod func(map[string]any)) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{"aud": iapAudience, "email": "alice@example.com", "exp": now + 600, "iat": now - 5,
		"iss": "https://cloud.google.com/iap", "sub": "accounts.google.com:1001"}
	if mod != nil {
		mod(c)
	}
	return c
}

func TestGCPIAPProvider(t *testing.T) {
	v := newVendorHosts(t, "www.gstatic.com")
	mock, addr := startVendorMockTLS(t, v, "gcpiap")
	v.route(t, addr, "www.gstatic.com:443")
	s := startServer(t, serverConfig{Org: proxyOrg, Providers: `
    gcpIap:
      audience: ` + iapAudience + `
      signIn:
        resolvers:
          - resolver: idMatchingUserEntityAnnotation
          - resolver: emailMatchingUserEntityAnnotation
          - resolver: emailLocalPartMatchingUserEntityName`}, v.serverEnv()...)
	const hdr = "x-goog-iap-jwt-assertion"

	t.Run("valid assertion, GET and POST", func(t *testing.T) {
		for _, method := range []string{"GET", "POST"} {
			code, resp, body := proxyRefresh(t, s, "gcpIap", method, hdr, mock.signHeader(t, iapClaims(nil), nil, "", false))
			if code != 200 {
				t.Fatalf("%s: %d %s", method, code, body)
			}
			identity(t, s, resp, "alice", "group:default/team-a")
			if p := resp["profile"].(map[string]any); len(p) != 1 || p["email"] != "alice@example.com" {
				t.Errorf("profile %v", p)
			}
			if dig(resp, "providerInfo", "iapToken", "sub") != "accounts.google.com:1001" || dig(resp, "providerInfo", "iapToken", "aud") != iapAudience {
				t.Errorf("providerInfo %v", resp["providerInfo"])
			}
		}
	})

	t.Run("resolvers", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			mod  func(map[string]any)
			user string
		}{
			{"by user id", func(c map[string]any) { c["sub"], c["email"] = "accounts.google.com:1004", "other@corp.example" }, "dave"},
			{"by email annotation", func(c map[string]any) { c["sub"] = "accounts.google.com:9999" }, "alice"},
			{"by local part", func(c map[string]any) { c["sub"], c["email"] = "accounts.google.com:9999", "carol@example.com" }, "carol"},
		} {
			code, resp, body := proxyRefresh(t, s, "gcpIap", "GET", hdr, mock.signHeader(t, iapClaims(tc.mod), nil, "", false))
			if code != 200 {
				t.Fatalf("%s: %d %s", tc.name, code, body)
			}
			if tc.user == "alice" {
				identity(t, s, resp, tc.user, "group:default/team-a")
			} else {
				identity(t, s, resp, tc.user)
			}
		}
		code, resp, body := proxyRefresh(t, s, "gcpIap", "GET", hdr, mock.signHeader(t, iapClaims(func(c map[string]any) {
			c["sub"], c["email"] = "accounts.google.com:9999", "nobody@elsewhere.example"
		}), nil, "", false))
		// A plain Error "Failed to sign-in ...", as in Backstage.
		refused(t, code, resp, body, 500, "Tried: idMatchingUserEntityAnnotation")
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, token, says string
		}{
			{"missing header", "", "Missing Google IAP header"},
			{"unsigned", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", `signed with \"none\"`},
			{"forged", mock.signHeader(t, iapClaims(nil), nil, "forged", false), "the token's signature is invalid"},
			{"unknown kid", mock.signHeader(t, iapClaims(nil), nil, "unknown", false), "a key the issuer does not publish"},
			{"expired", mock.signHeader(t, iapClaims(func(c map[string]any) { c["exp"] = time.Now().Unix() - 120 }), nil, "", false), "the token has expired"},
			{"wrong iss", mock.signHeader(t, iapClaims(func(c map[string]any) { c["iss"] = "https://evil.example" }), nil, "", false), "the token's issuer"},
			{"wrong aud", mock.signHeader(t, iapClaims(func(c map[string]any) { c["aud"] = "/projects/1234/global/backendServices/1" }), nil, "", false), "the token's audience does not include"},
			{"no email", mock.signHeader(t, iapClaims(func(c map[string]any) { delete(c, "email") }), nil, "", false), "Google IAP token payload is missing email claim"},
		} {
			var h []string
			if tc.token != "" {
				h = []string{hdr, tc.token}
			}
			code, resp, body := proxyRefresh(t, s, "gcpIap", "GET", h...)
			t.Log(tc.name)
			refused(t, code, resp, body, 401, tc.says)
		}
	})

	t.Run("key endpoint down", func(t *testing.T) {
		mock.control(t, "down?on=1")
		defer mock.control(t, "down?on=0")
		// The keys fetched above keep verifying.
		if code, _, body := proxyRefresh(t, s, "gcpIap", "GET", hdr, mock.signHeader(t, iapClaims(nil), nil, "", false)); code != 200 {
			t.Errorf("last good keys: %d %s", code, body)
		}
		// A kid they lack cannot be decided: 503, no token.
		code, resp, body := proxyRefresh(t, s, "gcpIap", "GET", hdr, mock.signHeader(t, iapClaims(nil), nil, "unknown", false))
		refused(t, code, resp, body, 503, "Unable to list Google IAP token verification keys")
	})
	if !v.proxy.tunnelled("www.gstatic.com:443") {
		t.Error("nothing went to www.gstatic.com")
	}
}

const (
	albIssuer = "https://idp.example.com"
	albSigner = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/backstage/50dc6c495c0c9188"
)

// albData is ALB-shaped x-amzn-oidc-data claims and header (padded when signed, as load
// balancers send it).
func albData(mod func(claims, header map[string]any)) (map[string]any, map[string]any) {
	exp := time.Now().Unix() + 120
	c := map[string]any{"sub": "1001", "name": "Alice Smith", "email": "alice@example.com", "exp": exp, "iss": albIssuer}
	h := map[string]any{"signer": albSigner, "iss": albIssuer, "client": "client-id", "exp": exp, "typ": "JWT"}
	if mod != nil {
		mod(c, h)
	}
	return c, h
}

func TestAWSALBProvider(t *testing.T) {
	const keyHost = "public-keys.auth.elb.us-east-1.amazonaws.com"
	v := newVendorHosts(t, keyHost)
	mock, addr := startVendorMockTLS(t, v, "awsalb")
	v.route(t, addr, keyHost+":443")
	albConfig := func(signer string) serverConfig {
		return serverConfig{Providers: `
    awsalb:
      issuer: ` + albIssuer + `
      region: us-east-1` + signer + `
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
          - resolver: emailLocalPartMatchingUserEntityName`}
	}
	s := startServer(t, albConfig("\n      signer: "+albSigner), v.serverEnv()...)
	data := func(key string, mod func(c, h map[string]any)) string {
		c, h := albData(mod)
		return mock.signHeader(t, c, h, key, true)
	}
	at := "eyJhbGciOiJub25lIn0.eyJwaWN0dXJlIjoiaHR0cHM6Ly9waWNzLmV4YW1wbGUvYWxpY2UucG5nIn0."

	t.Run("valid data, GET and POST", func(t *testing.T) {
		for _, method := range []string{"GET", "POST"} {
			code, resp, body := proxyRefresh(t, s, "awsalb", method, "x-amzn-oidc-data", data("", nil), "x-amzn-oidc-accesstoken", at)
			if code != 200 {
				t.Fatalf("%s: %d %s", method, code, body)
			}
			identity(t, s, resp, "alice", "group:default/team-a")
			// The picture comes from the access token, as Backstage takes it when the
			// ALB claims have none.
			if p := resp["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" || p["picture"] != "https://pics.example/alice.png" {
				t.Errorf("profile %v", p)
			}
			if dig(resp, "providerInfo", "accessToken") != at || dig(resp, "providerInfo", "expiresInSeconds") == nil {
				t.Errorf("providerInfo %v", resp["providerInfo"])
			}
		}
		// carol by the local part.
		code, resp, body := proxyRefresh(t, s, "awsalb", "GET", "x-amzn-oidc-data", data("", func(c, _ map[string]any) { c["email"] = "carol@elsewhere.example" }), "x-amzn-oidc-accesstoken", "opaque")
		if code != 200 {
			t.Fatalf("carol: %d %s", code, body)
		}
		identity(t, s, resp, "carol")
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			headers []string
			says    string
		}{
			{"missing data", []string{"x-amzn-oidc-accesstoken", "x"}, "Missing ALB OIDC header: x-amzn-oidc-data"},
			{"missing access token", []string{"x-amzn-oidc-data", data("", nil)}, "Missing ALB OIDC header: x-amzn-oidc-accesstoken"},
			{"unsigned", []string{"x-amzn-oidc-data", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "x-amzn-oidc-accesstoken", "x"}, `signed with \"none\"`},
			{"forged", []string{"x-amzn-oidc-data", data("forged", nil), "x-amzn-oidc-accesstoken", "x"}, "the token's signature is invalid"},
			{"unknown kid", []string{"x-amzn-oidc-data", data("unknown", nil), "x-amzn-oidc-accesstoken", "x"}, "a key the issuer does not publish"},
			{"expired", []string{"x-amzn-oidc-data", data("", func(c, _ map[string]any) { c["exp"] = time.Now().Unix() - 5 }), "x-amzn-oidc-accesstoken", "x"}, "the token has expired"},
			{"wrong iss", []string{"x-amzn-oidc-data", data("", func(c, _ map[string]any) { c["iss"] = "https://evil.example" }), "x-amzn-oidc-accesstoken", "x"}, "Issuer mismatch on JWT token"},
			{"wrong signer", []string{"x-amzn-oidc-data", data("", func(_, h map[string]any) {
				h["signer"] = "arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/evil/1"
			}), "x-amzn-oidc-accesstoken", "x"}, "Signer mismatch on JWT token"},
			{"no email", []string{"x-amzn-oidc-data", data("", func(c, _ map[string]any) { delete(c, "email") }), "x-amzn-oidc-accesstoken", "x"}, "Missing email in the JWT token"},
		} {
			t.Log(tc.name)
			code, resp, body := proxyRefresh(t, s, "awsalb", "GET", tc.headers...)
			refused(t, code, resp, body, 401, tc.says)
		}
	})

	t.Run("key endpoint down", func(t *testing.T) {
		mock.control(t, "down?on=1")
		defer mock.control(t, "down?on=0")
		if code, _, body := proxyRefresh(t, s, "awsalb", "GET", "x-amzn-oidc-data", data("", nil), "x-amzn-oidc-accesstoken", "x"); code != 200 {
			t.Errorf("cached key: %d %s", code, body)
		}
		// A kid never asked about cannot be decided (one the endpoint answered 404 for
		// moments ago stays refused).
		code, resp, body := proxyRefresh(t, s, "awsalb", "GET", "x-amzn-oidc-data", data("unknown", func(_, h map[string]any) { h["kid"] = "never-asked" }), "x-amzn-oidc-accesstoken", "x")
		refused(t, code, resp, body, 503, "Unable to fetch the load balancer's public key")
	})

	t.Run("without signer: a warning at startup", func(t *testing.T) {
		s2 := startServer(t, albConfig(""), v.serverEnv()...)
		if out := s2.proc.out.String(); !strings.Contains(out, "auth.providers.awsalb.signer") || !strings.Contains(out, "any load balancer in us-east-1") {
			t.Errorf("no startup warning about signer:\n%s", out)
		}
		code, _, body := proxyRefresh(t, s2, "awsalb", "GET", "x-amzn-oidc-data", data("", func(_, h map[string]any) { h["signer"] = "arn:other" }), "x-amzn-oidc-accesstoken", "x")
		if code != 200 {
			t.Errorf("without signer, as Backstage: %d %s", code, body)
		}
	})
	if !v.proxy.tunnelled(keyHost + ":443") {
		t.Error("nothing went to " + keyHost)
	}
}

func TestOAuth2ProxyProvider(t *testing.T) {
	idp := startVendorMock(t, "oauth2proxy-idp")
	idp.client = &http.Client{Timeout: 10 * time.Second}
	cfg := func(verify, resolver string) serverConfig {
		return serverConfig{Providers: `
    oauth2Proxy:` + verify + `
      signIn:
        resolvers:
          - resolver: ` + resolver + `
          - resolver: emailLocalPartMatchingUserEntityName`}
	}
	s := startServer(t, cfg("\n      issuer: "+idp.URL+"\n      audience: oauth2-proxy\n      timeout: 2s", "forwardedPreferredUsernameMatchingUserEntityName"))
	idToken := func(key string, mod func(map[string]any)) string {
		now := time.Now().Unix()
		c := map[string]any{"iss": idp.URL, "aud": "oauth2-proxy", "sub": "u-1001", "email": "alice@example.com",
			"preferred_username": "alice", "exp": now + 300, "iat": now - 5}
		if mod != nil {
			mod(c)
		}
		return idp.signHeader(t, c, nil, key, false)
	}
	headers := func(tok string, extra ...string) []string {
		h := []string{"X-Forwarded-User", "u-1001", "X-Forwarded-Email", "alice@example.com", "X-Forwarded-Preferred-Username", "alice"}
		if tok != "" {
			h = append(h, "X-OAUTH2-PROXY-ID-TOKEN", "Bearer "+tok)
		}
		return append(h, extra...)
	}

	t.Run("verified ID token that agrees with the headers", func(t *testing.T) {
		tok := idToken("", nil)
		for _, method := range []string{"GET", "POST"} {
			code, resp, body := proxyRefresh(t, s, "oauth2Proxy", method, headers(tok)...)
			if code != 200 {
				t.Fatalf("%s: %d %s", method, code, body)
			}
			identity(t, s, resp, "alice", "group:default/team-a")
			if p := resp["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "alice" || len(p) != 2 {
				t.Errorf("profile %v", p)
			}
			if dig(resp, "providerInfo", "accessToken") != tok {
				t.Errorf("providerInfo %v", resp["providerInfo"])
			}
		}
		// carol: her preferred username is no User's name; the email's local part is.
		code, resp, body := proxyRefresh(t, s, "oauth2Proxy", "GET", "X-Forwarded-Email", "carol@example.com", "X-Forwarded-Preferred-Username", "carol.w",
			"X-OAUTH2-PROXY-ID-TOKEN", "Bearer "+idToken("", func(c map[string]any) {
				c["email"], c["sub"], c["preferred_username"] = "carol@example.com", "u-1003", "carol.w"
			}))
		if code != 200 {
			t.Fatalf("carol: %d %s", code, body)
		}
		identity(t, s, resp, "carol")
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			headers []string
			status  int
			says    string
		}{
			{"headers without a token", headers(""), 401, "Missing X-OAUTH2-PROXY-ID-TOKEN header"},
			{"unsigned token", headers("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1LTEwMDEifQ."), 401, "The oauth2-proxy ID token was rejected"},
			{"forged token", headers(idToken("forged", nil)), 401, "signature could not be verified"},
			{"unknown kid", headers(idToken("unknown", nil)), 401, "The oauth2-proxy ID token was rejected"},
			{"expired", headers(idToken("", func(c map[string]any) { c["exp"] = time.Now().Unix() - 3600 })), 401, "the ID token has expired"},
			{"wrong iss", headers(idToken("", func(c map[string]any) { c["iss"] = "https://evil.example" })), 401, "the ID token issuer"},
			{"wrong aud", headers(idToken("", func(c map[string]any) { c["aud"] = "another-client" })), 401, "audience"},
			{"email header disagrees", headers(idToken("", nil), "X-Forwarded-Email", "mallory@example.com"), 401, "disagree with its ID token: X-Forwarded-Email"},
			{"preferred username disagrees", headers(idToken("", nil), "X-Forwarded-Preferred-Username", "carol"), 401, "X-Forwarded-Preferred-Username"},
		} {
			t.Log(tc.name)
			code, resp, body := proxyRefresh(t, s, "oauth2Proxy", "GET", tc.headers...)
			refused(t, code, resp, body, tc.status, tc.says)
		}
	})

	t.Run("IdP keys down", func(t *testing.T) {
		idp.control(t, "down?on=1")
		defer idp.control(t, "down?on=0")
		if code, _, body := proxyRefresh(t, s, "oauth2Proxy", "GET", headers(idToken("", nil))...); code != 200 {
			t.Errorf("last good keys: %d %s", code, body)
		}
		code, resp, body := proxyRefresh(t, s, "oauth2Proxy", "GET", headers(idToken("unknown", nil))...)
		refused(t, code, resp, body, 503, "keys could not be fetched")
	})

	t.Run("without issuer: Backstage's trust, and a warning", func(t *testing.T) {
		s2 := startServer(t, cfg("", "forwardedUserMatchingUserEntityName"))
		if out := s2.proc.out.String(); !strings.Contains(out, "trusted on network position alone") {
			t.Errorf("no start-up warning:\n%s", out)
		}
		// Any header signs in, and a forged token is only decoded.
		code, resp, body := proxyRefresh(t, s2, "oauth2Proxy", "GET", "X-Forwarded-User", "alice", "X-OAUTH2-PROXY-ID-TOKEN", "Bearer "+idToken("forged", nil))
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		identity(t, s2, resp, "alice", "group:default/team-a")
		if p := resp["profile"].(map[string]any); p["displayName"] != "alice" || dig(resp, "providerInfo", "accessToken") == "" {
			t.Errorf("profile %v providerInfo %v", p, resp["providerInfo"])
		}
		// No X-Forwarded-User: Backstage's plain Error, which stops the chain.
		code, resp, body = proxyRefresh(t, s2, "oauth2Proxy", "GET", "X-Forwarded-Email", "alice@example.com")
		refused(t, code, resp, body, 500, "Request did not contain a user")
		code, resp, body = proxyRefresh(t, s2, "oauth2Proxy", "GET", "X-Forwarded-User", "alice", "X-OAUTH2-PROXY-ID-TOKEN", "Bearer not-a-jwt")
		refused(t, code, resp, body, 401, "Authentication failed; caused by JWTInvalid: Invalid JWT")
	})
}
