package auth0_test

import (
	"context"
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/auth0"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

const (
	scope  = "openid profile email offline_access"
	domain = "acme.us.auth0.com"
)

var users = []mockvendor.User{
	{ID: 1001, Login: "alice", Name: "Alice Smith", GivenName: "Alice", FamilyName: "Smith", Email: "alice@example.com"},
	{ID: 1002, Login: "bob"},
	{ID: 1003, Login: "carol", Name: "Carol", Email: "carol@example.com", EmailVerified: providertest.False()},
}

func parse(t testing.TB, m map[string]any) (*auth0.Config, config.Problems) {
	return providertest.Parse[*auth0.Config](t, auth0.Module, m)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// setup starts the Auth0 mock as https://acme.us.auth0.com and a provider (timeout 1s).
func setup(t testing.TB, extra map[string]any) (*mockvendor.Server, *auth0.Provider, *http.Client, *clock) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.Auth0, Users: users})
	client := providertest.VendorHosts(t, idp.Handler())
	m := providertest.TestClient(map[string]any{"domain": domain})
	maps.Copy(m, extra)
	c := &clock{time.Now()}
	p := providertest.Build[*auth0.Provider](t, auth0.Module, m, providers.Deps{HTTPClient: client, Now: c.now})
	return idp, p, client, c
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "domain": domain, "additionalScopes": "openid email"})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if cfg.Prompt != "consent" || cfg.FederatedLogout {
		t.Errorf("defaults %+v", cfg)
	}
	p, err := cfg.Build(providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.(providers.Scoper).Scopes(); s.Persist || len(s.Required) != 0 || strings.Join(s.Additional, " ") != "openid email" {
		t.Errorf("scopes %+v", s)
	}
	providertest.ConfigProblems(t, auth0.Module, []providertest.ConfigProblem{
		{M: map[string]any{"clientId": "id", "clientSecret": "s"}, Path: "domain", Says: "missing required config value"},
		{M: map[string]any{"clientSecret": "s", "domain": domain}, Path: "clientId", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "domain": "https://" + domain}, Path: "domain", Says: "without a scheme"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "domain": domain + "/x"}, Path: "domain", Says: "without a scheme or path"},
	})
	// Only the common resolvers, as in Backstage.
	providertest.RegistryResolvers(t, auth0.Module, map[string]any{"clientId": "id", "clientSecret": "s", "domain": domain},
		[]string{"emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"},
		[]string{"emailMatchingUserEntityAnnotation", "usernameMatchingUserEntityName"})
}

func TestAuthorizeURL(t *testing.T) {
	for _, tc := range []struct {
		extra map[string]any
		mid   string
	}{
		{nil, "&accessType=offline&prompt=consent&nonce=n-1&"},
		{map[string]any{"prompt": "auto", "audience": "https://api.example.com", "connection": "github", "connectionScope": "read:org", "organization": "org_1"},
			"&accessType=offline&connection=github&connection_scope=read%3Aorg&audience=https%3A%2F%2Fapi.example.com&nonce=n-1&organization=org_1&"},
		{map[string]any{"connectionScope": "read:org"}, "&accessType=offline&prompt=consent&nonce=n-1&"},
		{map[string]any{"prompt": ""}, "&accessType=offline&nonce=n-1&"},
	} {
		_, p, _, _ := setup(t, tc.extra)
		start, err := p.Start(context.Background(), providers.StartRequest{Scope: scope, State: "st", CallbackURL: providertest.CallbackURL,
			Secrets: providers.FlowSecrets{Nonce: "n-1", PKCEVerifier: strings.Repeat("v", 43)}})
		if err != nil {
			t.Fatal(err)
		}
		want := "https://" + domain + "/authorize?scope=openid%20profile%20email%20offline_access&state=st" + tc.mid +
			"response_type=code&redirect_uri=" + url.QueryEscape(providertest.CallbackURL) + "&client_id=backstage-client"
		if start.URL != want {
			t.Errorf("authorize URL\n%s\nwant\n%s", start.URL, want)
		}
	}
}

