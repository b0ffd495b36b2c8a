package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// Differential rows for the Cloudflare Access and App Service Easy Auth proxy
// providers: the stock Node auth backend with the real cloudflare-access and
// azure-easyauth modules, and our server, inside one vendornet namespace against the
// same mocks (mockvendor's cfaccess personality as e2e.cloudflareaccess.com, its
// easyauth personality as login.microsoftonline.com), with the same catalog. Each row
// sends the very same headers to both /refresh endpoints. A proxy provider has no
// start, frame or cookies, so the OAuth harness (runDifferential) does not fit; the
// answers are compared with its normalizeAuthResponse.

// accessRow is one request and what the two answers must look like.
type accessRow struct {
	name, provider string
	header         http.Header
	// kind: accessSame (status, the same for both, and normalised body equal),
	// accessBothRefuse (neither
	// issues a token; the difference is declared in why), accessNodeAccepts (Node signs
	// the request in, we refuse it with status: a check Backstage does not make).
	// status is the answer expected (accessSame: from both; accessNodeAccepts: ours).
	kind   int
	status int
	why    string
}

const (
	accessSame = iota
	accessBothRefuse
	accessNodeAccepts
	// accessOwnClaims: both sign in alike, but Node's providerInfo.claims are those of
	// an earlier token of the same user (its identity cache); ours are the token's own.
	accessOwnClaims
)

// accessOrgYAML: alice is found by email (cfaccess) and by object id (Easy Auth).
const accessOrgYAML = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
  annotations:
    graph.microsoft.com/user-id: 00000000-0000-4000-8000-000000001001
