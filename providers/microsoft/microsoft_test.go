package microsoft_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/microsoft"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// frontendScope is what MicrosoftAuth asks for; signInScope is it merged with the
// required scopes, as the router hands it over.
const (
	frontendScope = "openid offline_access profile email User.Read"
	signInScope   = frontendScope + " user.read"
)

var users = []mockvendor.User{
	{ID: 1001, Login: "alice", Name: "Alice Smith", GivenName: "Alice", FamilyName: "Smith", Email: "alice@example.com", Photo: true},
	{ID: 1002, Login: "bob", Name: "Bob Jones"},
	{ID: 1003, Login: "dana", Name: "Dana", Email: "dana@outlook.com", TenantID: mockvendor.EntraConsumersTenant, Photo: true},
}

func parse(t testing.TB, m map[string]any) (*microsoft.Config, config.Problems) {
	return providertest.Parse[*microsoft.Config](t, microsoft.Module, m)
}

type env struct {
	idp    *mockvendor.Server
	client *http.Client
}

func newEnv(t testing.TB, us ...mockvendor.User) env {
	t.Helper()
	if len(us) == 0 {
		us = users
	}
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.Microsoft, Users: us})
	return env{idp: idp, client: providertest.VendorHosts(t, idp.Handler())}
}

// provider builds an environment with these keys besides the client's.
func (e env) provider(t testing.TB, keys map[string]any) *microsoft.Provider {
	t.Helper()
	m := map[string]any{"clientId": "backstage-client", "clientSecret": "backstage-secret", "tenantId": mockvendor.DefaultEntraTenant, "timeout": "1s"}
	for k, v := range keys {
		m[k] = v
	}
	cfg, ps := parse(t, m)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(providers.Deps{HTTPClient: e.client})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*microsoft.Provider)
}

func (e env) signIn(t testing.TB, p *microsoft.Provider, scope string) providers.Result {
	t.Helper()
	res, err := providertest.VendorSignIn(t, p, e.client, scope)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "tenantId": "common", "domainHint": "contoso.com", "skipUserProfile": true})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if cfg.AuthorizationURL != "https://login.microsoftonline.com/common/oauth2/v2.0/authorize" || cfg.TokenURL != "https://login.microsoftonline.com/common/oauth2/v2.0/token" ||
		cfg.MetadataURL != "https://login.microsoftonline.com/common/v2.0" || !cfg.SkipUserProfile || cfg.DomainHint != "contoso.com" {
		t.Errorf("config %+v", cfg)
	}
	p, _ := cfg.Build(providers.Deps{})
	if s := p.(providers.Scoper).Scopes(); s.Persist || strings.Join(s.Required, " ") != "email openid offline_access user.read" {
		t.Errorf("scopes %+v", s)
	}
	providertest.ConfigProblems(t, microsoft.Module, []providertest.ConfigProblem{
		{M: map[string]any{"clientId": "id", "clientSecret": "s"}, Path: "tenantId", Says: "missing required config value"},
		{M: map[string]any{"clientSecret": "s", "tenantId": "common"}, Path: "clientId", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "tenantId": "common/oauth2/v2.0/x?"}, Path: "tenantId", Says: "must be a tenant id"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "tenantId": "a b"}, Path: "tenantId", Says: "must be a tenant id"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "tenantId": "common", "skipUserProfile": "maybe"}, Path: "skipUserProfile", Says: ""},
	})
}

