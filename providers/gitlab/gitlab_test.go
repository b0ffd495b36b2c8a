package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/gitlab"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func parse(t testing.TB, m map[string]any) (*gitlab.Config, config.Problems) {
	return providertest.Parse[*gitlab.Config](t, gitlab.Module, m)
}

// setup starts the GitLab mock as a self-managed instance and a provider (timeout 1s)
// whose audience is its base URL.
func setup(t testing.TB) (*mockvendor.Server, *gitlab.Provider, string) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.GitLab})
	base := idp.Start(t)
	p := providertest.Build[*gitlab.Provider](t, gitlab.Module, map[string]any{"clientId": "backstage-client", "clientSecret": "backstage-secret", "audience": base + "/", "timeout": "1s"}, providers.Deps{})
	return idp, p, base
}

func TestConfig(t *testing.T) {
	for _, audience := range []any{nil, ""} {
		m := map[string]any{"clientId": "id", "clientSecret": "s", "additionalScopes": "api, openid"}
		if audience != nil {
			m["audience"] = audience
		}
		cfg, ps := parse(t, m)
		if err := ps.Err(); err != nil {
			t.Fatal(err)
		}
		if cfg.AuthorizationURL != "https://gitlab.com/oauth/authorize" || cfg.TokenURL != "https://gitlab.com/oauth/token" || cfg.UserProfileURL != "https://gitlab.com/api/v4/user" {
			t.Errorf("audience %v: gitlab.com endpoints: %+v", audience, cfg)
		}
		p, _ := cfg.Build(providers.Deps{})
		if s := p.(providers.Scoper).Scopes(); s.Persist || strings.Join(s.Required, " ") != "read_user" || strings.Join(s.Additional, " ") != "api openid" {
			t.Errorf("scopes %+v", s)
		}
	}
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "audience": "https://git.example.com/gitlab/"})
	if ps.Err() != nil || cfg.AuthorizationURL != "https://git.example.com/gitlab/oauth/authorize" || cfg.UserProfileURL != "https://git.example.com/gitlab/api/v4/user" {
		t.Errorf("self-managed under a path: %+v %v", cfg, ps)
	}
	providertest.ConfigProblems(t, gitlab.Module, []providertest.ConfigProblem{
		{M: map[string]any{"clientSecret": "s"}, Path: "clientId", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id"}, Path: "clientSecret", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "audience": "gitlab.example.com"}, Path: "audience", Says: "absolute http(s) URL"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "audience": "https://u:p@gitlab.example.com"}, Path: "audience", Says: "user info"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "audience": "https://gitlab.example.com?x=1"}, Path: "audience", Says: "without a query"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "timeout": "0s"}, Path: "timeout", Says: "greater than zero"},
	})
}

func TestRegistryDecode(t *testing.T) {
	reg, err := providers.NewRegistry(gitlab.Module)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(resolver string) map[string]config.Section {
		return map[string]config.Section{"gitlab": config.SectionFromMap(map[string]any{"development": map[string]any{
			"clientId": "id", "clientSecret": "s",
			"signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": resolver, "dangerouslyAllowSignInWithoutUserInCatalog": true}}},
		}})}
	}
	for _, name := range []string{"usernameMatchingUserEntityName", "userIdMatchingUserEntityAnnotation", "emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"} {
		if _, ps := reg.Decode(sec(name)); ps.Err() != nil {
			t.Errorf("%s: %v", name, ps.Err())
		}
	}
	if _, ps := reg.Decode(sec("emailMatchingUserEntityAnnotation")); ps.Err() == nil || !strings.Contains(ps.Err().Error(), "Sign-in resolver 'emailMatchingUserEntityAnnotation' is not available") {
		t.Errorf("a resolver GitLab does not register: %v", ps)
	}
}

func TestAuthorizeURL(t *testing.T) {
	_, p, base := setup(t)
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: "read_user", State: "st", CallbackURL: providertest.CallbackURL,
		Secrets: providers.FlowSecrets{Nonce: "n-1", PKCEVerifier: strings.Repeat("v", 43)}})
	if err != nil {
		t.Fatal(err)
	}
	want := base + "/oauth/authorize?response_type=code&redirect_uri=" + url.QueryEscape(providertest.CallbackURL) + "&scope=read_user&code_challenge="
	if !strings.HasPrefix(start.URL, want) || !strings.HasSuffix(start.URL, "&code_challenge_method=S256&state=st&nonce=n-1&client_id=backstage-client") {
		t.Errorf("authorize URL\n%s\nwant prefix\n%s", start.URL, want)
	}
}

