package github_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/github"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

const callback = "http://127.0.0.1:7007/api/auth/github/handler/frame"

func parse(t *testing.T, m map[string]any) (*github.Config, config.Problems) {
	return providertest.Parse[*github.Config](t, github.Module, m)
}

func build(t *testing.T, m map[string]any, deps providers.Deps) *github.Provider {
	return providertest.Build[*github.Provider](t, github.Module, m, deps)
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "additionalScopes": "repo, user:email"})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if cfg.AuthorizationURL != github.AuthorizationURL || cfg.TokenURL != github.TokenURL || cfg.UserProfileURL != github.UserProfileURL {
		t.Errorf("github.com endpoints: %+v", cfg)
	}
	p, _ := cfg.Build(providers.Deps{})
	if s := p.(providers.Scoper).Scopes(); !s.Persist || strings.Join(s.Required, " ") != "read:user" || strings.Join(s.Additional, " ") != "repo user:email" {
		t.Errorf("scopes %+v", s)
	}
	cfg, ps = parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "enterpriseInstanceUrl": "https://ghe.example.com/"})
	if ps.Err() != nil || cfg.AuthorizationURL != "https://ghe.example.com/login/oauth/authorize" || cfg.TokenURL != "https://ghe.example.com/login/oauth/access_token" || cfg.UserProfileURL != "https://ghe.example.com/api/v3/user" {
		t.Errorf("enterprise endpoints: %+v %v", cfg, ps)
	}
	for _, tc := range []struct {
		m    map[string]any
		path string
		says string
	}{
		{map[string]any{"clientSecret": "s"}, "clientId", "missing required config value"},
		{map[string]any{"clientId": "id"}, "clientSecret", "missing required config value"},
		{map[string]any{"clientId": "", "clientSecret": "s"}, "clientId", "must not be empty"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "enterpriseInstanceUrl": "ghe.example.com"}, "enterpriseInstanceUrl", "absolute http(s) URL"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "enterpriseInstanceUrl": "https://ghe.example.com/?x=1"}, "enterpriseInstanceUrl", "without a query"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "enterpriseInstanceUrl": "https://u:p@ghe.example.com"}, "enterpriseInstanceUrl", "user info"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "timeout": "0s"}, "timeout", "greater than zero"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "additionalScopes": 3}, "additionalScopes", "list of strings"},
	} {
		_, ps := parse(t, tc.m)
		found := false
		for _, p := range ps.Errors() {
			found = found || (p.Path == tc.path && strings.Contains(p.Message, tc.says))
		}
		if !found {
			t.Errorf("%v: want a problem at %s saying %q, got %v", tc.m, tc.path, tc.says, ps)
		}
	}
}

// The registry knows GitHub's resolvers, refuses the schema-only one, and warns about
// unknown keys.
func TestRegistryDecode(t *testing.T) {
	reg, err := providers.NewRegistry(github.Module)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(resolver string) map[string]config.Section {
		return map[string]config.Section{"github": config.SectionFromMap(map[string]any{"development": map[string]any{
			"clientId": "id", "clientSecret": "s", "enterpriseInstanceURL": "typo",
			"signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": resolver}}},
		}})}
	}
	for _, name := range []string{"usernameMatchingUserEntityName", "userIdMatchingUserEntityAnnotation", "emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"} {
		_, ps := reg.Decode(sec(name))
		if err := ps.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(ps.Warnings()) != 1 || !strings.Contains(ps.Warnings()[0].String(), "enterpriseInstanceURL") {
			t.Errorf("want a warning for the misspelled key, got %v", ps.Warnings())
		}
	}
	if _, ps := reg.Decode(sec("preferredUsernameMatchingUserEntityName")); ps.Err() == nil || !strings.Contains(ps.Err().Error(), "Sign-in resolver 'preferredUsernameMatchingUserEntityName' is not available") {
		t.Errorf("schema-only resolver: %v", ps)
	}
}

