package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vendorMock is cmd/mockpalette running a vendor personality (providers/mockvendor).
type vendorMock struct {
	URL  string
	proc *process
	// client reaches the mock (nil: http.DefaultClient; a TLS mock needs its CA).
	client *http.Client
}

// startVendorMock starts cmd/mockpalette --personality <p> with the default client
// (backstage-client / backstage-secret).
func startVendorMock(t testing.TB, personality string, extraArgs ...string) *vendorMock {
	t.Helper()
	port := freePort(t)
	m := &vendorMock{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	args := append([]string{"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--personality", personality,
		"--client-id", "backstage-client", "--client-secret", "backstage-secret"}, extraArgs...)
	m.proc = startProcess(t, "mockpalette", nil, args...)
	waitHTTP(t, m.proc, m.URL+"/_mock/health")
	return m
}

// control calls one of the mock's /_mock/ endpoints (next, revoke, reset, ...).
func (m *vendorMock) control(t testing.TB, pathAndQuery string) {
	t.Helper()
	c := m.client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Get(m.URL + "/_mock/" + pathAndQuery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("mock %s: %d", pathAndQuery, resp.StatusCode)
	}
}

// usersFile writes a YAML users file for the mock into a temporary directory.
func usersFile(t testing.TB, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// oauthFlow drives one provider environment of the server like the frontend does.
type oauthFlow struct {
	t        *testing.T
	s        *server
	provider string
	env      string
	scope    string
	// hosts, when set, is how browsers reach a vendor with hard-coded hosts.
	hosts *vendorHosts
}

// browser is a new browser for f's server (through f.hosts when set).
func (f oauthFlow) browser() *browser {
	b := newBrowser(f.t, f.s.AppURL)
	if f.hosts != nil {
		f.hosts.browse(b)
	}
	return b
}

func (f oauthFlow) start(b *browser) (*http.Response, []byte) {
	return b.get(f.s.auth("/" + f.provider + "/start?scope=" + url.QueryEscape(f.scope) + "&origin=" + url.QueryEscape(f.s.AppURL) + "&flow=popup&env=" + f.env))
}

// popup runs the popup flow to the frame page and returns the posted message.
func (f oauthFlow) popup(b *browser) map[string]any {
	f.t.Helper()
	resp, body := f.start(b)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/api/auth/"+f.provider+"/handler/frame" {
		f.t.Fatalf("popup flow ended at %s with %d:\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	return popupMessage(f.t, body)
}

// signIn runs the popup flow and returns the response object, failing on an error.
func (f oauthFlow) signIn(b *browser) map[string]any {
	f.t.Helper()
	msg := f.popup(b)
	if msg["type"] != "authorization_response" || msg["error"] != nil {
		f.t.Fatalf("sign-in failed: %v", msg)
	}
	return msg["response"].(map[string]any)
}

// signInError runs the popup flow and returns the posted error message; the browser
// must hold no session afterwards.
func (f oauthFlow) signInError(b *browser) string {
	f.t.Helper()
	resp, body := f.start(b)
	m := frameError(f.t, body)
	if strings.Contains(string(body), "canary") || strings.Contains(string(body), "backstage-secret") {
		f.t.Errorf("the frame page shows an upstream body or the secret:\n%s", body)
	}
	if _, ok := b.cookie(f.s.auth("/"+f.provider+"/refresh"), f.provider+"-refresh-token"); ok {
		f.t.Errorf("a failed sign-in left a refresh cookie (%d)", resp.StatusCode)
	}
	return m
}

// callbackWithCode runs start and the IdP's authorize step, then calls the callback
// with the code replaced (a bad or replayed code).
func (f oauthFlow) callbackWithCode(b *browser, code string) string {
	f.t.Helper()
	stop := b.CheckRedirect
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/handler/frame") {
			return http.ErrUseLastResponse
		}
		return stop(req, via)
	}
	resp, body := f.start(b)
	b.CheckRedirect = stop
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		f.t.Fatalf("want a redirect to the callback with a code, got %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	q := loc.Query()
	q.Set("code", code)
	loc.RawQuery = q.Encode()
	_, body = b.get(loc.String())
	return frameError(f.t, body)
}

func (f oauthFlow) refresh(b *browser) (int, map[string]any, string) {
	f.t.Helper()
	resp, body := b.get(f.s.auth("/"+f.provider+"/refresh?optional&scope="+url.QueryEscape(f.scope)+"&env="+f.env), xrw, "XMLHttpRequest")
	var m map[string]any
	if resp.StatusCode == 200 {
		m = jsonBody(f.t, body)
	}
	return resp.StatusCode, m, string(body)
}

func (f oauthFlow) logout(b *browser) {
	f.t.Helper()
	resp, body := b.do(http.MethodPost, f.s.auth("/"+f.provider+"/logout?env="+f.env), xrw, "XMLHttpRequest")
	if resp.StatusCode != 200 {
		f.t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if _, ok := b.cookie(f.s.auth("/"+f.provider+"/refresh"), f.provider+"-refresh-token"); ok {
		f.t.Error("the refresh cookie survived logout")
	}
	if code, _, body := f.refresh(b); code != 401 || !strings.Contains(body, "Refresh failed; caused by InputError: Missing session cookie") {
		f.t.Errorf("refresh after logout: %d %s", code, body)
	}
}

// signInAlice signs alice in through b and checks her identity and profile (her
// email, name and this picture); it returns the answer.
func (f oauthFlow) signInAlice(b *browser, picture string) map[string]any {
	f.t.Helper()
	resp := f.signIn(b)
	identity(f.t, f.s, resp, "alice", "group:default/team-a")
	if p := resp["profile"].(map[string]any); p["email"] != "alice@example.com" || p["displayName"] != "Alice Smith" || p["picture"] != picture {
		f.t.Errorf("profile %v", p)
	}
	return resp
}

// signInAndOut signs in through a new browser and logs out.
func (f oauthFlow) signInAndOut() {
	f.t.Helper()
	b := f.browser()
	f.signIn(b)
	f.logout(b)
}

// identity checks a response's backstageIdentity: the token verifies with an
// independent JOSE library against the served JWKS, for user:default/<name>, with
// these ownership refs.
func identity(t *testing.T, s *server, resp map[string]any, name string, ownership ...string) string {
	t.Helper()
	token, _ := dig(resp, "backstageIdentity", "token").(string)
	if token == "" {
		t.Fatalf("no backstageIdentity.token in %v", resp)
	}
	typ, claims := verifyToken(t, token, fetchJWKS(t, s.auth("/.well-known/jwks.json")))
	if typ != "vnd.backstage.user" {
		t.Fatalf("typ = %q", typ)
	}
	ref := "user:default/" + name
	checkFreshToken(t, claims, s.URL+"/api/auth", ref)
	if claims.Ent != nil {
		t.Errorf("ent must be omitted by default, got %v", claims.Ent)
	}
	if got := dig(resp, "backstageIdentity", "identity", "userEntityRef"); got != ref {
		t.Errorf("userEntityRef = %v, want %s", got, ref)
	}
	var got []string
	for _, r := range dig(resp, "backstageIdentity", "identity", "ownershipEntityRefs").([]any) {
		got = append(got, r.(string))
	}
	if strings.Join(got, ",") != strings.Join(append([]string{ref}, ownership...), ",") {
		t.Errorf("ownershipEntityRefs = %v", got)
	}
	return token
}

// hasKey reports whether the JSON object at path has key.
func hasKey(m map[string]any, key string, path ...string) bool {
	obj, _ := dig(m, path...).(map[string]any)
	_, ok := obj[key]
	return ok
}

// expect signs in through f and checks the outcome: user:default/<user> (alice also
// owns group:default/team-a, as the test catalog says), or, when wantErr is set, a
// frame error containing it.
func (f oauthFlow) expect(b *browser, user, wantErr string) {
	f.t.Helper()
	if wantErr != "" {
		if got := f.signInError(b); !strings.Contains(got, wantErr) {
			f.t.Errorf("%s: %q, want %q", f.env, got, wantErr)
		}
		return
	}
	var own []string
	if user == "alice" {
		own = append(own, "group:default/team-a")
	}
	identity(f.t, f.s, f.signIn(b), user, own...)
}

// vendorError is one fault of the vendor mock (a /_mock/next query) and the frame
// error the sign-in must end with.
type vendorError struct{ next, want string }

// expectErrors arms each fault at m, signs in through f and checks the frame error
// (and, through signInError, that no session and no upstream body reached the browser);
// then it calls the callback with badCode and expects badCodeWant.
func (f oauthFlow) expectErrors(m *vendorMock, cases []vendorError, badCode, badCodeWant string) {
	f.t.Helper()
	for _, tc := range cases {
		m.control(f.t, "next?"+tc.next)
		if got := f.signInError(f.browser()); got != tc.want {
			f.t.Errorf("%s: %q, want %q", tc.next, got, tc.want)
		}
		m.control(f.t, "reset")
	}
	if got := f.callbackWithCode(f.browser(), badCode); got != badCodeWant {
		f.t.Errorf("bad code: %q, want %q", got, badCodeWant)
	}
}

// requests returns the paths of the mock's recorded requests ending with suffix.
func (m *vendorMock) requests(t testing.TB, suffix string) []string {
	t.Helper()
	c := m.client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Get(m.URL + "/_mock/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reqs []struct{ Path string }
	if err := json.NewDecoder(resp.Body).Decode(&reqs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r.Path)
		}
	}
	return out
}

// vendorEnv is one provider environment with the test client and a 1s timeout; extra
// is more keys, each as "\n        key: value".
func vendorEnv(name, resolvers, extra string) string {
	return fmt.Sprintf(`
      %s:
        clientId: backstage-client
        clientSecret: backstage-secret
        timeout: 1s%s
        signIn:
          resolvers: %s`, name, extra, resolvers)
}

// refreshAsAlice refreshes b's session (alice's), expects alice again and checks the
// refresh cookie: sealed again when the vendor rotates refresh tokens, else untouched
// (nothing to write). It returns the answer.
func (f oauthFlow) refreshAsAlice(b *browser, rotates bool) map[string]any {
	f.t.Helper()
	cookieURL, name := f.s.auth("/"+f.provider+"/refresh"), f.provider+"-refresh-token"
	before, _ := b.cookie(cookieURL, name)
	code, r, body := f.refresh(b)
	if code != 200 {
		f.t.Fatalf("refresh: %d %s", code, body)
	}
	identity(f.t, f.s, r, "alice", "group:default/team-a")
	after, _ := b.cookie(cookieURL, name)
	if rotates && after == before {
		f.t.Error("the rotated refresh token was not sealed again")
	}
	if !rotates && after != before {
		f.t.Error("the refresh cookie was rewritten although nothing changed")
	}
	return r
}

// expectRevoked ends alice's grant at m: b's next refresh must ask for a new sign-in,
// naming the vendor's error code.
func (f oauthFlow) expectRevoked(m *vendorMock, b *browser, code string) {
	f.t.Helper()
	m.control(f.t, "revoke?login=alice")
	if got, _, body := f.refresh(b); got != 401 || !strings.Contains(body, "please sign in again ("+code+")") {
		f.t.Errorf("refresh after revocation: %d %s", got, body)
	}
}

// resolverCase is a user signing in (the mock's login) through an environment and the
// User it must resolve to, or the error.
type resolverCase struct{ env, login, user, err string }

// expectResolvers signs each case's user in through flow(env).
func expectResolvers(mock *vendorMock, flow func(env string) oauthFlow, cases []resolverCase) {
	for _, tc := range cases {
		f := flow(tc.env)
		mock.control(f.t, "next?login="+tc.login)
		f.expect(f.browser(), tc.user, tc.err)
	}
}

// expectTunnelled checks that the server reached each host:port through v's proxy.
func (v *vendorHosts) expectTunnelled(t *testing.T, hostPorts ...string) {
	t.Helper()
	for _, hp := range hostPorts {
		if !v.proxy.tunnelled(hp) {
			t.Errorf("nothing went to %s", hp)
		}
	}
}