// The organization, invitation, screen_hint and login_hint of the /start query go on
// the authorize request where passport-auth0 puts them; another organization than the
// configured one is refused.
func TestStartQuery(t *testing.T) {
	_, p, _, _ := setup(t, map[string]any{"organization": "org_1"})
	start := func(q url.Values) (string, error) {
		res, err := p.Start(context.Background(), providers.StartRequest{Scope: "openid", State: "st", CallbackURL: providertest.CallbackURL,
			Secrets: providers.FlowSecrets{Nonce: "n-1"}, Query: q})
		return res.URL, err
	}
	u, err := start(url.Values{"organization": {"org_1"}, "invitation": {"inv_9"}, "screen_hint": {"signup"}, "login_hint": {"a@example.com"}, "other": {"x"}})
	want := "https://" + domain + "/authorize?scope=openid&state=st&accessType=offline&organization=org_1&invitation=inv_9&screen_hint=signup&prompt=consent&login_hint=a%40example.com&nonce=n-1&response_type=code"
	if err != nil || !strings.HasPrefix(u, want) {
		t.Errorf("authorize URL\n%s\nwant prefix\n%s (%v)", u, want, err)
	}
	_, err = start(url.Values{"organization": {"org_2"}})
	if backstageerr.NameOf(err) != backstageerr.NameInput || backstageerr.MessageOf(err) != auth0.MsgOrganizationMismatch {
		t.Errorf("another organization: %v", err)
	}
}

func TestSignIn(t *testing.T) {
	idp, p, client, _ := setup(t, nil)
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile.Email != "alice@example.com" || res.Profile.DisplayName != "Alice Smith" || !strings.HasPrefix(res.Profile.Picture, "https://s.gravatar.com/avatar/") {
		t.Errorf("profile %+v", res.Profile)
	}
	pi := res.ProviderInfo
	if pi.ExpiresInSeconds != 3600 || pi.Scope != scope || strings.Count(pi.IDToken, ".") != 2 || pi.AccessToken == "" {
		t.Errorf("providerInfo %+v", pi)
	}
	if res.Claims["iss"] != "https://"+domain+"/" {
		t.Errorf("claims %v", res.Claims)
	}
	if fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res)); fp.ID != "auth0|0000000000000000000003e9" {
		t.Errorf("full profile %+v", fp)
	}
	tr := idp.RequestsTo(mockvendor.Auth0TokenPath)[0]
	if tr.Form.Get("client_secret") != "backstage-secret" || tr.Header.Get("Auth0-Client") == "" {
		t.Errorf("token request %v %v", tr.Header, tr.Form)
	}
	if b, err := base64.StdEncoding.DecodeString(tr.Header.Get("Auth0-Client")); err != nil || !strings.Contains(string(b), `"name":"backstage-auth-go"`) {
		t.Errorf("Auth0-Client %q", b)
	}
	ui := idp.RequestsTo(mockvendor.Auth0UserInfoPath)[0]
	if ui.Header.Get("Authorization") != "Bearer "+pi.AccessToken || ui.Query.Get("access_token") != "" || ui.Header.Get("Auth0-Client") == "" {
		t.Errorf("the access token goes in the header only: %v %v", ui.Header, ui.Query)
	}
	// An email Auth0 says is unverified is dropped.
	idp.SetFault(mockvendor.Fault{Login: "carol"})
	if res, err = providertest.VendorSignIn(t, p, client, scope); err != nil || res.Profile.Email != "" || res.Profile.DisplayName != "Carol" {
		t.Errorf("carol: %+v %v", res.Profile, err)
	}
}