func TestSignInAndRefresh(t *testing.T) {
	idp, p, base := setup(t)
	res, err := providertest.VendorSignIn(t, p, http.DefaultClient, "read_user")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://avatars.githubusercontent.com/u/1001?v=4", DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "glpat-oauth-") || pi.ExpiresInSeconds != 3600 || pi.Scope != "read_user" || pi.IDToken != "" {
		t.Errorf("providerInfo %+v", pi)
	}
	fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res))
	if fp.ID != "1001" || fp.Username != "alice" || fp.ProfileURL != base+"/alice" {
		t.Errorf("full profile %+v", fp)
	}
	tr := idp.RequestsTo(mockvendor.GitLabTokenPath)[0]
	if tr.Form.Get("client_secret") != "backstage-secret" || tr.Form.Get("code_verifier") == "" || tr.Header.Get("Authorization") != "" {
		t.Errorf("token request: client_secret_post with the PKCE verifier: %v %v", tr.Form, tr.Header)
	}
	if ur := idp.RequestsTo(mockvendor.GitLabUserPath)[0]; ur.Header.Get("Authorization") != "Bearer "+pi.AccessToken || ur.Query.Get("access_token") != "" {
		t.Errorf("profile request %v %v", ur.Header, ur.Query)
	}
	s, err := oauth2engine.DecodeSession(res.Session)
	if err != nil || !strings.HasPrefix(s.RefreshToken, "glrt-") || s.Subject != "1001" {
		t.Fatalf("session %+v %v", s, err)
	}

	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "read_user"})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := oauth2engine.DecodeSession(r.Session)
	if r.ProviderInfo.AccessToken == pi.AccessToken || s2.RefreshToken == s.RefreshToken || r.Profile.Email != "alice@example.com" || r.ProviderInfo.ExpiresInSeconds != 3600 {
		t.Errorf("refresh (GitLab rotates refresh tokens): %+v %+v", r.ProviderInfo, s2)
	}
	if f := idp.RequestsTo(mockvendor.GitLabTokenPath)[1].Form; f.Get("grant_type") != "refresh_token" || f.Get("scope") != "read_user" || f.Get("client_secret") != "backstage-secret" {
		t.Errorf("refresh request %v", f)
	}
	// The old refresh token was used up.
	_, err = p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "read_user"})
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("used refresh token: %v", err)
	}
	// The user revokes the application at GitLab.
	idp.RevokeUser("alice")
	if _, err = p.Refresh(context.Background(), providers.RefreshRequest{Session: r.Session, Scope: "read_user"}); backstageerr.NameOf(err) != backstageerr.NameAuthentication {
		t.Errorf("revoked: %v", err)
	}
}

// With openid, GitLab's id_token is verified against the instance's keys (issuer =
// the base URL, our client as audience, our nonce) before its claims are used.
func TestIDToken(t *testing.T) {
	idp, p, base := setup(t)
	const scope = "read_user openid profile email"
	res, err := providertest.VendorSignIn(t, p, http.DefaultClient, scope)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(res.ProviderInfo.IDToken, ".") != 2 || res.Claims["iss"] != base || res.Claims["preferred_username"] != "alice" || res.Claims["sub"] != "1001" {
		t.Errorf("providerInfo %+v claims %v", res.ProviderInfo, res.Claims)
	}
	if n := len(idp.RequestsTo(mockvendor.GitLabKeysPath)); n != 1 {
		t.Errorf("keys fetched %d times", n)
	}
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: scope})
	if err != nil || r.ProviderInfo.IDToken == "" || r.ProviderInfo.IDToken == res.ProviderInfo.IDToken {
		t.Errorf("refresh: %+v %v", r.ProviderInfo, err)
	}
	for _, tc := range []struct {
		f    mockvendor.Fault
		want string
	}{
		{mockvendor.Fault{BadSignature: true}, "Authentication rejected, the ID token signature could not be verified"},
		{mockvendor.Fault{IDTokenIssuer: "https://gitlab.evil.example"}, "Authentication rejected, the ID token issuer"},
		{mockvendor.Fault{IDTokenAudience: "another-client"}, "Authentication rejected, the ID token audience does not include this client"},
	} {
		idp.SetFault(tc.f)
		if _, err := providertest.VendorSignIn(t, p, http.DefaultClient, scope); err == nil || !strings.HasPrefix(providertest.Message(err), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
		idp.ClearFault()
	}
	// Another sign-in's nonce.
	secrets := providertest.NewSecrets()
	params, err := providertest.VendorAuthorize(t, p, http.DefaultClient, scope, secrets)
	if err != nil {
		t.Fatal(err)
	}
	other := providertest.NewSecrets()
	other.PKCEVerifier = secrets.PKCEVerifier
	_, err = p.Authenticate(context.Background(), providers.CallbackRequest{Params: params, CallbackURL: providertest.CallbackURL, Secrets: other})
	if err == nil || !strings.Contains(providertest.Message(err), "nonce") {
		t.Errorf("nonce mismatch: %v", err)
	}
	// Without openid there is no id_token and nothing is fetched from the keys.
	if res, err := providertest.VendorSignIn(t, p, http.DefaultClient, "read_user"); err != nil || res.ProviderInfo.IDToken != "" {
		t.Errorf("read_user only: %+v %v", res.ProviderInfo, err)
	}
}