func TestAuthorizeURLAndScopeTransform(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, map[string]any{"domainHint": "contoso.com", "additionalScopes": "Calendars.Read"})
	start := func(scope string) string {
		r, err := p.Start(context.Background(), providers.StartRequest{Scope: scope, State: "st", CallbackURL: providertest.CallbackURL,
			Secrets: providers.FlowSecrets{Nonce: "n-1", PKCEVerifier: strings.Repeat("v", 43)}})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(r.URL)
		return u.Query().Get("scope") + " | " + r.URL
	}
	got := start(signInScope + " Calendars.Read")
	want := "https://login.microsoftonline.com/" + mockvendor.DefaultEntraTenant + "/oauth2/v2.0/authorize?domain_hint=contoso.com&response_type=code&redirect_uri=" +
		url.QueryEscape(providertest.CallbackURL) + "&scope=openid%20offline_access%20profile%20email%20User.Read%20user.read%20Calendars.Read&code_challenge="
	if _, u, _ := strings.Cut(got, " | "); !strings.HasPrefix(u, want) || !strings.HasSuffix(u, "&code_challenge_method=S256&state=st&nonce=n-1&client_id=backstage-client") {
		t.Errorf("authorize URL\n%s\nwant prefix\n%s", u, want)
	}
	// The router's merged scope (requested, then the required and additional ones
	// missing) and what the module's transform sends.
	for merged, sent := range map[string]string{
		signInScope + " Calendars.Read":                                     signInScope + " Calendars.Read",
		"api://x/read email openid offline_access user.read Calendars.Read": "api://x/read offline_access",
		"openid api://x/read email offline_access user.read Calendars.Read": "openid api://x/read offline_access",
		// Requested "…user_impersonation offline_access": the required email is left out.
		"https://management.azure.com/user_impersonation offline_access email openid user.read Calendars.Read": "https://management.azure.com/user_impersonation offline_access",
		"email openid offline_access user.read Calendars.Read":                                                 "email openid offline_access user.read Calendars.Read",
	} {
		if got, _, _ := strings.Cut(start(merged), " | "); got != sent {
			t.Errorf("%q: sent %q, want %q", merged, got, sent)
		}
	}
}

func TestSignInWithGraph(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, nil)
	res := e.signIn(t, p, signInScope)
	if res.Profile.Email != "alice@example.com" || res.Profile.DisplayName != "Alice Smith" {
		t.Errorf("profile %+v", res.Profile)
	}
	pic, ok := strings.CutPrefix(res.Profile.Picture, "data:image/jpeg;base64,")
	if b, err := base64.StdEncoding.DecodeString(pic); !ok || err != nil || string(b) != string(mockvendor.PhotoOf(users[0])) {
		t.Errorf("picture %.60q", res.Profile.Picture)
	}
	pi := res.ProviderInfo
	if pi.Scope != "openid profile email User.Read" || pi.ExpiresInSeconds != 3600 || strings.Count(pi.IDToken, ".") != 2 || strings.Count(pi.AccessToken, ".") != 2 {
		t.Errorf("providerInfo %+v", pi)
	}
	fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res))
	if fp.ID != "00000000-0000-4000-8000-000000001001" || fp.Raw["userPrincipalName"] != "alice@mock.onmicrosoft.com" {
		t.Errorf("full profile %+v", fp)
	}
	if res.Claims["tid"] != mockvendor.DefaultEntraTenant || res.Claims["oid"] != fp.ID {
		t.Errorf("verified ID token claims %v", res.Claims)
	}
	for _, path := range []string{mockvendor.GraphMePath + "/", mockvendor.GraphPhotoPath} {
		rs := e.idp.RequestsTo(path)
		if len(rs) != 1 || rs[0].Header.Get("Authorization") != "Bearer "+pi.AccessToken || len(rs[0].Query) != 0 {
			t.Errorf("%s: %+v", path, rs)
		}
	}
	if n := len(e.idp.RequestsTo(mockvendor.EntraTokenPath)); n != 1 {
		t.Errorf("a Graph token needs no extra grant, got %d token requests", n)
	}
	// bob: no mail (the UPN is the email), no photo (Graph's 404 is no picture).
	e.idp.SetFault(mockvendor.Fault{Login: "bob"})
	res = e.signIn(t, p, signInScope)
	if res.Profile != (providers.Profile{Email: "bob@mock.onmicrosoft.com", DisplayName: "Bob Jones"}) {
		t.Errorf("bob: %+v", res.Profile)
	}
	// A failing photo never fails the sign-in.
	e.idp.SetFault(mockvendor.Fault{PhotoStatus: 503})
	if res = e.signIn(t, p, signInScope); res.Profile.Picture != "" || res.Profile.Email != "alice@example.com" {
		t.Errorf("photo 503: %+v", res.Profile)
	}
}