func TestIDToken(t *testing.T) {
	idp, p, client, _ := setup(t, nil)
	for _, tc := range []struct {
		f    mockvendor.Fault
		want string
	}{
		{mockvendor.Fault{BadSignature: true}, "Authentication rejected, the ID token signature could not be verified"},
		{mockvendor.Fault{IDTokenIssuer: "https://" + domain}, "Authentication rejected, the ID token issuer"},
		{mockvendor.Fault{IDTokenAudience: "another-client"}, "Authentication rejected, the ID token audience does not include this client"},
	} {
		idp.SetFault(tc.f)
		_, err := providertest.VendorSignIn(t, p, client, scope)
		if err == nil || !strings.HasPrefix(backstageerr.MessageOf(err), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
	}
	if err := providertest.ForeignNonce(t, p, client, scope); err == nil || !strings.Contains(err.Error(), "nonce does not match") {
		t.Errorf("another sign-in's nonce: %v", err)
	}
}

func TestRefreshCacheAndLogout(t *testing.T) {
	idp, p, client, clk := setup(t, map[string]any{"federatedLogout": true})
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := providers.RefreshRequest{Session: res.Session, Scope: scope}
	userinfo := func() int { return len(idp.RequestsTo(mockvendor.Auth0UserInfoPath)) }
	before := userinfo()
	for i := range 2 {
		r, err := p.Refresh(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || r.ProviderInfo.IDToken == "" || r.Profile.Email != "alice@example.com" {
			t.Errorf("refresh %d: %+v", i, r)
		}
	}
	if n := userinfo() - before; n != 1 {
		t.Errorf("two refreshes within a minute called userinfo %d times, want 1", n)
	}
	clk.t = clk.t.Add(auth0.ProfileCacheTTL)
	if _, err := p.Refresh(ctx, req); err != nil || userinfo()-before != 2 {
		t.Errorf("after a minute the profile is fetched again: %v %d", err, userinfo()-before)
	}
	idp.RevokeUser("alice")
	_, err = p.Refresh(ctx, req)
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "(invalid_grant)") {
		t.Errorf("refresh after revocation: %v", err)
	}
	u, err := p.LogoutURL(ctx, res.Session)
	if err != nil || u != "https://"+domain+"/v2/logout?federated=&client_id=backstage-client" {
		t.Errorf("logout URL %q %v", u, err)
	}
	// Back to the request's Origin; a session is not needed.
	u, err = p.LogoutURL(providers.WithRequestOrigin(ctx, "https://backstage.example.com"), nil)
	if err != nil || u != "https://"+domain+"/v2/logout?federated=&client_id=backstage-client&returnTo=https%3A%2F%2Fbackstage.example.com" {
		t.Errorf("logout URL with an origin %q %v", u, err)
	}
}

func TestVendorErrors(t *testing.T) {
	idp, p, client, _ := setup(t, nil)
	providertest.VendorErrors(t, idp, p, client, scope, []providertest.VendorError{
		{Fault: mockvendor.Fault{AuthorizeError: "access_denied"}, Want: "Authentication rejected, Unauthorized"},
		{Fault: mockvendor.Fault{TokenStatus: 502}, Want: "Authentication failed, Failed to obtain access token (HTTP 502 server_error)"},
		{Fault: mockvendor.Fault{TokenDelay: 3 * time.Second}, Want: "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{Fault: mockvendor.Fault{ProfileStatus: 500}, Want: "Authentication failed, Failed to fetch user profile (HTTP 500 server_error)"},
	})
	providertest.BadCode(t, p, "Authentication failed, Failed to obtain access token (HTTP 403 invalid_grant)")
}

func TestProfileFromUserInfo(t *testing.T) {
	fp := auth0.ProfileFromUserInfo(map[string]any{"user_id": "github|7", "sub": "x", "emails": []any{"a@example.com", "b@example.com"}, "email": "c@example.com"})
	if fp.ID != "github|7" || len(fp.Emails) != 2 || fp.Emails[0].Value != "a@example.com" {
		t.Errorf("%+v", fp)
	}
}
