package mockvendor

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestOkta(t *testing.T) {
	s := New(Options{Personality: Okta})
	base := s.Start(t)
	for _, tc := range []struct{ disc, iss, prefix string }{
		{"/.well-known/openid-configuration", base, "/oauth2/v1"},
		{"/oauth2/default/.well-known/openid-configuration", base + "/oauth2/default", "/oauth2/default/v1"},
	} {
		_, body := get(t, base+tc.disc)
		d := decode(t, body)
		if d["issuer"] != tc.iss || d["token_endpoint"] != base+tc.prefix+"/token" || d["jwks_uri"] != base+tc.prefix+"/keys" {
			t.Errorf("%s: %v", tc.disc, d)
		}
		q := authorize(t, base, tc.prefix+"/authorize", url.Values{"scope": {"openid email profile offline_access"}, "nonce": {"n1"}})
		f := grantForm(q.Get("code"))
		f.Del("client_id")
		f.Del("client_secret")
		// @davidzemon/passport-okta-oauth's "Basic: <credentials>" (stray colon).
		basic := base64.StdEncoding.EncodeToString([]byte("backstage-client:backstage-secret"))
		resp, body := post(t, base+tc.prefix+"/token", f, "Authorization", "Basic: "+basic)
		m := decode(t, body)
		if resp.StatusCode != 200 || m["refresh_token"] == nil || m["scope"] != "openid email profile offline_access" {
			t.Fatalf("token %d %s", resp.StatusCode, body)
		}
		c := verifiedClaims(t, m["id_token"].(string))
		if c["iss"] != tc.iss || c["nonce"] != "n1" || c["sub"] != "00u00000000000001001" || c["email"] != "alice@example.com" || c["at_hash"] != atHash(m["access_token"].(string)) {
			t.Errorf("ID token %v", c)
		}
		// userinfo by POST, as the strategy calls it.
		resp, body = post(t, base+tc.prefix+"/userinfo", url.Values{}, "Authorization", "Bearer "+m["access_token"].(string))
		if u := decode(t, body); resp.StatusCode != 200 || u["preferred_username"] != "alice@example.com" || u["name"] != "Alice Smith" {
			t.Errorf("userinfo %d %s", resp.StatusCode, body)
		}
		// The refresh token is not rotated.
		rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}}
		for range 2 {
			if _, body = post(t, base+tc.prefix+"/token", rf); decode(t, body)["refresh_token"] != m["refresh_token"] {
				t.Fatalf("refresh %s", body)
			}
		}
		f.Set("client_secret", "wrong")
		if resp, body = post(t, base+tc.prefix+"/token", f); resp.StatusCode != 401 || !strings.Contains(body, "invalid_client") {
			t.Errorf("wrong secret %d %s", resp.StatusCode, body)
		}
	}
	// Without offline_access: no refresh token.
	q := authorize(t, base, OktaAuthorizePath, url.Values{"scope": {"openid"}})
	if _, body := post(t, base+OktaTokenPath, grantForm(q.Get("code"))); strings.Contains(body, "refresh_token") || strings.Contains(body, "email") {
		t.Errorf("openid only: %s", body)
	}
}

func TestAuth0(t *testing.T) {
	s := New(Options{Personality: Auth0})
	base := s.Start(t)
	host := "acme.us.auth0.com"
	_, body := asHost(t, "GET", base+"/.well-known/openid-configuration", host, nil)
	if d := decode(t, body); d["issuer"] != "http://"+host+"/" || d["jwks_uri"] != "http://"+host+Auth0KeysPath || d["token_endpoint"] != "http://"+host+Auth0TokenPath {
		t.Errorf("discovery %v", d)
	}
	q := authorize(t, base, Auth0AuthorizePath, url.Values{"scope": {"openid profile email"}, "nonce": {"n1"}})
	resp, body := post(t, base+Auth0TokenPath, grantForm(q.Get("code")))
	m := decode(t, body)
	if resp.StatusCode != 200 || m["refresh_token"] != nil {
		t.Fatalf("token %d %s (no offline_access: no refresh token)", resp.StatusCode, body)
	}
	c := verifiedClaims(t, m["id_token"].(string))
	if c["iss"] != base+"/" || c["nonce"] != "n1" || c["sub"] != "auth0|0000000000000000000003e9" || c["nickname"] != "alice" {
		t.Errorf("ID token %v", c)
	}
	// passport-auth0 puts the token in the query string.
	if resp, body = get(t, base+Auth0UserInfoPath+"?access_token="+url.QueryEscape(m["access_token"].(string))); resp.StatusCode != 200 || decode(t, body)["email"] != "alice@example.com" {
		t.Errorf("userinfo %d %s", resp.StatusCode, body)
	}
	// A used code: 403 invalid_grant, as Auth0 answers.
	if resp, body = post(t, base+Auth0TokenPath, grantForm(q.Get("code"))); resp.StatusCode != 403 || decode(t, body)["error"] != "invalid_grant" {
		t.Errorf("used code %d %s", resp.StatusCode, body)
	}
	if resp, _ = asHost(t, "GET", base+Auth0LogoutPath+"?client_id=backstage-client&returnTo=http%3A%2F%2Flocalhost%3A3000", host, nil); resp.StatusCode != 302 {
		t.Errorf("logout %d", resp.StatusCode)
	}
}

func TestOneLogin(t *testing.T) {
	s := New(Options{Personality: OneLogin})
	base := s.Start(t)
	iss := base + OneLoginIssuerPath
	if _, body := get(t, iss+"/.well-known/openid-configuration"); decode(t, body)["issuer"] != iss || decode(t, body)["userinfo_endpoint"] != base+OneLoginMePath {
		t.Errorf("discovery %s", body)
	}
	// Backstage asks for openid only: still a refresh token, and /me has the profile.
	q := authorize(t, base, OneLoginAuthorizePath, url.Values{"scope": {"openid"}})
	resp, body := post(t, base+OneLoginTokenPath, grantForm(q.Get("code")))
	m := decode(t, body)
	if resp.StatusCode != 200 || m["refresh_token"] == nil || m["scope"] != "openid" {
		t.Fatalf("token %d %s", resp.StatusCode, body)
	}
	if c := verifiedClaims(t, m["id_token"].(string)); c["iss"] != iss || c["sub"] != "90001001" {
		t.Errorf("ID token %v", c)
	}
	resp, body = get(t, base+OneLoginMePath, "Authorization", "Bearer "+m["access_token"].(string))
	if u := decode(t, body); resp.StatusCode != 200 || u["preferred_username"] != "alice" || u["email"] != "alice@example.com" {
		t.Errorf("/me %d %s", resp.StatusCode, body)
	}
}
