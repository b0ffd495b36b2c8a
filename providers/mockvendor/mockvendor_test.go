package mockvendor

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

const cb = "http://127.0.0.1:7007/api/auth/github/handler/frame"

// authorize runs the authorize endpoint and returns the redirect's query.
func authorize(t *testing.T, base, path string, extra url.Values) url.Values {
	t.Helper()
	q := url.Values{"client_id": {"backstage-client"}, "redirect_uri": {cb}, "response_type": {"code"}, "scope": {"read:user user:email"}, "state": {"st"}}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := noRedirect.Get(base + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), cb+"?") || loc.Query().Get("state") != "st" {
		t.Fatalf("redirect %s", loc)
	}
	return loc.Query()
}

// call sends a request (a form body when form is not nil) and returns the answer.
func call(t *testing.T, method, u string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func post(t *testing.T, u string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	return call(t, http.MethodPost, u, form, header...)
}

func get(t *testing.T, u string, header ...string) (*http.Response, string) {
	t.Helper()
	return call(t, http.MethodGet, u, nil, header...)
}

func codeForm(code string) url.Values {
	return url.Values{"client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}, "code": {code}, "redirect_uri": {cb}}
}

func TestGitHubTokenFormats(t *testing.T) {
	s := New(Options{})
	base := s.Start(t)
	tok := base + GitHubTokenPath

	// No Accept header (passport): form-encoded, every value a string.
	resp, body := post(t, tok, codeForm(authorize(t, base, GitHubAuthorizePath, nil).Get("code")))
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.Fatalf("content type %q", ct)
	}
	v, _ := url.ParseQuery(body)
	if !strings.HasPrefix(v.Get("access_token"), "gho_") || len(v.Get("access_token")) != 40 || v.Get("scope") != "read:user,user:email" || v.Get("token_type") != "bearer" || v.Has("refresh_token") || v.Has("expires_in") {
		t.Fatalf("form answer %q", body)
	}
	at := v.Get("access_token")

	// Accept: application/json: JSON.
	resp, body = post(t, tok, codeForm(authorize(t, base, GitHubAuthorizePath, nil).Get("code")), "Accept", "application/json")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil || !strings.HasPrefix(m["access_token"].(string), "gho_") {
		t.Fatalf("json answer %d %q", resp.StatusCode, body)
	}

	// A bad code: status 200 with an error, in both formats.
	resp, body = post(t, tok, codeForm("nope"))
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.") {
		t.Fatalf("bad code: %d %q", resp.StatusCode, body)
	}
	resp, body = post(t, tok, codeForm("nope"), "Accept", "application/json")
	if resp.StatusCode != 200 || !strings.Contains(body, `"error":"bad_verification_code"`) {
		t.Fatalf("bad code (json): %d %q", resp.StatusCode, body)
	}
	// A code is single-use; wrong secret; redirect_uri mismatch.
	code := authorize(t, base, GitHubAuthorizePath, nil).Get("code")
	f := codeForm(code)
	f.Set("client_secret", "wrong")
	if _, body = post(t, tok, f); !strings.HasPrefix(body, "error=incorrect_client_credentials") {
		t.Fatalf("wrong secret: %q", body)
	}
	f = codeForm(authorize(t, base, GitHubAuthorizePath, nil).Get("code"))
	f.Set("redirect_uri", "http://elsewhere/cb")
	if _, body = post(t, tok, f); !strings.HasPrefix(body, "error=redirect_uri_mismatch") {
		t.Fatalf("redirect mismatch: %q", body)
	}

	// /user with Bearer and with GitHub's "token" scheme; the Enterprise path.
	for _, h := range []string{"Bearer " + at, "token " + at} {
		resp, body = get(t, base+GitHubUserPath, "Authorization", h, "User-Agent", "test")
		if resp.StatusCode != 200 || !strings.Contains(body, `"login":"alice","id":1001,"node_id":"MDQ6VXNlcjEwMDE="`) || !strings.Contains(body, `"html_url":"https://github.com/alice"`) {
			t.Fatalf("/user: %d %s", resp.StatusCode, body)
		}
	}
	if resp.Header.Get("X-OAuth-Scopes") != "read:user, user:email" {
		t.Errorf("X-OAuth-Scopes %q", resp.Header.Get("X-OAuth-Scopes"))
	}
	if _, body = get(t, base+GitHubEnterpriseUser, "Authorization", "Bearer "+at, "User-Agent", "t"); !strings.Contains(body, `"html_url":"`+base+`/alice"`) {
		t.Errorf("enterprise /user: %s", body)
	}
	if resp, _ = get(t, base+GitHubUserPath, "Authorization", "Bearer "+at, "User-Agent", ""); resp.StatusCode != 403 {
		t.Errorf("no User-Agent: %d", resp.StatusCode)
	}
	if resp, body = get(t, base+GitHubUserPath, "Authorization", "Bearer gho_nope", "User-Agent", "t"); resp.StatusCode != 401 || !strings.Contains(body, "Bad credentials") {
		t.Errorf("bad token: %d %s", resp.StatusCode, body)
	}
	// The user revokes the app: the token stops working.
	if n := s.RevokeUser("alice"); n < 2 {
		t.Errorf("revoked %d tokens", n)
	}
	if resp, _ = get(t, base+GitHubUserPath, "Authorization", "Bearer "+at, "User-Agent", "t"); resp.StatusCode != 401 {
		t.Errorf("revoked token: %d", resp.StatusCode)
	}
}