spec:
  profile: {displayName: Alice Smith, email: alice@example.com}
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
`

func TestDifferentialAccessProxies(t *testing.T) {
	d := newProxyDiff(t)
	vn := d.vn
	cf := mockvendor.New(mockvendor.Options{Personality: mockvendor.CFAccess})
	ea := mockvendor.New(mockvendor.Options{Personality: mockvendor.EasyAuth})
	vn.Listen443(vendornet.HostMux{vendornet.CloudflareTeam + ".cloudflareaccess.com": cf.Handler(), "login.microsoftonline.com": ea.Handler()})
	orgPath := d.writeFile("org.yaml", accessOrgYAML)
	appService := []string{"WEBSITE_SKU=PremiumV3", "WEBSITE_AUTH_ENABLED=True", "WEBSITE_AUTH_DEFAULT_PROVIDER=AzureActiveDirectory",
		"WEBSITE_AUTH_TOKEN_STORE=true", "WEBSITE_AUTH_CLIENT_ID=backstage-client",
		"WEBSITE_AUTH_OPENID_ISSUER=https://login.microsoftonline.com/" + mockvendor.DefaultEntraTenant + "/v2.0"}
	secret := "e2e-session-" + randHex(t, 16)
	config := func(base string, port int, db m) string {
		return writeYAML(t, d.dir, fmt.Sprintf("config-%d.yaml", port), m{
			"app":     m{"baseUrl": diffAppURL},
			"catalog": m{"rules": []any{m{"allow": []any{"User", "Group", "Location"}}}, "locations": []any{m{"type": "file", "target": orgPath}}},
			"backend": m{"baseUrl": base, "listen": m{"host": vn.Addr(), "port": port}, "database": db},
			"auth": m{"environment": "development", "session": m{"secret": secret}, "providers": m{
				"cfaccess": m{"teamName": vendornet.CloudflareTeam, "audience": mockvendor.CFAccessAUD,
					"serviceTokens": []any{m{"token": "ci-bot.access", "subject": "alice@example.com"}},
					"signIn":        m{"resolvers": []any{m{"resolver": "emailMatchingUserEntityProfileEmail"}}}},
				"azureEasyAuth": m{"signIn": m{"resolvers": []any{m{"resolver": "idMatchingUserEntityAnnotation"}}}},
			}},
		})
	}
	nodeBase, nodeProc := d.startNode("node-access-proxies", "cloudflare-access,azure-easyauth", appService, config)
	ourBase, _ := d.startOurs("authbackend", "authdb", append([]string{"NODE_ENV=production"}, appService...), config)
	d.waitNode(nodeBase, nodeProc)

	cfTok := func(req mockvendor.CFAccessTokenRequest) http.Header {
		req.Team = vendornet.CloudflareTeam
		tok, err := cf.CFAccessToken(req)
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{"Cf-Access-Jwt-Assertion": {tok}}
	}
	eaHdr := func(req mockvendor.EasyAuthRequest, change func(http.Header)) http.Header {
		hm, err := ea.EasyAuthHeaders(req)
		if err != nil {
			t.Fatal(err)
		}
		hh := http.Header{}
		for k, v := range hm {
			hh.Set(k, v)
		}
		if change != nil {
			change(hh)
		}
		return hh
	}
	cookie := func(hh http.Header) http.Header {
		return http.Header{"Cookie": {"CF_Authorization=" + hh.Get("Cf-Access-Jwt-Assertion")}}
	}
	unsigned := func(tok string) string {
		p := strings.Split(tok, ".")
		return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + p[1] + "."
	}
	aliceCF := cfTok(mockvendor.CFAccessTokenRequest{Login: "alice"})
	rows := []accessRow{
		{name: "user token in the header", provider: "cfaccess", header: aliceCF, status: 200},
		{name: "user token in the cookie", provider: "cfaccess", header: cookie(aliceCF), status: 200},
		{name: "a later token of the same user", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{Login: "alice"}), kind: accessOwnClaims,
			why: "Backstage caches the whole result per user and answers later tokens with the first one's claims"},
		{name: "service token", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{ServiceToken: "ci-bot.access"}), status: 200},
		{name: "no token", provider: "cfaccess", header: http.Header{}, status: 401},
		{name: "unknown service token", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{ServiceToken: "rogue.access"}), status: 401},
		{name: "no sub or common_name", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{NoSubject: true}), status: 401},
		{name: "expired token", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{ExpiresIn: -60}), kind: accessBothRefuse,
			why: "jose's JWTExpired reaches Backstage's error handler as a 500; ours is a 401 naming the check"},
		{name: "wrong audience", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{Audience: []string{"another-app"}}), kind: accessBothRefuse,
			why: "jose's JWTClaimValidationFailed is a 500 in Backstage; ours is a 401"},
		{name: "forged signature", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{BadSignature: true}), kind: accessBothRefuse,
			why: "jose's JWSSignatureVerificationFailed is a 500 in Backstage; ours is a 401"},
		{name: "token email differs from get-identity", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{Login: "alice", Email: "mallory@example.com"}),
			kind: accessNodeAccepts, status: 401, why: "Backstage never compares the token's email with the identity it fetches"},
		{name: "token without exp", provider: "cfaccess", header: cfTok(mockvendor.CFAccessTokenRequest{Login: "alice", NoExpiry: true}),
			kind: accessNodeAccepts, status: 401, why: "jose checks exp only when present; Cloudflare always sets it, so we require it"},

		{name: "valid headers", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{Login: "alice"}, nil), status: 200},
		{name: "ID token only", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{Login: "alice"}, func(hh http.Header) {
			for _, k := range []string{mockvendor.EasyAuthAccessTokenHeader, mockvendor.EasyAuthPrincipalHeader, mockvendor.EasyAuthPrincipalIDHeader, mockvendor.EasyAuthPrincipalNameHeader, mockvendor.EasyAuthPrincipalIDPHeader} {
				hh.Del(k)
			}
		}), status: 200},
		{name: "no ID token", provider: "azureEasyAuth", header: http.Header{mockvendor.EasyAuthAccessTokenHeader: {"x"}}, status: 401},
		{name: "v1.0 token", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{Version: "1.0"}, nil), status: 500},
		{name: "forged signature", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{BadSignature: true}, nil),
			kind: accessNodeAccepts, status: 401, why: "Backstage only decodes the ID token"},
		{name: "unsigned token", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{}, func(hh http.Header) {
			hh.Set(mockvendor.EasyAuthIDTokenHeader, unsigned(hh.Get(mockvendor.EasyAuthIDTokenHeader)))
		}), kind: accessNodeAccepts, status: 401, why: "Backstage accepts alg none: it only decodes the ID token"},
		{name: "expired token", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{ExpiresIn: -600}, nil),
			kind: accessNodeAccepts, status: 401, why: "Backstage does not check exp"},
		{name: "another application's token", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{Audience: "another-app"}, nil),
			kind: accessNodeAccepts, status: 401, why: "Backstage does not check aud"},
		{name: "another tenant's issuer", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{Issuer: "https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555/v2.0"}, nil),
			kind: accessNodeAccepts, status: 401, why: "Backstage does not check iss"},
		{name: "client principal of another user", provider: "azureEasyAuth", header: eaHdr(mockvendor.EasyAuthRequest{PrincipalOID: "00000000-0000-4000-8000-000000009999"}, nil),
			kind: accessNodeAccepts, status: 401, why: "Backstage ignores the x-ms-client-principal headers"},
	}

	client := &http.Client{Timeout: 30 * time.Second}
	call := func(base string, row accessRow) httpResult {
		return proxyRefresh(t, client, base, row.provider, http.MethodGet, row.header)
	}
	d.untilOK(time.Now().Add(60*time.Second), "Node never signed alice in", func() httpResult { return call(nodeBase, rows[0]) })
	for _, row := range rows {
		t.Run(row.provider+"/"+row.name, func(t *testing.T) {
			node, ours := call(nodeBase, row), call(ourBase, row)
			nodeShape, ourShape := accessShape(t, node), accessShape(t, ours)
			switch row.kind {
			case accessSame:
				if node.Status != row.status || ours.Status != row.status || nodeShape != ourShape {
					t.Errorf("answers differ (want %d from both):\n  node: %d %s\n  ours: %d %s", row.status, node.Status, nodeShape, ours.Status, ourShape)
				}
				// The same headers went to both: providerInfo must be equal value for value.
				if np, op := accessProviderInfo(node), accessProviderInfo(ours); np != op {
					t.Errorf("providerInfo differs:\n  node: %s\n  ours: %s", np, op)
				}
				t.Logf("same answer: %d %s", ours.Status, ourShape)
			case accessBothRefuse:
				if node.Status == 200 || ours.Status != 401 || accessHasToken(ours) || accessHasToken(node) {
					t.Errorf("want both refused (ours 401):\n  node: %d %s\n  ours: %d %s", node.Status, nodeShape, ours.Status, ourShape)
				}
				t.Logf("deliberate difference (%s):\n  node: %d %s\n  ours: %d %s", row.why, node.Status, nodeShape, ours.Status, ourShape)
			case accessOwnClaims:
				own := accessTokenClaims(t, row.header.Get("Cf-Access-Jwt-Assertion"))
				nodeClaims, ourClaims := accessClaimsOf(node), accessClaimsOf(ours)
				if node.Status != 200 || ours.Status != 200 || nodeShape != ourShape || ourClaims != own || nodeClaims == own {
					t.Errorf("want the same sign-in, ours with the token's own claims and Node's with another token's:\n  token: %s\n  node: %d %s\n  ours: %d %s", own, node.Status, nodeClaims, ours.Status, ourClaims)
				}
				t.Logf("deliberate difference (%s):\n  token: %s\n  node:  %s\n  ours:  %s", row.why, own, nodeClaims, ourClaims)
			case accessNodeAccepts:
				if node.Status != 200 || !accessHasToken(node) {
					t.Errorf("Node was expected to accept this (%s): %d %s", row.why, node.Status, nodeShape)
				}
				if ours.Status != row.status || accessHasToken(ours) {
					t.Errorf("ours: %d %s, want %d and no token", ours.Status, ourShape, row.status)
				}
				t.Logf("Node accepts, we refuse (%s):\n  node: %d (signed in)\n  ours: %d %s", row.why, node.Status, ours.Status, ourShape)
			}
		})
	}
}

// accessShape is an answer normalised for comparison: a sign-in by
// normalizeAuthResponse; an error by its name, message and status (request.url is
// the same path on both).
func accessShape(t *testing.T, r httpResult) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return "not JSON: " + truncate(r.Body, 200)
	}
	if e, ok := v["error"].(map[string]any); ok {
		keys := slices.Sorted(maps.Keys(e))
		return fmt.Sprintf("%v: %v (%v) keys %v", e["name"], e["message"], v["response"], keys)
	}
	b, _ := json.Marshal(normalizeAuthResponse(v))
	return string(b)
}

func accessHasToken(r httpResult) bool {
	var v struct {
		BackstageIdentity *struct{ Token string } `json:"backstageIdentity"`
	}
	return json.Unmarshal(r.Body, &v) == nil && v.BackstageIdentity != nil && v.BackstageIdentity.Token != ""
}

// accessProviderInfo is an answer's providerInfo re-encoded (object keys sorted).
func accessProviderInfo(r httpResult) string {
	var v struct {
		ProviderInfo any `json:"providerInfo"`
	}
	_ = json.Unmarshal(r.Body, &v)
	b, _ := json.Marshal(v.ProviderInfo)
	return string(b)
}

// accessTokenClaims is a JWT's payload re-encoded (object keys sorted).
func accessTokenClaims(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var v any
	if err != nil || json.Unmarshal(b, &v) != nil {
		t.Fatalf("not a JWT: %q", tok)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// accessClaimsOf is an answer's providerInfo.claims re-encoded.
func accessClaimsOf(r httpResult) string {
	var v struct {
		ProviderInfo struct {
			Claims any `json:"claims"`
		} `json:"providerInfo"`
	}
	_ = json.Unmarshal(r.Body, &v)
	b, _ := json.Marshal(v.ProviderInfo.Claims)
	return string(b)
}
