package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// The proxy providers (oauth2Proxy, gcpIap, awsalb), differentially: the stock Node auth
// backend with the real modules and our server, in one vendornet namespace, with the
// same catalog and the same provider config (ours adds oauth2Proxy's issuer and
// audience), are sent the same headers. The key servers are mockvendor's IAP and ALB
// personalities as www.gstatic.com and public-keys.auth.elb.us-east-1.amazonaws.com, and
// its oauth2-proxy IdP as https://idp.e2e.test; the headers are signed in the test with
// their keys. For valid input the /refresh answers must be the same: status, profile,
// providerInfo and backstageIdentity (normalised as runDifferential does). For input
// Node wrongly accepts, each row records that Node answers 200 and we refuse, and why.

const (
	pdIAPAudience = "/projects/1234/global/backendServices/5678"
	pdALBIssuer   = "https://idp.example.com"
	pdALBSigner   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/backstage/50dc6c495c0c9188"
	pdIdPHost     = "idp.e2e.test"
	pdIdP         = "https://" + pdIdPHost
)

const pdOrgYAML = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
  annotations:
    google.com/email: alice@example.com
spec:
  profile:
    displayName: Alice Smith
    email: alice@example.com
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: dave
  annotations:
    google.com/user-id: "1004"
spec:
  profile:
    email: dave@corp.example
  memberOf: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
