package mockpalette

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func authorize(t *testing.T, issuer string, q url.Values) *http.Response {
	t.Helper()
	resp, err := noRedirect().Get(issuer + "/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func authParams(redirect string) url.Values {
	return url.Values{"client_id": {"backstage-client"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}, "nonce": {"n1"}}
}

func codeFrom(t *testing.T, resp *http.Response) string {
	t.Helper()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "s1" {
		t.Errorf("state not echoed: %s", loc)
	}
	return loc.Query().Get("code")
}

func tokenRequest(t *testing.T, issuer string, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth("backstage-client", "backstage-secret")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestTokenEndpoint(t *testing.T) {
	idp := New(Options{RedirectURIs: []string{"http://app/cb"}})
	issuer := idp.Start(t)
	post := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://app/cb"}, "client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}}
	}
	// client_secret_post
	st, body := tokenRequest(t, issuer, post(codeFrom(t, authorize(t, issuer, authParams("http://app/cb")))), false)
	if st != 200 || body["id_token"] == nil || !strings.HasPrefix(body["refresh_token"].(string), "eyJ") {
		t.Fatalf("post: %d %v", st, body)
	}
	// client_secret_basic
	code := codeFrom(t, authorize(t, issuer, authParams("http://app/cb")))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://app/cb"}}
	if st, body := tokenRequest(t, issuer, form, true); st != 200 {
		t.Fatalf("basic: %d %v", st, body)
	}
	// replay
	if st, body := tokenRequest(t, issuer, form, true); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("replay: %d %v", st, body)
	}
	// both methods at once
	code = codeFrom(t, authorize(t, issuer, authParams("http://app/cb")))
	if st, body := tokenRequest(t, issuer, post(code), true); st != 400 || body["error"] != "invalid_request" {
		t.Fatalf("two methods: %d %v", st, body)
	}
	// wrong secret
	f := post(codeFrom(t, authorize(t, issuer, authParams("http://app/cb"))))
	f.Set("client_secret", "nope")
	if st, body := tokenRequest(t, issuer, f, false); st != 401 || body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", st, body)
	}
	// redirect_uri bound to the code
	f = post(codeFrom(t, authorize(t, issuer, authParams("http://app/cb"))))
	f.Set("redirect_uri", "http://app/other")
	if st, _ := tokenRequest(t, issuer, f, false); st != 400 {
		t.Fatalf("redirect mismatch: %d", st)
	}
	// unregistered redirect_uri is refused at /auth without redirecting
	if resp := authorize(t, issuer, authParams("http://evil/cb")); resp.StatusCode != 400 {
		t.Fatalf("unregistered redirect: %d", resp.StatusCode)
	}
	// no refresh grant in Palette mode
	if st, body := tokenRequest(t, issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, true); st != 400 || body["error"] != "unsupported_grant_type" {
		t.Fatalf("refresh grant: %d %v", st, body)
	}
}