func TestSignInErrors(t *testing.T) {
	idp, p, _ := setup(t)
	providertest.VendorErrorsNoLeak(t, idp, p, http.DefaultClient, "read_user", []providertest.VendorError{
		{Fault: mockvendor.Fault{AuthorizeError: "access_denied"}, Want: "Authentication rejected, The resource owner or authorization server denied the request."},
		{Fault: mockvendor.Fault{TokenStatus: 502}, Want: "Authentication failed, Failed to obtain access token (HTTP 502)"},
		{Fault: mockvendor.Fault{TokenDelay: 3e9}, Want: "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{Fault: mockvendor.Fault{ProfileStatus: 500}, Want: "Authentication failed, Failed to fetch user profile (HTTP 500)"},
	})
	providertest.BadCode(t, p, "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
}

func user(name string, annotations map[string]string) resolvers.Entity {
	return providertest.User(name, annotations)
}

func signedIn(raw map[string]any) resolvers.SignInInfo {
	return providertest.EngineSignIn(gitlab.ProfileFromUser(raw), nil)
}

func TestResolvers(t *testing.T) {
	ctx := context.Background()
	cat := providertest.Catalog{
		user("alice", map[string]string{"gitlab.com/user-id": "1001"}),
		user("carol", map[string]string{"git.example.com/user-id": "1003"}),
	}
	byID := map[string]any{"resolver": "userIdMatchingUserEntityAnnotation"}
	byName := map[string]any{"resolver": "usernameMatchingUserEntityName"}
	chain := func(entries ...map[string]any) resolvers.Resolver {
		return providertest.Chain(t, gitlab.Module, cat, entries...)
	}
	alice := map[string]any{"id": int64(1001), "username": "zed", "web_url": "https://gitlab.com/zed"}
	if id, err := chain(byID).Resolve(ctx, signedIn(alice)); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Errorf("by id: %+v %v", id, err)
	}
	// The annotation's host is the profile URL's, lower-cased and without the port.
	carol := map[string]any{"id": int64(1003), "username": "carol", "web_url": "https://GIT.example.com:8443/carol"}
	if id, err := chain(byID).Resolve(ctx, signedIn(carol)); err != nil || id.UserEntityRef != "user:default/carol" {
		t.Errorf("self-managed host: %+v %v", id, err)
	}
	// The same id on another instance is another user.
	other := map[string]any{"id": int64(1001), "username": "nobody", "web_url": "https://git.example.com/nobody"}
	_, err := chain(byID).Resolve(ctx, signedIn(other))
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "looked up metadata.annotations.git.example.com/user-id=1001") {
		t.Errorf("other instance: %v", err)
	}
	// Chained: not found by id, then found by name.
	if id, err := chain(byID, byName).Resolve(ctx, signedIn(map[string]any{"id": int64(7), "username": "Carol", "web_url": "https://gitlab.com/Carol"})); err != nil || id.UserEntityRef != "user:default/carol" {
		t.Errorf("chained: %+v %v", id, err)
	}
	// Fallback.
	id, err := chain(map[string]any{"resolver": "usernameMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, signedIn(map[string]any{"id": int64(9), "username": "Newbie"}))
	if err != nil || id.UserEntityRef != "user:default/newbie" {
		t.Errorf("fallback: %+v %v", id, err)
	}
	for _, tc := range []struct {
		raw  map[string]any
		res  map[string]any
		want string
	}{
		{map[string]any{"username": "a", "web_url": "https://gitlab.com/a"}, byID, gitlab.MsgNoUserID},
		{map[string]any{"id": int64(1), "username": "a"}, byID, gitlab.MsgNoProfileURL},
		{map[string]any{"id": int64(1), "username": "a", "web_url": "not a url"}, byID, gitlab.MsgBadProfileURL},
		{map[string]any{"id": int64(1)}, byName, gitlab.MsgNoUsername},
	} {
		// A missing field is an Error that stops the chain, as in Backstage.
		_, err := chain(tc.res, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, signedIn(tc.raw))
		if providertest.Message(err) != tc.want || backstageerr.NameOf(err) != backstageerr.NameError {
			t.Errorf("%v: %v, want %q", tc.raw, err, tc.want)
		}
	}
}

func TestProfileFromUser(t *testing.T) {
	fp := gitlab.ProfileFromUser(map[string]any{"id": int64(5), "username": "bob", "name": "", "email": nil, "avatar_url": "https://x/a.png"})
	p := providertest.EngineSignIn(fp, nil)
	if fp.ID != "5" || len(fp.Emails) != 0 || p.Email != "" {
		t.Errorf("%+v %+v", fp, p)
	}
	e, _ := oauth2engine.New(oauth2engine.Config{ClientID: "c", AuthorizationURL: "https://a/x", TokenURL: "https://a/t"}, oauth2engine.Hooks{}, providers.Deps{})
	if got := e.Result(&oauth2engine.Token{AccessToken: "x"}, fp, nil).Profile; got != (providers.Profile{Picture: "https://x/a.png", DisplayName: "bob"}) {
		t.Errorf("profile %+v", got)
	}
}