`

// pdRow is one request sent to both servers.
type pdRow struct {
	name, provider string
	headers        []string
	// node and ours are the expected statuses; when both are 200 the answers must be
	// equal. A row where they differ is a deliberate difference: why says which.
	node, ours int
	why        string
	// unverified sends ours to the server without oauth2Proxy's issuer and audience
	// (Backstage's trust in the headers, with the start-up warning).
	unverified bool
	// sameWords: a refusal in Backstage's words, so the messages must match too.
	sameWords bool
}

func TestDifferentialProxyProviders(t *testing.T) {
	d := newProxyDiff(t, pdIdPHost)
	vn := d.vn
	iap := mockvendor.New(mockvendor.Options{Personality: mockvendor.GCPIAP})
	alb := mockvendor.New(mockvendor.Options{Personality: mockvendor.AWSALB})
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.OAuth2ProxyIdP})
	vn.Listen443(vendornet.HostMux{
		"www.gstatic.com": iap.Handler(),
		"public-keys.auth.elb." + vendornet.AWSRegion + ".amazonaws.com": alb.Handler(),
		pdIdPHost: idp.Handler(),
	})
	org := d.writeFile("org.yaml", pdOrgYAML)

	providersCfg := func(ours bool) m {
		o2p := m{"signIn": m{"resolvers": []m{
			{"resolver": "forwardedPreferredUsernameMatchingUserEntityName"},
			{"resolver": "emailLocalPartMatchingUserEntityName"},
		}}}
		if ours {
			o2p["issuer"], o2p["audience"] = pdIdP, "oauth2-proxy"
		}
		return m{
			"oauth2Proxy": o2p,
			"gcpIap": m{"audience": pdIAPAudience, "signIn": m{"resolvers": []m{
				{"resolver": "emailMatchingUserEntityAnnotation"},
				{"resolver": "idMatchingUserEntityAnnotation"},
			}}},
			"awsalb": m{"issuer": pdALBIssuer, "region": vendornet.AWSRegion, "signer": pdALBSigner, "signIn": m{"resolvers": []m{
				{"resolver": "emailMatchingUserEntityProfileEmail"},
				{"resolver": "emailLocalPartMatchingUserEntityName"},
			}}},
		}
	}
	catalog := m{"rules": []m{{"allow": []string{"User", "Group", "Location"}}}, "locations": []m{{"type": "file", "target": org}}}

	// ours adds oauth2Proxy's issuer and audience unless unverified; session is ours only.
	config := func(file string, ours bool, session m) backendConfig {
		return func(base string, port int, db m) string {
			auth := m{"environment": "development", "providers": providersCfg(ours)}
			if session != nil {
				auth["session"] = session
			}
			return writeYAML(t, d.dir, file, m{
				"app":     m{"baseUrl": "http://app.e2e.test:3000"},
				"backend": m{"baseUrl": base, "listen": m{"host": vn.Addr(), "port": port}, "database": db},
				"auth":    auth,
				"catalog": catalog,
			})
		}
	}
	nodeURL, nodeProc := d.startNode("node-auth-proxies", "oauth2-proxy,gcp-iap,aws-alb", nil, config("node-auth.yaml", false, nil))
	ourURL, _ := d.startOurs("authbackend", "authdb", nil, config("authbackend.yaml", true, m{"secret": "e2e-session-" + randHex(t, 16)}))
	plainURL, plainProc := d.startOurs("authbackend-unverified", "authdb-unverified", nil, config("authbackend-unverified.yaml", false, m{"secret": "e2e-session-" + randHex(t, 16)}))
	if !strings.Contains(plainProc.log(), "trusted on network position alone") {
		t.Error("no start-up warning without oauth2Proxy.issuer")
	}
	d.waitNode(nodeURL, nodeProc)

	sign := func(s *mockvendor.Server, req mockvendor.SignRequest) string {
		tok, err := s.Sign(req)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now().Unix()
	iapToken := func(mod func(c m)) string {
		c := m{"aud": pdIAPAudience, "email": "alice@example.com", "exp": now + 600, "iat": now - 5,
			"iss": "https://cloud.google.com/iap", "sub": "accounts.google.com:1001", "hd": "example.com"}
		if mod != nil {
			mod(c)
		}
		return sign(iap, mockvendor.SignRequest{Claims: c})
	}
	albData := func(mod func(c, h m)) string {
		c := m{"sub": "1001", "name": "Alice Smith", "email": "alice@example.com", "exp": now + 600, "iss": pdALBIssuer}
		hd := m{"signer": pdALBSigner, "iss": pdALBIssuer, "client": "client-id", "exp": now + 600, "typ": "JWT"}
		if mod != nil {
			mod(c, hd)
		}
		return sign(alb, mockvendor.SignRequest{Claims: c, Header: hd, Pad: true})
	}
	idToken := func(key mockvendor.SignKey, mod func(c m)) string {
		c := m{"iss": pdIdP, "aud": "oauth2-proxy", "sub": "u-1001", "email": "alice@example.com", "preferred_username": "alice", "exp": now + 600, "iat": now - 5}
		if mod != nil {
			mod(c)
		}
		return sign(idp, mockvendor.SignRequest{Claims: c, Key: key})
	}
	jwtAccessToken := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"picture":"https://pics.example/alice.png","name":"Alice From AT"}`)) + "."
	o2p := func(tok string, extra ...string) []string {
		h := []string{"X-Forwarded-User", "u-1001", "X-Forwarded-Email", "alice@example.com", "X-Forwarded-Preferred-Username", "alice"}
		if tok != "" {
			h = append(h, "X-OAUTH2-PROXY-ID-TOKEN", "Bearer "+tok)
		}
		return append(h, extra...)
	}

	// The Node catalog ingests the org file after start-up, one entity at a time: wait
	// until both users sign in there.
	client := vn.Client()
	deadline := time.Now().Add(90 * time.Second)
	for _, tok := range []string{iapToken(nil), iapToken(func(c m) { c["sub"], c["email"] = "accounts.google.com:1004", "x@corp.example" })} {
		d.untilOK(deadline, "Node's catalog never had the users", func() httpResult {
			return pdRefresh(t, client, nodeURL, "gcpIap", http.MethodGet, []string{"x-goog-iap-jwt-assertion", tok})
		})
	}

	rows := []pdRow{
		// gcpIap
		{name: "iap: email annotation", provider: "gcpIap", headers: []string{"x-goog-iap-jwt-assertion", iapToken(nil)}, node: 200, ours: 200},
		{name: "iap: user id annotation", provider: "gcpIap", headers: []string{"x-goog-iap-jwt-assertion", iapToken(func(c m) { c["sub"], c["email"] = "accounts.google.com:1004", "x@corp.example" })}, node: 200, ours: 200},
		{name: "iap: missing header", provider: "gcpIap", node: 401, ours: 401, sameWords: true},
		{name: "iap: forged", provider: "gcpIap", headers: []string{"x-goog-iap-jwt-assertion", sign(iap, mockvendor.SignRequest{Claims: m{"aud": pdIAPAudience, "email": "alice@example.com", "exp": now + 600, "iat": now, "iss": "https://cloud.google.com/iap", "sub": "a:1"}, Key: mockvendor.SignForged})}, node: 401, ours: 401},
		{name: "iap: unknown kid", provider: "gcpIap", headers: []string{"x-goog-iap-jwt-assertion", sign(iap, mockvendor.SignRequest{Claims: m{"aud": pdIAPAudience, "email": "alice@example.com", "exp": now + 600, "iat": now, "iss": "https://cloud.google.com/iap", "sub": "a:1"}, Key: mockvendor.SignUnknownKey})}, node: 401, ours: 401},
		{name: "iap: wrong aud", provider: "gcpIap", headers: []string{"x-goog-iap-jwt-assertion", iapToken(func(c m) { c["aud"] = "/projects/1/global/backendServices/2" })}, node: 401, ours: 401},
		{name: "iap: expired 2 minutes ago", provider: "gcpIap", headers: []string{"x-goog-iap-jwt-assertion", iapToken(func(c m) { c["exp"], c["iat"] = now-120, now-700 })}, node: 200, ours: 401,
			why: "clock skew 30s (clockSkew), not google-auth-library's 5 minutes"},
		// awsalb
		{name: "alb: picture from a JWT access token", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(nil), "x-amzn-oidc-accesstoken", jwtAccessToken}, node: 200, ours: 200},
		{name: "alb: picture claim, opaque access token", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(func(c, _ m) { c["picture"] = "https://pics.example/a.png" }), "x-amzn-oidc-accesstoken", "opaque"}, node: 200, ours: 200},
		{name: "alb: local part", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(func(c, _ m) { c["email"], c["picture"] = "dave@elsewhere.example", "p" }), "x-amzn-oidc-accesstoken", "opaque"}, node: 200, ours: 200},
		{name: "alb: forged", provider: "awsalb", headers: []string{"x-amzn-oidc-data", sign(alb, mockvendor.SignRequest{Claims: m{"email": "alice@example.com", "exp": now + 600, "iss": pdALBIssuer}, Header: m{"signer": pdALBSigner}, Key: mockvendor.SignForged}), "x-amzn-oidc-accesstoken", "x"}, node: 401, ours: 401},
		{name: "alb: unknown kid", provider: "awsalb", headers: []string{"x-amzn-oidc-data", sign(alb, mockvendor.SignRequest{Claims: m{"email": "alice@example.com", "exp": now + 600, "iss": pdALBIssuer}, Header: m{"signer": pdALBSigner}, Key: mockvendor.SignUnknownKey}), "x-amzn-oidc-accesstoken", "x"}, node: 401, ours: 401},
		{name: "alb: expired", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(func(c, h m) { c["exp"], h["exp"] = now-5, now-5 }), "x-amzn-oidc-accesstoken", "x"}, node: 401, ours: 401},
		{name: "alb: missing access token", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(nil)}, node: 401, ours: 401, sameWords: true},
		{name: "alb: wrong signer", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(func(_, h m) {
			h["signer"] = "arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/evil/1"
		}), "x-amzn-oidc-accesstoken", "x"}, node: 401, ours: 401, sameWords: true},
		{name: "alb: wrong issuer", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(func(c, _ m) { c["iss"] = "https://evil.example" }), "x-amzn-oidc-accesstoken", "x"}, node: 401, ours: 401, sameWords: true},
		{name: "alb: no exp", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(func(c, h m) { delete(c, "exp"); delete(h, "exp"); c["picture"] = "p" }), "x-amzn-oidc-accesstoken", "x"}, node: 200, ours: 401,
			why: "exp is required (jose checks it only when present)"},
		{name: "alb: no picture, opaque access token", provider: "awsalb", headers: []string{"x-amzn-oidc-data", albData(nil), "x-amzn-oidc-accesstoken", "opaque"}, node: 500, ours: 200,
			why: "Backstage decodes the opaque access token as a JWT and fails the sign-in; we leave the picture empty"},
		// oauth2Proxy
		{name: "oauth2-proxy: verified token agreeing with the headers", provider: "oauth2Proxy", headers: o2p(idToken("", nil)), node: 200, ours: 200},
		{name: "oauth2-proxy: local part", provider: "oauth2Proxy", headers: []string{"X-Forwarded-Email", "dave@x.example", "X-Forwarded-Preferred-Username", "dave.d",
			"X-OAUTH2-PROXY-ID-TOKEN", "Bearer " + idToken("", func(c m) { c["email"], c["preferred_username"], c["sub"] = "dave@x.example", "dave.d", "u-1004" })}, node: 200, ours: 200},
		{name: "oauth2-proxy: malformed token", provider: "oauth2Proxy", headers: o2p("", "X-OAUTH2-PROXY-ID-TOKEN", "Bearer not-a-jwt"), node: 401, ours: 401, sameWords: true},
		{name: "oauth2-proxy unverified: headers without a token", provider: "oauth2Proxy", headers: o2p(""), node: 200, ours: 200, unverified: true},
		{name: "oauth2-proxy unverified: a forged token, only decoded", provider: "oauth2Proxy", headers: o2p(idToken(mockvendor.SignForged, nil)), node: 200, ours: 200, unverified: true},
		{name: "oauth2-proxy unverified: malformed token", provider: "oauth2Proxy", headers: o2p("", "X-OAUTH2-PROXY-ID-TOKEN", "Bearer a.b.c.d.e"), node: 401, ours: 401, sameWords: true, unverified: true},
		{name: "oauth2-proxy: headers without a token", provider: "oauth2Proxy", headers: o2p(""), node: 200, ours: 401,
			why: "with issuer and audience the ID token is required (Node trusts the headers)"},
		{name: "oauth2-proxy: forged token", provider: "oauth2Proxy", headers: o2p(idToken(mockvendor.SignForged, nil)), node: 200, ours: 401,
			why: "the ID token is verified (Node only decodes it)"},
		{name: "oauth2-proxy: expired token", provider: "oauth2Proxy", headers: o2p(idToken("", func(c m) { c["exp"] = now - 3600 })), node: 200, ours: 401,
			why: "the ID token's exp is checked"},
		{name: "oauth2-proxy: token for another client", provider: "oauth2Proxy", headers: o2p(idToken("", func(c m) { c["aud"] = "another-app" })), node: 200, ours: 401,
			why: "the ID token's aud must be oauth2-proxy's client id"},
		{name: "oauth2-proxy: headers disagree with the token", provider: "oauth2Proxy", headers: o2p(idToken("", nil), "X-Forwarded-Preferred-Username", "dave"), node: 200, ours: 401,
			why: "forwarded headers must agree with the verified ID token"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				n := pdRefresh(t, client, nodeURL, row.provider, method, row.headers)
				base := ourURL
				if row.unverified {
					base = plainURL
				}
				o := pdRefresh(t, client, base, row.provider, method, row.headers)
				if n.Status != row.node || o.Status != row.ours {
					t.Fatalf("%s: Node %d, ours %d; want %d and %d\nnode: %s\nours: %s", method, n.Status, o.Status, row.node, row.ours, truncate(n.Body, 600), truncate(o.Body, 600))
				}
				if row.why != "" {
					t.Logf("deliberate difference (%s): Node %d, ours %d %s", row.why, n.Status, o.Status, truncate(o.Body, 300))
					continue
				}
				if row.sameWords {
					if nm, om := pdMessage(t, n), pdMessage(t, o); nm != om {
						t.Errorf("%s: messages differ\nnode: %s\nours: %s", method, nm, om)
					}
				}
				nShape, oShape := pdShape(t, n), pdShape(t, o)
				if !reflect.DeepEqual(nShape, oShape) {
					nb, _ := json.MarshalIndent(nShape, "", "  ")
					ob, _ := json.MarshalIndent(oShape, "", "  ")
					t.Errorf("%s: answers differ\nnode: %s\nours: %s", method, nb, ob)
				}
			}
		})
	}
}

