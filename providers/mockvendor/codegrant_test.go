package mockvendor

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func cgDecodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %q", body)
	}
	return m
}

// GitLab: JSON answers, rotated refresh tokens, Doorkeeper's errors.
func TestGitLabPersonality(t *testing.T) {
	base := New(Options{Personality: GitLab}).Start(t)
	resp, body := post(t, base+GitLabTokenPath, grantForm(authorize(t, base, GitLabAuthorizePath, nil).Get("code")))
	m := cgDecodeJSON(t, body)
	if resp.StatusCode != 200 || !strings.HasPrefix(m["access_token"].(string), "glpat-oauth-") || m["expires_in"] != float64(3600) || m["created_at"] == nil {
		t.Fatalf("token answer %d %s", resp.StatusCode, body)
	}
	rt := m["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}}
	if _, body = post(t, base+GitLabTokenPath, refresh); cgDecodeJSON(t, body)["refresh_token"] == rt {
		t.Fatalf("refresh tokens rotate: %s", body)
	}
	if resp, body = post(t, base+GitLabTokenPath, refresh); resp.StatusCode != 400 || cgDecodeJSON(t, body)["error"] != "invalid_grant" {
		t.Fatalf("used refresh token: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, base+GitLabUserPath, "Authorization", "Bearer "+m["access_token"].(string))
	if u := cgDecodeJSON(t, body); resp.StatusCode != 200 || u["username"] != "alice" || u["web_url"] != base+"/alice" || u["id"] != float64(1001) {
		t.Fatalf("user %d %s", resp.StatusCode, body)
	}
	if resp, body = get(t, base+GitLabUserPath, "Authorization", "Bearer nope"); resp.StatusCode != 401 || body != "{\"message\":\"401 Unauthorized\"}\n" {
		t.Fatalf("bad token %d %q", resp.StatusCode, body)
	}
}

// Bitbucket Cloud requires HTTP Basic at the token endpoint and the email scope for
// /2.0/user/emails.
func TestBitbucketPersonality(t *testing.T) {
	base := New(Options{Personality: Bitbucket}).Start(t)
	code := authorize(t, base, BitbucketAuthorizePath, url.Values{"scope": {"account"}}).Get("code")
	if resp, _ := post(t, base+BitbucketTokenPath, grantForm(code)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("body credentials only: %d", resp.StatusCode)
	}
	code = authorize(t, base, BitbucketAuthorizePath, url.Values{"scope": {"account"}}).Get("code")
	basic := "Basic YmFja3N0YWdlLWNsaWVudDpiYWNrc3RhZ2Utc2VjcmV0"
	resp, body := post(t, base+BitbucketTokenPath, grantForm(code), "Authorization", basic)
	m := cgDecodeJSON(t, body)
	if resp.StatusCode != 200 || m["scopes"] != "account" || m["state"] != "authorization_code" || m["scope"] != nil {
		t.Fatalf("token answer %d %s", resp.StatusCode, body)
	}
	at := m["access_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}
	for range 2 {
		// Bitbucket keeps the refresh token.
		if _, body = post(t, base+BitbucketTokenPath, refresh, "Authorization", basic); cgDecodeJSON(t, body)["refresh_token"] != m["refresh_token"] {
			t.Fatalf("refresh %s", body)
		}
	}
	if resp, body = get(t, base+BitbucketUserPath, "Authorization", "Bearer "+at); resp.StatusCode != 200 || cgDecodeJSON(t, body)["uuid"] != BitbucketUUID(1001) {
		t.Fatalf("user %d %s", resp.StatusCode, body)
	}
	if resp, _ = get(t, base+BitbucketEmailsPath, "Authorization", "Bearer "+at); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("emails without the email scope: %d", resp.StatusCode)
	}
}

// Bitbucket Server: whoami names the user in X-AUSERNAME only for a live token.
func TestBitbucketServerPersonality(t *testing.T) {
	base := New(Options{Personality: BitbucketServer}).Start(t)
	_, body := post(t, base+BitbucketServerTokenPath, grantForm(authorize(t, base, BitbucketServerAuthorizePath, url.Values{"scope": {"PROJECT_ADMIN"}}).Get("code")))
	at := cgDecodeJSON(t, body)["access_token"].(string)
	if resp, _ := get(t, base+BitbucketServerWhoAmIPath, "Authorization", "Bearer "+at); resp.StatusCode != 200 || resp.Header.Get("X-Ausername") != "alice" {
		t.Fatalf("whoami %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := get(t, base+BitbucketServerWhoAmIPath); resp.StatusCode != 200 || resp.Header.Get("X-Ausername") != "" {
		t.Fatalf("anonymous whoami %d %v", resp.StatusCode, resp.Header)
	}
	if resp, body := get(t, base+BitbucketServerUsersPath+"alice?avatarSize=256", "Authorization", "Bearer "+at); resp.StatusCode != 200 || cgDecodeJSON(t, body)["avatarUrl"] == nil {
		t.Fatalf("user %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, base+BitbucketServerUsersPath+"nobody", "Authorization", "Bearer "+at); resp.StatusCode != 404 {
		t.Fatalf("unknown user %d", resp.StatusCode)
	}
}

// Atlassian insists on its audience, issues refresh tokens only for offline_access,
// and answers errors with 403.
func TestAtlassianPersonality(t *testing.T) {
	base := New(Options{Personality: Atlassian}).Start(t)
	if q := authorize(t, base, AtlassianAuthorizePath, url.Values{"scope": {"read:me"}}); q.Get("error") != "invalid_request" {
		t.Fatalf("no audience: %v", q)
	}
	code := authorize(t, base, AtlassianAuthorizePath, url.Values{"scope": {"read:me"}, "audience": {AtlassianAudience}}).Get("code")
	_, body := post(t, base+AtlassianTokenPath, grantForm(code))
	if m := cgDecodeJSON(t, body); m["access_token"] == nil || m["refresh_token"] != nil {
		t.Fatalf("no offline_access, no refresh token: %s", body)
	}
	if resp, body := post(t, base+AtlassianTokenPath, grantForm("used")); resp.StatusCode != 403 || cgDecodeJSON(t, body)["error"] != "invalid_grant" {
		t.Fatalf("bad code %d %s", resp.StatusCode, body)
	}
	code = authorize(t, base, AtlassianAuthorizePath, url.Values{"scope": {"offline_access read:me"}, "audience": {AtlassianAudience}}).Get("code")
	_, body = post(t, base+AtlassianTokenPath, grantForm(code))
	m := cgDecodeJSON(t, body)
	if m["refresh_token"] == nil {
		t.Fatalf("offline_access: %s", body)
	}
	at := m["access_token"].(string)
	if resp, body := get(t, base+AtlassianMePath, "Authorization", "Bearer "+at); resp.StatusCode != 200 || cgDecodeJSON(t, body)["account_id"] != AtlassianAccountID(1001) {
		t.Fatalf("me %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, base+AtlassianResourcesPath, "Authorization", "Bearer "+at); resp.StatusCode != 200 || !strings.HasPrefix(body, "[{") {
		t.Fatalf("accessible resources %d %s", resp.StatusCode, body)
	}
}