// common, organizations, consumers and a tenant named by its domain announce other
// issuers than their URL; the tokens' iss must still be right.
func TestTenants(t *testing.T) {
	e := newEnv(t)
	common := e.provider(t, map[string]any{"tenantId": "common"})
	res := e.signIn(t, common, signInScope)
	if res.Claims["iss"] != "https://login.microsoftonline.com/"+mockvendor.DefaultEntraTenant+"/v2.0" {
		t.Errorf("common: %v", res.Claims["iss"])
	}
	// A personal account: its Graph token is opaque, and Graph is asked anyway.
	e.idp.SetFault(mockvendor.Fault{Login: "dana"})
	res = e.signIn(t, common, signInScope)
	if !strings.HasPrefix(res.ProviderInfo.AccessToken, "EwB") || res.Profile.Email != "dana@outlook.com" || !strings.HasPrefix(res.Profile.Picture, "data:image/jpeg") ||
		res.Claims["tid"] != microsoft.ConsumersTenant {
		t.Errorf("personal account: %+v %v", res.Profile, res.Claims["tid"])
	}
	// A token naming another tenant than its tid: refused.
	e.idp.SetFault(mockvendor.Fault{IDTokenIssuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"})
	if _, err := providertest.VendorSignIn(t, common, e.client, signInScope); err == nil || !strings.Contains(err.Error(), "Authentication rejected, the ID token issuer") {
		t.Errorf("another tenant's issuer: %v", err)
	}
	for _, tenant := range []string{"organizations", mockvendor.DefaultEntraDomain} {
		if res := e.signIn(t, e.provider(t, map[string]any{"tenantId": tenant}), signInScope); res.Profile.Email != "alice@example.com" {
			t.Errorf("%s: %+v", tenant, res.Profile)
		}
	}
	// consumers admits personal accounts only (the mock signs in its first user).
	start, err := e.provider(t, map[string]any{"tenantId": "consumers"}).Start(context.Background(),
		providers.StartRequest{Scope: signInScope, State: "st", CallbackURL: providertest.CallbackURL, Secrets: providertest.NewSecrets()})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := e.client.Get(start.URL); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a work account at consumers: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	pe := newEnv(t, users[2])
	if res := pe.signIn(t, pe.provider(t, map[string]any{"tenantId": "consumers"}), signInScope); res.Claims["tid"] != microsoft.ConsumersTenant {
		t.Errorf("consumers: %v", res.Claims)
	}
	// The tenant's issuer, not just any tenant's: a GUID tenant announcing another GUID
	// is refused (the mock announces the path's own GUID, so forge one in the token).
	e.idp.SetFault(mockvendor.Fault{IDTokenIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0"})
	if _, err := providertest.VendorSignIn(t, e.provider(t, nil), e.client, signInScope); err == nil {
		t.Error("a templated iss in a token was accepted")
	}
}

// A resource scope: the token is for that resource, so an extra grant gets a Graph
// token for the profile; the sign-in keeps its own access token and seals the
// rotated refresh token.
func TestResourceScope(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, nil)
	res := e.signIn(t, p, "api://x/read email openid offline_access user.read")
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(res.ProviderInfo.AccessToken, claims); err != nil || claims["aud"] != "api://x" {
		t.Fatalf("providerInfo.accessToken must be the resource's: %v %v", claims, err)
	}
	if res.Profile.Email != "alice@example.com" || res.ProviderInfo.Scope != "api://x/read" {
		t.Errorf("profile %+v, scope %q", res.Profile, res.ProviderInfo.Scope)
	}
	tr := e.idp.RequestsTo(mockvendor.EntraTokenPath)
	if len(tr) != 2 || tr[1].Form.Get("grant_type") != "refresh_token" || tr[1].Form.Get("scope") != microsoft.GraphProfileScope {
		t.Fatalf("token requests %+v", tr)
	}
	s, _ := oauth2engine.DecodeSession(res.Session)
	// The sign-in's refresh token was used for the Graph grant (single use at the mock):
	// the session must hold the one it returned.
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "api://x/read email openid offline_access user.read"})
	if err != nil {
		t.Fatalf("refresh with the sealed refresh token %.12s...: %v", s.RefreshToken, err)
	}
	tr = e.idp.RequestsTo(mockvendor.EntraTokenPath)
	if len(tr) != 4 || tr[2].Form.Get("scope") != "api://x/read offline_access" || tr[3].Form.Get("scope") != microsoft.GraphProfileScope {
		t.Errorf("refresh: the transformed scope, then the Graph grant: %v %v", tr[2].Form, tr[3].Form)
	}
	if r.Session == nil || r.Profile.Email != "alice@example.com" || r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken {
		t.Errorf("refresh result %+v", r)
	}
}

func TestSkipUserProfile(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, map[string]any{"skipUserProfile": true})
	res := e.signIn(t, p, signInScope)
	if res.Profile != (providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"}) {
		t.Errorf("profile from the verified ID token: %+v", res.Profile)
	}
	if n := len(e.idp.RequestsTo(mockvendor.GraphMePath+"/")) + len(e.idp.RequestsTo(mockvendor.GraphPhotoPath)); n != 0 {
		t.Errorf("Graph asked %d times", n)
	}
	if microsoft.ObjectID(providertest.SignInInfo(res)) != "00000000-0000-4000-8000-000000001001" {
		t.Errorf("the verified oid is the user id: %v", res.Claims)
	}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, nil)
	res := e.signIn(t, p, signInScope)
	ctx := context.Background()
	r, err := p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: signInScope})
	if err != nil {
		t.Fatal(err)
	}
	if r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || r.ProviderInfo.IDToken == "" || r.Session == nil || r.Profile.Email != "alice@example.com" {
		t.Errorf("refresh: %+v", r)
	}
	if got := e.idp.RequestsTo(mockvendor.EntraTokenPath)[1].Form; got.Get("scope") != signInScope || got.Get("client_secret") != "backstage-secret" {
		t.Errorf("refresh grant %v", got)
	}
	// The rotated refresh token works; the old one is spent.
	if _, err := p.Refresh(ctx, providers.RefreshRequest{Session: r.Session, Scope: signInScope}); err != nil {
		t.Fatal(err)
	}
	_, err = p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: signInScope})
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "(invalid_grant)") {
		t.Errorf("a spent refresh token: %v", err)
	}
}