func TestGitHubPKCEAndExpiringTokens(t *testing.T) {
	s := New(Options{ExpiringTokens: true})
	base := s.Start(t)
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	ch := base64.RawURLEncoding.EncodeToString(sum[:])
	pk := url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}}

	f := codeForm(authorize(t, base, GitHubAuthorizePath, pk).Get("code"))
	if _, body := post(t, base+GitHubTokenPath, f); !strings.Contains(body, "error=bad_verification_code") {
		t.Fatalf("missing verifier accepted: %q", body)
	}
	f = codeForm(authorize(t, base, GitHubAuthorizePath, pk).Get("code"))
	f.Set("code_verifier", verifier)
	_, body := post(t, base+GitHubTokenPath, f, "Accept", "application/json")
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	if !strings.HasPrefix(m["access_token"].(string), "ghu_") || !strings.HasPrefix(m["refresh_token"].(string), "ghr_") || m["expires_in"] != float64(28800) {
		t.Fatalf("GitHub App answer %s", body)
	}
	rt := m["refresh_token"].(string)
	rf := url.Values{"client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
	_, body = post(t, base+GitHubTokenPath, rf)
	v, _ := url.ParseQuery(body)
	if !strings.HasPrefix(v.Get("refresh_token"), "ghr_") || v.Get("refresh_token") == rt || v.Get("expires_in") != "28800" {
		t.Fatalf("refresh: %q", body)
	}
	if _, body = post(t, base+GitHubTokenPath, rf); !strings.HasPrefix(body, "error=bad_refresh_token") {
		t.Fatalf("a used refresh token worked again: %q", body)
	}
	if q := authorize(t, base, GitHubAuthorizePath, url.Values{"code_challenge": {"short"}, "code_challenge_method": {"plain"}}); q.Get("error") != "invalid_request" {
		t.Errorf("plain PKCE: %v", q)
	}
}

func TestFaults(t *testing.T) {
	s := New(Options{})
	base := s.Start(t)
	if resp, body := get(t, base+"/_mock/next?error=access_denied"); resp.StatusCode != 200 {
		t.Fatal(body)
	}
	q := authorize(t, base, GitHubAuthorizePath, nil)
	if q.Get("error") != "access_denied" || q.Get("error_description") != "The user has denied your application access." || q.Get("code") != "" {
		t.Fatalf("denied: %v", q)
	}
	if q := authorize(t, base, GitHubAuthorizePath, nil); q.Get("code") == "" {
		t.Fatal("the fault outlived one use")
	}
	get(t, base+"/_mock/next?token_status=502")
	resp, body := post(t, base+GitHubTokenPath, codeForm(authorize(t, base, GitHubAuthorizePath, nil).Get("code")))
	if resp.StatusCode != 502 || !strings.Contains(body, "canary") {
		t.Fatalf("token 5xx: %d %s", resp.StatusCode, body)
	}
	get(t, base+"/_mock/next?token_delay_ms=300")
	start := time.Now()
	post(t, base+GitHubTokenPath, codeForm("x"))
	if time.Since(start) < 300*time.Millisecond {
		t.Error("token delay not applied")
	}
	_, body = post(t, base+GitHubTokenPath, codeForm(authorize(t, base, GitHubAuthorizePath, nil).Get("code")))
	at, _ := url.ParseQuery(body)
	get(t, base+"/_mock/next?profile_status=500")
	if resp, _ := get(t, base+GitHubUserPath, "Authorization", "Bearer "+at.Get("access_token"), "User-Agent", "t"); resp.StatusCode != 500 {
		t.Errorf("profile 5xx: %d", resp.StatusCode)
	}
	get(t, base+"/_mock/next?login=bob")
	_, body = post(t, base+GitHubTokenPath, codeForm(authorize(t, base, GitHubAuthorizePath, nil).Get("code")))
	at, _ = url.ParseQuery(body)
	if _, body = get(t, base+GitHubUserPath, "Authorization", "Bearer "+at.Get("access_token"), "User-Agent", "t"); !strings.Contains(body, `"login":"bob"`) || !strings.Contains(body, `"name":null`) || !strings.Contains(body, `"email":null`) {
		t.Errorf("login fault: %s", body)
	}
	if resp, _ := get(t, base+"/_mock/next?login=nobody"); resp.StatusCode != 400 {
		t.Error("unknown login accepted")
	}
	get(t, base+"/_mock/down?on=1")
	if resp, _ := get(t, base+GitHubUserPath); resp.StatusCode != 503 {
		t.Errorf("outage: %d", resp.StatusCode)
	}
	get(t, base+"/_mock/reset")
	if resp, _ := get(t, base+GitHubUserPath, "User-Agent", "t"); resp.StatusCode != 401 {
		t.Errorf("after reset: %d", resp.StatusCode)
	}
	if n := len(s.RequestsTo(GitHubTokenPath)); n < 4 {
		t.Errorf("recorded %d token requests", n)
	}
}