// flow runs Start, the mock's authorize step and Authenticate.
func flow(t *testing.T, p *github.Provider, client *http.Client) (providers.Result, error) {
	t.Helper()
	secrets := providers.FlowSecrets{Nonce: "n", PKCEVerifier: oauth2.GenerateVerifier()}
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: "read:user", State: "st", CallbackURL: callback, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), callback) {
		t.Fatalf("authorize redirect %q", resp.Header.Get("Location"))
	}
	return p.Authenticate(context.Background(), providers.CallbackRequest{Params: loc.Query(), CallbackURL: callback, Secrets: secrets})
}

// hostRewriter sends requests for github.com and api.github.com to the mock, so the
// github.com defaults are exercised without changing them.
type hostRewriter struct {
	to    *url.URL
	mu    sync.Mutex
	hosts []string
}

func (h *hostRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, r.Method+" "+r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	h.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = h.to.Scheme, h.to.Host
	return http.DefaultTransport.RoundTrip(r)
}

func TestGitHubDotCom(t *testing.T) {
	idp := mockvendor.New(mockvendor.Options{})
	base, _ := url.Parse(idp.Start(t))
	rw := &hostRewriter{to: base}
	client := &http.Client{Transport: rw}
	p := build(t, map[string]any{"clientId": "backstage-client", "clientSecret": "backstage-secret"}, providers.Deps{HTTPClient: client})

	start, _ := p.Start(context.Background(), providers.StartRequest{Scope: "read:user repo", State: "st", CallbackURL: callback,
		Secrets: providers.FlowSecrets{PKCEVerifier: strings.Repeat("v", 43)}})
	want := "https://github.com/login/oauth/authorize?response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fgithub%2Fhandler%2Fframe&scope=read%3Auser%20repo&code_challenge="
	if !strings.HasPrefix(start.URL, want) || !strings.HasSuffix(start.URL, "&code_challenge_method=S256&state=st&client_id=backstage-client") {
		t.Errorf("authorize URL %s", start.URL)
	}

	res, err := flow(t, p, client)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rw.hosts, "\n"); !strings.Contains(got, "GET https://github.com/login/oauth/authorize") ||
		!strings.Contains(got, "POST https://github.com/login/oauth/access_token") || !strings.Contains(got, "GET https://api.github.com/user") {
		t.Errorf("requests:\n%s", got)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://avatars.githubusercontent.com/u/1001?v=4", DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "gho_") || pi.IDToken != "" || pi.ExpiresInSeconds != 0 || pi.Scope != "read:user" {
		t.Errorf("providerInfo %+v", pi)
	}
	r := idp.RequestsTo(mockvendor.GitHubUserPath)[0]
	if r.Header.Get("Authorization") != "Bearer "+pi.AccessToken || r.Query.Get("access_token") != "" || r.Header.Get("User-Agent") == "" {
		t.Errorf("/user request: %v %v", r.Header, r.Query)
	}
	if fp := oauth2engine.FullProfileOf(resInfo(res)); fp.ID != "1001" || fp.Username != "alice" || github.NodeID(fp) != "MDQ6VXNlcjEwMDE=" || fp.ProfileURL != "https://github.com/alice" {
		t.Errorf("full profile %+v", fp)
	}
}

func enterprise(t *testing.T, opts mockvendor.Options) (*mockvendor.Server, *github.Provider) {
	t.Helper()
	idp := mockvendor.New(opts)
	base := idp.Start(t)
	return idp, build(t, map[string]any{"clientId": "backstage-client", "clientSecret": "backstage-secret", "enterpriseInstanceUrl": base + "/"}, providers.Deps{})
}

