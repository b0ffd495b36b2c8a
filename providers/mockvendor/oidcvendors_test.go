package mockvendor

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// asHost sends a request as if it came for host (the mock behind a vendor's name).
func asHost(t *testing.T, method, u, host string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, u, body)
	req.Host = host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %q", body)
	}
	return m
}

// verifiedClaims checks an ID token against the mock's key.
func verifiedClaims(t *testing.T, raw string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &mockkit.Key(1).PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
		t.Fatalf("ID token: %v", err)
	}
	return claims
}

func TestGoogle(t *testing.T) {
	s := New(Options{Personality: Google})
	base := s.Start(t)

	_, body := asHost(t, "GET", base+GoogleDiscoveryPath, "accounts.google.com", nil)
	if d := decode(t, body); d["issuer"] != GoogleIssuer || d["jwks_uri"] != "https://www.googleapis.com/oauth2/v3/certs" || d["token_endpoint"] != "https://oauth2.googleapis.com/token" {
		t.Errorf("discovery as accounts.google.com: %v", d)
	}
	if _, body = get(t, base+GoogleDiscoveryPath); decode(t, body)["issuer"] != base {
		t.Errorf("discovery on 127.0.0.1 names the mock: %s", body)
	}

	// access_type=offline: a refresh token; the code comes as Google's 4/0A...
	q := authorize(t, base, GoogleAuthorizePath, url.Values{"scope": {"openid email profile"}, "access_type": {"offline"}, "nonce": {"n1"}})
	if !strings.HasPrefix(q.Get("code"), "4/0A") || q.Get("scope") != "openid "+GoogleScopeEmail+" "+GoogleScopeProfile {
		t.Fatalf("authorize: %v", q)
	}
	resp, body := asHost(t, "POST", base+GoogleTokenPath, "www.googleapis.com", grantForm(q.Get("code")))
	m := decode(t, body)
	if resp.StatusCode != 200 || !strings.HasPrefix(m["access_token"].(string), "ya29.a0") || !strings.HasPrefix(m["refresh_token"].(string), "1//0g") ||
		m["expires_in"] != float64(3599) || m["token_type"] != "Bearer" || !strings.HasPrefix(body, `{"access_token":`) {
		t.Fatalf("token answer %d %s", resp.StatusCode, body)
	}
	at, rt := m["access_token"].(string), m["refresh_token"].(string)
	c := verifiedClaims(t, m["id_token"].(string))
	if c["iss"] != GoogleIssuer || c["aud"] != "backstage-client" || c["azp"] != "backstage-client" || c["nonce"] != "n1" || c["at_hash"] != atHash(at) ||
		c["email"] != "alice@example.com" || c["email_verified"] != true || c["sub"] != "100000000000000001001" {
		t.Errorf("ID token %v", c)
	}
	// Without access_type=offline: no refresh token.
	q = authorize(t, base, GoogleAuthorizePath, url.Values{"scope": {"openid email"}})
	if _, body = post(t, base+GoogleTokenPath, grantForm(q.Get("code"))); strings.Contains(body, "refresh_token") {
		t.Errorf("online access got a refresh token: %s", body)
	}

	// userinfo: the header (or passport's ?access_token=); Google's key order.
	for _, h := range [][]string{{"Authorization", "Bearer " + at}, {}} {
		u := base + GoogleUserInfoPath
		if len(h) == 0 {
			u += "?access_token=" + url.QueryEscape(at)
		}
		resp, body = get(t, u, h...)
		if resp.StatusCode != 200 || !strings.HasPrefix(body, `{"sub":"100000000000000001001","name":"Alice Smith","given_name":"Alice","family_name":"Smith","picture":`) ||
			!strings.Contains(body, `"email":"alice@example.com","email_verified":true}`) {
			t.Errorf("userinfo %d %s", resp.StatusCode, body)
		}
	}
	if resp, body = get(t, base+GoogleUserInfoPath, "Authorization", "Bearer ya29.nope"); resp.StatusCode != 401 || decode(t, body)["error_description"] != "Invalid Credentials" ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("bad token: %d %s", resp.StatusCode, body)
	}

	// Refresh tokens are not rotated: the same one works twice, and narrower scopes only.
	rf := url.Values{"client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for range 2 {
		if _, body = post(t, base+GoogleTokenPath, rf); decode(t, body)["access_token"] == nil || strings.Contains(body, "refresh_token") {
			t.Fatalf("refresh: %s", body)
		}
	}
	rf.Set("scope", "openid https://www.googleapis.com/auth/drive")
	if resp, body = post(t, base+GoogleTokenPath, rf); resp.StatusCode != 400 || decode(t, body)["error"] != "invalid_scope" {
		t.Errorf("wider scope: %d %s", resp.StatusCode, body)
	}
	rf.Del("scope")

	// Errors: a used code, a wrong secret, a 5xx page with the canary.
	if resp, body = post(t, base+GoogleTokenPath, grantForm(q.Get("code"))); resp.StatusCode != 400 || decode(t, body)["error"] != "invalid_grant" {
		t.Errorf("used code: %d %s", resp.StatusCode, body)
	}
	f := grantForm("x")
	f.Set("client_secret", "wrong")
	if resp, body = post(t, base+GoogleTokenPath, f); resp.StatusCode != 401 || decode(t, body)["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %s", resp.StatusCode, body)
	}
	s.SetFault(Fault{TokenStatus: 503})
	if resp, body = post(t, base+GoogleTokenPath, rf); resp.StatusCode != 503 || !strings.Contains(body, "canary") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("token 503: %d %s", resp.StatusCode, body)
	}
	s.SetFault(Fault{AuthorizeError: "access_denied"})
	if q := authorize(t, base, GoogleAuthorizePath, url.Values{"scope": {"openid"}}); q.Get("error") != "access_denied" || q.Has("error_description") {
		t.Errorf("denied: %v", q)
	}

	// Revocation with the token in the body ends the grant.
	if resp, body = post(t, base+GoogleRevokePath, url.Values{"token": {rt}}); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if resp, _ = get(t, base+GoogleUserInfoPath, "Authorization", "Bearer "+at); resp.StatusCode != 401 {
		t.Errorf("the access token outlived the revoked grant: %d", resp.StatusCode)
	}
	if resp, body = post(t, base+GoogleRevokePath+"?token="+url.QueryEscape(rt), url.Values{}); resp.StatusCode != 400 || decode(t, body)["error"] != "invalid_token" {
		t.Errorf("revoke again: %d %s", resp.StatusCode, body)
	}
}

func grantForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}, "code": {code}, "redirect_uri": {cb}}
}

func TestMicrosoft(t *testing.T) {
	s := New(Options{Personality: Microsoft, Users: []User{DefaultUsers()[0], {ID: 7, Login: "dana", Email: "dana@outlook.com", TenantID: EntraConsumersTenant}}})
	base := s.Start(t)
	login := "login.microsoftonline.com"

	for tenant, iss := range map[string]string{
		"common":             "https://login.microsoftonline.com/{tenantid}/v2.0",
		"organizations":      "https://login.microsoftonline.com/{tenantid}/v2.0",
		"consumers":          "https://login.microsoftonline.com/" + EntraConsumersTenant + "/v2.0",
		DefaultEntraDomain:   "https://login.microsoftonline.com/" + DefaultEntraTenant + "/v2.0",
		DefaultEntraTenant:   "https://login.microsoftonline.com/" + DefaultEntraTenant + "/v2.0",
		EntraConsumersTenant: "https://login.microsoftonline.com/" + EntraConsumersTenant + "/v2.0",
	} {
		_, body := asHost(t, "GET", base+"/"+tenant+EntraDiscoveryPath, login, nil)
		if d := decode(t, body); d["issuer"] != iss || d["jwks_uri"] != "https://login.microsoftonline.com/"+tenant+EntraKeysPath {
			t.Errorf("%s: %v", tenant, d)
		}
	}
	if resp, body := get(t, base+"/11111111-1111-1111-1111-111111111111"+EntraDiscoveryPath); resp.StatusCode != 400 || !strings.Contains(body, "AADSTS90002") {
		t.Errorf("unknown tenant: %d %s", resp.StatusCode, body)
	}

	q := authorize(t, base, "/common"+EntraAuthorizePath, url.Values{"scope": {"openid offline_access profile email User.Read user.read"}, "nonce": {"n1"}})
	resp, body := asHost(t, "POST", base+"/common"+EntraTokenPath, login, grantForm(q.Get("code")))
	m := decode(t, body)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, `{"token_type":"Bearer","scope":"openid profile email User.Read","expires_in":3600,"ext_expires_in":3600,"access_token":`) {
		t.Fatalf("token answer %d %s", resp.StatusCode, body)
	}
	at, rt := m["access_token"].(string), m["refresh_token"].(string)
	if ac := verifiedClaims(t, at); ac["aud"] != GraphAppID || ac["scp"] != "openid profile email User.Read" || ac["tid"] != DefaultEntraTenant {
		t.Errorf("Graph access token %v", ac)
	}
	if c := verifiedClaims(t, m["id_token"].(string)); c["iss"] != "https://login.microsoftonline.com/"+DefaultEntraTenant+"/v2.0" || c["tid"] != DefaultEntraTenant ||
		c["nonce"] != "n1" || c["oid"] != "00000000-0000-4000-8000-000000001001" || c["email"] != "alice@example.com" || c["preferred_username"] != "alice@mock.onmicrosoft.com" {
		t.Errorf("ID token %v", c)
	}

	// Graph: /me/ with its nulls, the photo, Graph's errors.
	resp, body = get(t, base+GraphMePath+"/", "Authorization", "Bearer "+at)
	if resp.StatusCode != 200 || body != `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users/$entity","businessPhones":[],"displayName":"Alice Smith","givenName":"Alice","jobTitle":null,"mail":"alice@example.com","mobilePhone":null,"officeLocation":null,"preferredLanguage":null,"surname":"Smith","userPrincipalName":"alice@mock.onmicrosoft.com","id":"00000000-0000-4000-8000-000000001001"}`+"\n" {
		t.Errorf("/me: %d %s", resp.StatusCode, body)
	}
	if resp, body = get(t, base+GraphPhotoPath, "Authorization", "Bearer "+at); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(body, "\xff\xd8") {
		t.Errorf("photo: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, body = get(t, base+GraphMePath, "Authorization", "Bearer nope"); resp.StatusCode != 401 || !strings.Contains(body, `"code":"InvalidAuthenticationToken"`) {
		t.Errorf("bad token: %d %s", resp.StatusCode, body)
	}

	// Refresh: rotation, one resource per token, the AADSTS shapes.
	rf := url.Values{"scope": {"api://x/read offline_access"}, "grant_type": {"refresh_token"}, "client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}, "refresh_token": {rt}}
	resp, body = post(t, base+"/common"+EntraTokenPath, rf)
	m = decode(t, body)
	if resp.StatusCode != 200 || m["scope"] != "api://x/read" || m["refresh_token"] == rt || m["id_token"] != nil {
		t.Fatalf("resource refresh: %d %s", resp.StatusCode, body)
	}
	if ac := verifiedClaims(t, m["access_token"].(string)); ac["aud"] != "api://x" || ac["scp"] != "api://x/read" {
		t.Errorf("resource token %v", ac)
	}
	if resp, body = get(t, base+GraphMePath, "Authorization", "Bearer "+m["access_token"].(string)); resp.StatusCode != 401 || !strings.Contains(body, "Invalid audience") {
		t.Errorf("a resource token at Graph: %d %s", resp.StatusCode, body)
	}
	if resp, body = post(t, base+"/common"+EntraTokenPath, rf); resp.StatusCode != 400 || decode(t, body)["error"] != "invalid_grant" || !strings.Contains(body, "AADSTS70008") {
		t.Errorf("a used refresh token: %d %s", resp.StatusCode, body)
	}
	rf.Set("refresh_token", m["refresh_token"].(string))
	rf.Set("scope", "api://x/read User.Read offline_access")
	if resp, body = post(t, base+"/common"+EntraTokenPath, rf); resp.StatusCode != 400 || decode(t, body)["error"] != "invalid_scope" || !strings.Contains(body, "AADSTS28000") {
		t.Errorf("two resources: %d %s", resp.StatusCode, body)
	}
	f := grantForm("1.AXEAnope")
	f.Set("client_secret", "wrong")
	if resp, body = post(t, base+"/common"+EntraTokenPath, f); resp.StatusCode != 401 || !strings.Contains(body, "AADSTS7000215") {
		t.Errorf("wrong secret: %d %s", resp.StatusCode, body)
	}
	s.SetFault(Fault{TokenStatus: 502})
	if resp, body = post(t, base+"/common"+EntraTokenPath, f); resp.StatusCode != 502 || !strings.Contains(body, "canary") || decode(t, body)["error"] != "temporarily_unavailable" {
		t.Errorf("token 502: %d %s", resp.StatusCode, body)
	}
	s.SetFault(Fault{AuthorizeError: "access_denied"})
	if q := authorize(t, base, "/common"+EntraAuthorizePath, url.Values{"scope": {"openid"}}); q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS65004") {
		t.Errorf("denied: %v", q)
	}

	// A personal account: an opaque Graph token, a 404 ImageNotFound without a photo;
	// the user's tenant decides where it may sign in.
	cq := url.Values{"client_id": {"backstage-client"}, "redirect_uri": {cb}, "response_type": {"code"}, "scope": {"openid User.Read"}, "state": {"st"}}
	if resp, body = get(t, base+"/consumers"+EntraAuthorizePath+"?"+cq.Encode()); resp.StatusCode != 400 || !strings.Contains(body, "AADSTS50020") {
		t.Errorf("alice (a work account) at consumers: %d %s", resp.StatusCode, body)
	}
	s.SetFault(Fault{Login: "dana"})
	q = authorize(t, base, "/common"+EntraAuthorizePath, url.Values{"scope": {"openid User.Read"}})
	_, body = post(t, base+"/common"+EntraTokenPath, grantForm(q.Get("code")))
	dat := decode(t, body)["access_token"].(string)
	if !strings.HasPrefix(dat, "EwB") || strings.Contains(dat, ".") {
		t.Errorf("personal Graph token %.20s", dat)
	}
	if resp, body = get(t, base+GraphPhotoPath, "Authorization", "Bearer "+dat); resp.StatusCode != 404 || !strings.Contains(body, "ImageNotFound") {
		t.Errorf("no photo: %d %s", resp.StatusCode, body)
	}
}
