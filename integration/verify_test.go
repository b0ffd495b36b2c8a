package integration

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// backstageClaims are the claims of a Backstage user token.
type backstageClaims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Ent []string `json:"ent"`
	Aud string   `json:"aud"`
	Iat int64    `json:"iat"`
	Exp int64    `json:"exp"`
	Uip string   `json:"uip"`
}

// fetchJWKS reads a JWKS document with an independent JOSE library (go-jose).
func fetchJWKS(t testing.TB, url string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("JWKS %s: %d %s", url, resp.StatusCode, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s: %v\n%s", url, err, body)
	}
	return set
}

// verifyToken checks a compact ES256 JWS against a JWKS as Backstage's verifiers do
// (kid lookup, alg, typ) and returns its header typ and claims.
func verifyToken(t testing.TB, token string, set jose.JSONWebKeySet) (string, backstageClaims) {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("want one signature")
	}
	hdr := jws.Signatures[0].Protected
	keys := set.Key(hdr.KeyID)
	if len(keys) == 0 {
		t.Fatalf("kid %q is not in the JWKS (%d keys)", hdr.KeyID, len(set.Keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	var c backstageClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	typ, _ := hdr.ExtraHeaders["typ"].(string)
	return typ, c
}

// limitedToken rebuilds the limited user token from a full token's uip, exactly as
// Backstage's verifiers do (BACKSTAGE_AUTH.md 5.3), without the private key.
func limitedToken(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(raw, &hdr)
	var c backstageClaims
	raw, _ = base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &c)
	h := `{"typ":"vnd.backstage.limited-user","alg":` + jsString(hdr.Alg) + `,"kid":` + jsString(hdr.Kid) + `}`
	p := `{"sub":` + jsString(c.Sub) + `,"iat":` + itoa(c.Iat) + `,"exp":` + itoa(c.Exp) + `}`
	return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + c.Uip
}

// jsString is JSON.stringify for the plain strings these tests use.
func jsString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func checkFreshToken(t testing.TB, c backstageClaims, issuer, sub string) {
	t.Helper()
	if c.Iss != issuer || c.Sub != sub || c.Aud != "backstage" || c.Uip == "" {
		t.Fatalf("claims = %+v, want iss %s sub %s aud backstage and a uip", c, issuer, sub)
	}
	now := time.Now().Unix()
	if c.Iat > now+5 || c.Exp <= now || c.Exp-c.Iat != 3600 {
		t.Fatalf("iat/exp = %d/%d at %d", c.Iat, c.Exp, now)
	}
}

// jwsKID returns the kid of a compact JWS header.
func jwsKID(token string) (string, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", err
	}
	return jws.Signatures[0].Protected.KeyID, nil
}

func mustKID(t testing.TB, token string) string {
	t.Helper()
	kid, err := jwsKID(token)
	if err != nil {
		t.Fatal(err)
	}
	return kid
}