// pdRefresh sends one /refresh with header name/value pairs.
func pdRefresh(t *testing.T, client *http.Client, base, provider, method string, headers []string) httpResult {
	t.Helper()
	hd := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		hd.Set(headers[i], headers[i+1])
	}
	return proxyRefresh(t, client, base, provider, method, hd)
}

// pdShape is what is compared of an answer: a 200 as the differential harness
// normalises sign-in answers (profile and identity exactly, the Backstage token's shape,
// subject and lifetime, expiry to the minute), plus providerInfo exactly (both servers
// were sent the same tokens); an error's name and status (messages are ours where we
// refuse in our own words).
func pdShape(t *testing.T, r httpResult) any {
	t.Helper()
	var v map[string]any
	r.json(t, &v)
	if r.Status != 200 {
		e, _ := v["error"].(map[string]any)
		return m{"status": r.Status, "name": e["name"], "statusCode": pdDig(v, "response", "statusCode")}
	}
	return m{"answer": normalizeAuthResponse(v), "providerInfo": v["providerInfo"]}
}

// pdMessage is an error answer's message.
func pdMessage(t *testing.T, r httpResult) any {
	var v map[string]any
	r.json(t, &v)
	return pdDig(v, "error", "message")
}

func pdDig(v any, path ...string) any {
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	return v
}