func TestVendorErrors(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, nil)
	for _, tc := range []struct {
		f    mockvendor.Fault
		want string
	}{
		{mockvendor.Fault{AuthorizeError: "access_denied"}, "Authentication rejected, AADSTS65004: User declined to consent to access the app."},
		{mockvendor.Fault{TokenStatus: 502}, "Authentication failed, Failed to obtain access token (HTTP 502 temporarily_unavailable)"},
		{mockvendor.Fault{TokenDelay: 3 * time.Second}, "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{mockvendor.Fault{ProfileStatus: 500}, "Authentication failed, Failed to fetch user profile (HTTP 500)"},
		{mockvendor.Fault{BadSignature: true}, "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
	} {
		e.idp.SetFault(tc.f)
		_, err := providertest.VendorSignIn(t, p, e.client, signInScope)
		if msg := backstageerr.MessageOf(err); msg != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, msg, tc.want)
		}
		e.idp.ClearFault()
	}
	_, err := p.Authenticate(context.Background(), providers.CallbackRequest{Params: url.Values{"code": {"1.AXEAbogus"}}, CallbackURL: providertest.CallbackURL, Secrets: providertest.NewSecrets()})
	if msg := backstageerr.MessageOf(err); msg != "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)" {
		t.Errorf("bad code: %q", msg)
	}
}