func TestProfileMapping(t *testing.T) {
	idp, p := enterprise(t, mockvendor.Options{})
	idp.SetFault(mockvendor.Fault{Login: "bob"})
	res, err := flow(t, p, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	// bob has no public name or email: displayName falls back to the login, no email
	// (never /user/emails, as in Backstage).
	if res.Profile != (providers.Profile{Picture: "https://avatars.githubusercontent.com/u/1002?v=4", DisplayName: "bob"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	if n := len(idp.RequestsTo("/user/emails")); n != 0 {
		t.Errorf("/user/emails called %d times", n)
	}
	if n := len(idp.RequestsTo(mockvendor.GitHubEnterpriseUser)); n != 1 {
		t.Errorf("enterprise /api/v3/user called %d times", n)
	}
}

func resInfo(res providers.Result) resolversInfo {
	return resolversInfo{Email: res.Profile.Email, Claims: res.Claims}
}

func TestRefreshOAuthApp(t *testing.T) {
	idp, p := enterprise(t, mockvendor.Options{})
	res, err := flow(t, p, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	s, err := oauth2engine.DecodeSession(res.Session)
	if err != nil || s.AccessToken != res.ProviderInfo.AccessToken || s.RefreshToken != "" {
		t.Fatalf("an OAuth app's session holds its access token: %+v %v", s, err)
	}
	before := len(idp.RequestsTo(mockvendor.GitHubTokenPath))
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "read:user"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ProviderInfo.AccessToken != res.ProviderInfo.AccessToken || r.ProviderInfo.ExpiresInSeconds != 0 || r.Session != nil || r.Profile.Email != "alice@example.com" {
		t.Errorf("refresh %+v", r)
	}
	if len(idp.RequestsTo(mockvendor.GitHubTokenPath)) != before || len(idp.RequestsTo(mockvendor.GitHubEnterpriseUser)) != 2 {
		t.Error("refresh must re-check /user and run no grant")
	}
	idp.RevokeUser("alice")
	_, err = p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
	if msg(err) != "Invalid access token" {
		t.Errorf("revoked at GitHub: %v", err)
	}
	idp.SetFault(mockvendor.Fault{ProfileStatus: 502})
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); msg(err) != "Failed to fetch user profile (HTTP 502)" {
		t.Errorf("GitHub down: %v", err)
	}
}

func TestRefreshGitHubApp(t *testing.T) {
	idp, p := enterprise(t, mockvendor.Options{ExpiringTokens: true})
	res, err := flow(t, p, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ProviderInfo.AccessToken, "ghu_") || res.ProviderInfo.ExpiresInSeconds != 28800 {
		t.Errorf("providerInfo %+v", res.ProviderInfo)
	}
	s, _ := oauth2engine.DecodeSession(res.Session)
	if !strings.HasPrefix(s.RefreshToken, "ghr_") || s.AccessToken != "" {
		t.Fatalf("session %+v", s)
	}
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "read:user"})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := oauth2engine.DecodeSession(r.Session)
	if r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || s2.RefreshToken == s.RefreshToken || !strings.HasPrefix(s2.RefreshToken, "ghr_") || r.ProviderInfo.ExpiresInSeconds != 28800 {
		t.Errorf("rotation: %+v %+v", r.ProviderInfo, s2)
	}
	// The old refresh token was used up: GitHub answers 200 error=bad_refresh_token.
	_, err = p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "bad_refresh_token") {
		t.Errorf("used refresh token: %v", err)
	}
	_ = idp
}

func TestSignInErrors(t *testing.T) {
	idp, p := enterprise(t, mockvendor.Options{})
	for _, tc := range []struct {
		fault mockvendor.Fault
		want  string
	}{
		{mockvendor.Fault{AuthorizeError: "access_denied"}, "Authentication rejected, The user has denied your application access."},
		{mockvendor.Fault{TokenStatus: 500}, "Authentication failed, Failed to obtain access token (HTTP 500)"},
		{mockvendor.Fault{ProfileStatus: 503}, "Authentication failed, Failed to fetch user profile (HTTP 503)"},
	} {
		idp.SetFault(tc.fault)
		_, err := flow(t, p, http.DefaultClient)
		if msg(err) != tc.want {
			t.Errorf("%+v: %v", tc.fault, err)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("leaks the upstream body: %v", err)
		}
	}
	// A replayed (already used) code: GitHub's 200 error=bad_verification_code.
	_, err := p.Authenticate(context.Background(), providers.CallbackRequest{Params: url.Values{"code": {"used"}}, CallbackURL: callback,
		Secrets: providers.FlowSecrets{PKCEVerifier: oauth2.GenerateVerifier()}})
	if msg(err) != "Authentication failed, Failed to obtain access token (bad_verification_code)" {
		t.Errorf("bad code: %v", err)
	}
}