func TestMockNext(t *testing.T) {
	idp := New(Options{})
	issuer := idp.Start(t)
	base := strings.TrimSuffix(issuer, idp.IssuerPath())
	resp, err := http.Get(base + "/_mock/next?email=carol@example.com&given_name=Carol&family_name=King&hs256_refresh=0&bad_sig=1&nonce=zzz&id_token_ttl=-120&error=access_denied")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"ok":true`) {
		t.Fatalf("body %s", b)
	}
	idp.mu.Lock()
	f := *idp.fault
	idp.mu.Unlock()
	if f.User == nil || f.User.Subject != "u-carol" || f.User.DisplayName() != "Carol King" || !f.NoSessionToken || !f.BadSignature ||
		f.Nonce == nil || *f.Nonce != "zzz" || f.IDTokenTTL.Seconds() != -120 || f.AuthorizeError != "access_denied" {
		t.Fatalf("fault %+v", f)
	}
	// The authorize error is used once, then the fault is gone.
	r := authorize(t, issuer, authParams("http://app/cb"))
	if loc, _ := url.Parse(r.Header.Get("Location")); loc.Query().Get("error") != "access_denied" {
		t.Fatalf("authorize: %s", r.Header.Get("Location"))
	}
	if r := authorize(t, issuer, authParams("http://app/cb")); codeFrom(t, r) == "" {
		t.Fatal("fault not cleared after use")
	}
}

func TestLoginForm(t *testing.T) {
	idp := New(Options{LoginForm: true})
	issuer := idp.Start(t)
	resp, err := http.Get(issuer + "/auth?" + authParams("http://app/cb").Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `value="u-bob"`) || !strings.Contains(string(page), `name="state" value="s1"`) {
		t.Fatalf("form:\n%s", page)
	}
	form := authParams("http://app/cb")
	form.Set("login_user", "u-bob")
	r, err := noRedirect().PostForm(issuer+"/auth", form)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	code := codeFrom(t, r)
	st, body := tokenRequest(t, issuer, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://app/cb"}}, true)
	if st != 200 {
		t.Fatal(st)
	}
	at := body["access_token"].(string)
	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	ur, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ui map[string]any
	_ = json.NewDecoder(ur.Body).Decode(&ui)
	ur.Body.Close()
	if ui["email"] != "bob@example.com" {
		t.Fatalf("userinfo %v", ui)
	}
}

func TestRotateKeysReplacesJWKS(t *testing.T) {
	idp := New(Options{})
	old := idp.KeyID()
	idp.RotateKeys()
	keys := idp.jwks()["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["kid"] == old || idp.KeyID() == old {
		t.Fatalf("jwks after rotation: %v", keys)
	}
}

func TestGenericPersonality(t *testing.T) {
	idp := New(Options{Personality: GenericOIDC})
	issuer := idp.Start(t)
	if !strings.HasSuffix(issuer, "/realms/t1") {
		t.Fatalf("issuer %s", issuer)
	}
	base := strings.TrimSuffix(issuer, idp.IssuerPath())
	resp, err := http.Get(base + idp.Endpoints().Discovery)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	oc := issuer + "/protocol/openid-connect"
	if doc["issuer"] != issuer || doc["token_endpoint"] != oc+"/token" || doc["jwks_uri"] != oc+"/certs" || doc["revocation_endpoint"] != oc+"/revoke" {
		t.Fatalf("discovery %v", doc)
	}
	if g, _ := doc["grant_types_supported"].([]any); len(g) != 2 || g[1] != "refresh_token" {
		t.Fatalf("grant_types_supported %v", doc["grant_types_supported"])
	}

	token := func(scope string) map[string]any {
		t.Helper()
		q := authParams("http://app/cb")
		q.Set("scope", scope)
		r, err := noRedirect().Get(oc + "/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {codeFrom(t, r)}, "redirect_uri": {"http://app/cb"}}
		st, body := tokenRequest(t, oc, form, true)
		if st != 200 {
			t.Fatalf("token: %d %v", st, body)
		}
		return body
	}
	// Without offline_access: no refresh token at all (no Palette session token either).
	if body := token("openid email"); body["refresh_token"] != nil {
		t.Fatalf("refresh_token without offline_access: %v", body["refresh_token"])
	}
	body := token("openid email offline_access")
	rt, _ := body["refresh_token"].(string)
	if !strings.HasPrefix(rt, "mock-rt-") {
		t.Fatalf("refresh_token %q", rt)
	}
	claims := jwtClaims(t, body["id_token"].(string))
	if claims["at_hash"] != atHash(body["access_token"].(string)) || claims["azp"] != nil || claims["email_verified"] != true {
		t.Fatalf("ID token claims %v", claims)
	}
	// The refresh token rotates and is single-use.
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	st, next := tokenRequest(t, oc, refresh, true)
	if st != 200 || next["refresh_token"] == rt || next["refresh_token"] == nil {
		t.Fatalf("refresh: %d %v", st, next)
	}
	if st, again := tokenRequest(t, oc, refresh, true); st != 400 || again["error"] != "invalid_grant" {
		t.Fatalf("reused refresh token: %d %v", st, again)
	}
}

func TestPaletteIDTokenHasAzpAndNoAtHash(t *testing.T) {
	idp := New(Options{})
	issuer := idp.Start(t)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {codeFrom(t, authorize(t, issuer, authParams("http://app/cb")))}, "redirect_uri": {"http://app/cb"}}
	_, body := tokenRequest(t, issuer, form, true)
	claims := jwtClaims(t, body["id_token"].(string))
	if claims["azp"] != "backstage-client" || claims["at_hash"] != nil {
		t.Fatalf("claims %v", claims)
	}
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