func TestLoginForm(t *testing.T) {
	s := New(Options{LoginForm: true})
	base := s.Start(t)
	q := url.Values{"client_id": {"backstage-client"}, "redirect_uri": {cb}, "response_type": {"code"}, "state": {"st"}}
	resp, body := get(t, base+GitHubAuthorizePath+"?"+q.Encode())
	if resp.StatusCode != 200 || !strings.Contains(body, `value="bob"`) {
		t.Fatalf("form: %d %s", resp.StatusCode, body)
	}
	pick := func(extra url.Values) url.Values {
		f := url.Values{}
		for k, v := range q {
			f[k] = v
		}
		for k, v := range extra {
			f[k] = v
		}
		req, _ := http.NewRequest(http.MethodPost, base+GitHubAuthorizePath, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query()
	}
	if got := pick(url.Values{"login_user": {"bob"}}); got.Get("code") == "" {
		t.Fatalf("pick bob: %v", got)
	}
	if got := pick(url.Values{"deny": {"1"}}); got.Get("error") != "access_denied" {
		t.Fatalf("cancel: %v", got)
	}
}

func TestOAuth2(t *testing.T) {
	s := New(Options{Personality: OAuth2})
	base := s.Start(t)
	code := authorize(t, base, OAuth2AuthorizePath, url.Values{"scope": {"read write"}}).Get("code")
	f := codeForm(code)
	f.Set("grant_type", "authorization_code")
	resp, body := post(t, base+OAuth2TokenPath, f, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("backstage-client:backstage-secret")))
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != 200 || m["expires_in"] != float64(3600) || m["scope"] != "read write" {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}, "scope": {"read"}}
	resp, body = post(t, base+OAuth2TokenPath, rf)
	if resp.StatusCode != 200 || !strings.Contains(body, `"scope":"read"`) {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	if resp, body = post(t, base+OAuth2TokenPath, rf); resp.StatusCode != 400 || !strings.Contains(body, "invalid_grant") {
		t.Fatalf("reused refresh token: %d %s", resp.StatusCode, body)
	}
	f = codeForm(authorize(t, base, OAuth2AuthorizePath, nil).Get("code"))
	f.Set("grant_type", "authorization_code")
	if resp, _ = post(t, base+OAuth2TokenPath, f, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("backstage-client:wrong"))); resp.StatusCode != 401 {
		t.Fatalf("disagreeing Basic and body credentials: %d", resp.StatusCode)
	}
	if resp, _ = post(t, base+OAuth2TokenPath, codeForm("x")); resp.StatusCode != 400 {
		t.Fatalf("no grant_type: %d", resp.StatusCode)
	}
}

func TestParsePersonality(t *testing.T) {
	for _, n := range Personalities() {
		p, ok := ParsePersonality(n)
		if !ok || p.String() != n {
			t.Errorf("%s: %v %v", n, p, ok)
		}
	}
	if _, ok := ParsePersonality("no-such-vendor"); ok {
		t.Error("unknown personality parsed")
	}
}
