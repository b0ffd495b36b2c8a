package atlassian_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/atlassian"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

const scope = "offline_access read:me read:jira-work read:jira-user"

var users = []mockvendor.User{
	{ID: 1001, Login: "alice", Name: "Alice Smith", Email: "alice@example.com"},
	{ID: 1002, Login: "bob"},
	{ID: 1003, Login: "carol", Name: "Carol", Email: "carol@example.com", EmailVerified: providertest.False()},
}

func parse(t testing.TB, m map[string]any) (*atlassian.Config, config.Problems) {
	return providertest.Parse[*atlassian.Config](t, atlassian.Module, m)
}

func setup(t testing.TB) (*mockvendor.Server, *atlassian.Provider, *http.Client) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.Atlassian, Users: users})
	client := providertest.VendorHosts(t, idp.Handler())
	p := providertest.Build[*atlassian.Provider](t, atlassian.Module, providertest.TestClient(nil), providers.Deps{HTTPClient: client})
	return idp, p, client
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "additionalScopes": "read:confluence-user"})
	if err := ps.Err(); err != nil || len(ps) != 0 {
		t.Fatal(ps)
	}
	p, _ := cfg.Build(providers.Deps{})
	if s := p.(providers.Scoper).Scopes(); s.Persist || strings.Join(s.Required, " ") != scope || strings.Join(s.Additional, " ") != "read:confluence-user" {
		t.Errorf("scopes %+v", s)
	}
	for _, key := range []string{"scope", "scopes"} {
		_, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", key: "read:me"})
		if !providertest.HasProblem(ps, key, atlassian.MsgScopeRemoved) || len(ps.Warnings()) != 0 {
			t.Errorf("%s: %v", key, ps)
		}
	}
	_, ps = parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "audience": "https://example.atlassian.net"})
	if ps.Err() != nil || len(ps.Warnings()) != 1 || !strings.Contains(ps.Warnings()[0].String(), "audience") {
		t.Errorf("audience: %v", ps)
	}
	if _, ps := parse(t, map[string]any{"clientSecret": "s"}); !providertest.HasProblem(ps, "clientId", "missing required config value") {
		t.Errorf("no clientId: %v", ps)
	}
}

func TestSignInAndRefresh(t *testing.T) {
	idp, p, client := setup(t)
	start, _ := p.Start(context.Background(), providers.StartRequest{Scope: scope, State: "st", CallbackURL: providertest.CallbackURL, Secrets: providertest.NewSecrets()})
	want := "https://auth.atlassian.com/authorize?audience=api.atlassian.com&prompt=consent&response_type=code&redirect_uri=" + url.QueryEscape(providertest.CallbackURL) +
		"&scope=offline_access%20read%3Ame%20read%3Ajira-work%20read%3Ajira-user&state=st&client_id=backstage-client"
	if start.URL != want {
		t.Errorf("authorize URL\n%s\nwant\n%s", start.URL, want)
	}
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://avatar-management.services.atlassian.com/alice/128", DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "eyJatl.") || pi.Scope != scope || pi.ExpiresInSeconds != 3600 || pi.IDToken != "" {
		t.Errorf("providerInfo %+v", pi)
	}
	fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res))
	if fp.ID != mockvendor.AtlassianAccountID(1001) || fp.Username != "" {
		t.Errorf("full profile %+v", fp)
	}
	sites, _ := res.Claims[atlassian.ResourcesClaim].([]any)
	if len(sites) != 1 || sites[0].(map[string]any)["url"] != "https://example.atlassian.net" {
		t.Errorf("accessible resources claim %v", res.Claims[atlassian.ResourcesClaim])
	}
	for _, path := range []string{mockvendor.AtlassianMePath, mockvendor.AtlassianResourcesPath} {
		if r := idp.RequestsTo(path); len(r) != 1 || r[0].Header.Get("Authorization") != "Bearer "+pi.AccessToken {
			t.Errorf("%s: %v", path, r)
		}
	}
	if tr := idp.RequestsTo(mockvendor.AtlassianTokenPath)[0]; tr.Form.Get("client_secret") != "backstage-secret" || tr.Header.Get("Authorization") != "" {
		t.Errorf("token request %v %v", tr.Form, tr.Header)
	}
	s, _ := oauth2engine.DecodeSession(res.Session)
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := oauth2engine.DecodeSession(r.Session)
	if r.ProviderInfo.AccessToken == pi.AccessToken || s2.RefreshToken == s.RefreshToken || r.Profile.Email != "alice@example.com" {
		t.Errorf("refresh (rotation): %+v %+v", r.ProviderInfo, s2)
	}
	if n := len(idp.RequestsTo(mockvendor.AtlassianResourcesPath)); n != 2 {
		t.Errorf("accessible-resources asked %d times, want sign-in and refresh", n)
	}
	// The rotated-out refresh token: Atlassian's 403 invalid_grant.
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: scope}); backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("used refresh token: %v", err)
	}
}

func TestEmailVerified(t *testing.T) {
	idp, p, client := setup(t)
	idp.SetFault(mockvendor.Fault{Login: "carol"})
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil || res.Profile.Email != "" || res.Profile.DisplayName != "Carol" {
		t.Errorf("an unverified email is dropped: %+v %v", res.Profile, err)
	}
}

func TestSignInErrors(t *testing.T) {
	idp, p, client := setup(t)
	providertest.VendorErrorsNoLeak(t, idp, p, client, scope, []providertest.VendorError{
		{Fault: mockvendor.Fault{AuthorizeError: "access_denied"}, Want: "Authentication rejected, access_denied"},
		{Fault: mockvendor.Fault{TokenStatus: 500}, Want: "Authentication failed, Failed to obtain access token (HTTP 500 server_error)"},
		{Fault: mockvendor.Fault{TokenDelay: 3e9}, Want: "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{Fault: mockvendor.Fault{ProfileStatus: 503}, Want: "Authentication failed, Failed to fetch user profile (HTTP 503)"},
	})
	providertest.BadCode(t, p, "Authentication failed, Failed to obtain access token (HTTP 403 invalid_grant)")
}

func TestResolvers(t *testing.T) {
	ctx := context.Background()
	cat := providertest.Catalog{providertest.User("alice", nil)}
	cat[0].Spec = map[string]any{"profile": map[string]any{"email": "alice@example.com"}}
	info := providertest.EngineSignIn(atlassian.ProfileFromMe(map[string]any{"account_id": "557058:x", "name": "Alice", "email": "alice@example.com", "nickname": "alice"}), nil)
	// As in Backstage: there is no username, an Error that stops the chain.
	r := providertest.Chain(t, atlassian.Module, cat, map[string]any{"resolver": "usernameMatchingUserEntityName"}, map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"})
	if _, err := r.Resolve(ctx, info); providertest.Message(err) != atlassian.MsgNoUsername || backstageerr.NameOf(err) != backstageerr.NameError {
		t.Errorf("username: %v", err)
	}
	r = providertest.Chain(t, atlassian.Module, cat, map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"})
	if id, err := r.Resolve(ctx, info); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Errorf("email: %+v %v", id, err)
	}
}
