package mockvendor

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// OpenShift: the Kubernetes Status error shape, users/~, and token deletion by name.
func TestOpenShiftPersonality(t *testing.T) {
	s := New(Options{Personality: OpenShift})
	base := s.Start(t)
	q := authorize(t, base, OpenShiftAuthorizePath, url.Values{"scope": {"user:full"}})
	resp, body := post(t, base+OpenShiftTokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {cb},
		"client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}})
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tok) != nil || !strings.HasPrefix(tok.AccessToken, "sha256~") || tok.ExpiresIn != 86400 {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, base+OpenShiftUserPath, "Authorization", "Bearer "+tok.AccessToken); resp.StatusCode != 200 || !strings.Contains(body, `"name":"alice"`) {
		t.Errorf("users/~: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, base+OpenShiftUserPath, "Authorization", "Bearer sha256~nope"); resp.StatusCode != 401 || !strings.Contains(body, `"kind":"Status"`) {
		t.Errorf("users/~ without a live token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, http.MethodDelete, base+OpenShiftAccessTokenPath+"sha256~other", nil, "Authorization", "Bearer "+tok.AccessToken); resp.StatusCode != 404 {
		t.Errorf("delete of another token: %d", resp.StatusCode)
	}
	// Deleting needs the name derived from the token; the token is gone afterwards.
	rest := strings.TrimPrefix(tok.AccessToken, "sha256~")
	name := "sha256~" + b64sha256(rest)
	if resp, _ := call(t, http.MethodDelete, base+OpenShiftAccessTokenPath+name, nil, "Authorization", "Bearer "+tok.AccessToken); resp.StatusCode != 200 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+OpenShiftUserPath, "Authorization", "Bearer "+tok.AccessToken); resp.StatusCode != 401 {
		t.Errorf("users/~ after delete: %d", resp.StatusCode)
	}
}

// Pinniped: discovery, PKCE required, Basic client auth only, the exchange's checks.
func TestPinnipedPersonality(t *testing.T) {
	s := New(Options{Personality: Pinniped})
	base := s.Start(t)
	_, body := get(t, base+PinnipedDiscoveryPath)
	if !strings.Contains(body, `"issuer":"`+base+`/issuer"`) || !strings.Contains(body, `"ES256"`) {
		t.Errorf("discovery %s", body)
	}
	if _, body := get(t, base+PinnipedJWKSPath); !strings.Contains(body, `"kty":"EC"`) {
		t.Errorf("jwks %s", body)
	}
	if q := authorize(t, base, PinnipedAuthorizePath, nil); q.Get("error") != "invalid_request" {
		t.Errorf("authorize without PKCE: %v", q)
	}
	verifier := strings.Repeat("v", 43)
	q := authorize(t, base, PinnipedAuthorizePath, url.Values{"scope": {"openid pinniped:request-audience offline_access"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {cb}, "code_verifier": {verifier}}
	if resp, _ := post(t, base+PinnipedTokenPath, url.Values{"client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}, "code": {"x"}}); resp.StatusCode != 401 {
		t.Errorf("client_secret_post accepted: %d", resp.StatusCode)
	}
	resp, body := post(t, base+PinnipedTokenPath, form, "Authorization", basic("backstage-client", "backstage-secret"))
	var tok struct{ AccessToken, IDToken, RefreshToken string }
	_ = json.Unmarshal([]byte(strings.NewReplacer("access_token", "AccessToken", "id_token", "IDToken", "refresh_token", "RefreshToken").Replace(body)), &tok)
	if resp.StatusCode != 200 || !strings.HasPrefix(tok.AccessToken, "pin_at_") || tok.IDToken == "" || !strings.HasPrefix(tok.RefreshToken, "pin_rt_") {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	exchange := func(aud string) (*http.Response, string) {
		return post(t, base+PinnipedTokenPath, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {tok.AccessToken},
			"audience": {aud}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "requested_token_type": {"urn:ietf:params:oauth:token-type:jwt"}},
			"Authorization", basic("backstage-client", "backstage-secret"))
	}
	if resp, body := exchange("cluster-a"); resp.StatusCode != 200 || !strings.Contains(body, `"issued_token_type":"urn:ietf:params:oauth:token-type:jwt"`) {
		t.Errorf("exchange: %d %s", resp.StatusCode, body)
	}
	if resp, body := exchange("a.pinniped.dev"); resp.StatusCode != 400 || !strings.Contains(body, `"error":"invalid_request"`) {
		t.Errorf("reserved audience: %d %s", resp.StatusCode, body)
	}
}

func b64sha256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func s256(verifier string) string { return b64sha256(verifier) }

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}
