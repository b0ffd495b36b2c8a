package onelogin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/onelogin"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// frontendScope is what a frontend would ask for; OneLogin gets openid only.
const frontendScope = "openid email profile offline_access"

var users = []mockvendor.User{
	{ID: 1001, Login: "alice", Name: "Alice Smith", GivenName: "Alice", FamilyName: "Smith", Email: "alice@example.com"},
	{ID: 1002, Login: "bob"},
	{ID: 1003, Login: "carol", Name: "Carol", Email: "carol@example.com", EmailVerified: providertest.False()},
}

func parse(t testing.TB, m map[string]any) (*onelogin.Config, config.Problems) {
	return providertest.Parse[*onelogin.Config](t, onelogin.Module, m)
}

func setup(t testing.TB) (*mockvendor.Server, *onelogin.Provider, string) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.OneLogin, Users: users})
	issuer := idp.Start(t) + mockvendor.OneLoginIssuerPath
	p := providertest.Build[*onelogin.Provider](t, onelogin.Module, providertest.TestClient(map[string]any{"issuer": issuer + "/"}), providers.Deps{})
	return idp, p, issuer
}

func TestConfig(t *testing.T) {
	providertest.ConfigProblems(t, onelogin.Module, []providertest.ConfigProblem{
		{M: map[string]any{"clientId": "id", "clientSecret": "s"}, Path: "issuer", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "issuer": "acme.onelogin.com/oidc/2"}, Path: "issuer", Says: "must be an absolute http(s) URL"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "issuer": "https://acme.onelogin.com/oidc/2?x=1"}, Path: "issuer", Says: "must not have a query"},
		{M: map[string]any{"clientSecret": "s", "issuer": "https://acme.onelogin.com/oidc/2"}, Path: "clientId", Says: "missing required config value"},
	})
}

func TestRegistryDecode(t *testing.T) {
	providertest.RegistryResolvers(t, onelogin.Module, map[string]any{"clientId": "id", "clientSecret": "s", "issuer": "https://acme.onelogin.com/oidc/2"},
		[]string{"usernameMatchingUserEntityName", "emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"},
		[]string{"emailMatchingUserEntityAnnotation"})
}

func TestSignInAndRefresh(t *testing.T) {
	idp, p, issuer := setup(t)
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: frontendScope, State: "st", CallbackURL: providertest.CallbackURL,
		Secrets: providers.FlowSecrets{Nonce: "n-1", PKCEVerifier: strings.Repeat("v", 43)}})
	if err != nil {
		t.Fatal(err)
	}
	want := issuer + "/auth?response_type=code&redirect_uri=" + url.QueryEscape(providertest.CallbackURL) + "&scope=openid&code_challenge="
	if !strings.HasPrefix(start.URL, want) || !strings.HasSuffix(start.URL, "&code_challenge_method=S256&state=st&nonce=n-1&client_id=backstage-client") {
		t.Errorf("authorize URL\n%s\nwant prefix\n%s", start.URL, want)
	}
	res, err := providertest.VendorSignIn(t, p, http.DefaultClient, frontendScope)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	if pi := res.ProviderInfo; pi.Scope != "openid" || pi.ExpiresInSeconds != 3600 || strings.Count(pi.IDToken, ".") != 2 {
		t.Errorf("providerInfo %+v", pi)
	}
	if fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res)); fp.ID != "90001001" || fp.Username != "alice" {
		t.Errorf("full profile %+v", fp)
	}
	if me := idp.RequestsTo(mockvendor.OneLoginMePath)[0]; me.Method != http.MethodGet || !strings.HasPrefix(me.Header.Get("Authorization"), "Bearer ") {
		t.Errorf("/me request %s %v", me.Method, me.Header)
	}
	if tr := idp.RequestsTo(mockvendor.OneLoginTokenPath)[0]; tr.Form.Get("client_secret") != "backstage-secret" {
		t.Errorf("client_secret_post: %v", tr.Form)
	}
	ctx := context.Background()
	r, err := p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: frontendScope})
	if err != nil {
		t.Fatal(err)
	}
	if r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || r.Profile.Email != "alice@example.com" {
		t.Errorf("refresh %+v", r)
	}
	if f := idp.RequestsTo(mockvendor.OneLoginTokenPath)[1].Form; f.Get("scope") != "openid" || f.Get("grant_type") != "refresh_token" {
		t.Errorf("refresh grant %v", f)
	}
	idp.RevokeUser("alice")
	if _, err := p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: frontendScope}); backstageerr.NameOf(err) != backstageerr.NameAuthentication {
		t.Errorf("refresh after revocation: %v", err)
	}
	// An unverified email is dropped.
	idp.SetFault(mockvendor.Fault{Login: "carol"})
	if res, err = providertest.VendorSignIn(t, p, http.DefaultClient, frontendScope); err != nil || res.Profile.Email != "" {
		t.Errorf("carol: %+v %v", res.Profile, err)
	}
}

func TestVendorErrors(t *testing.T) {
	idp, p, _ := setup(t)
	providertest.VendorErrors(t, idp, p, http.DefaultClient, frontendScope, []providertest.VendorError{
		{Fault: mockvendor.Fault{AuthorizeError: "access_denied"}, Want: "Authentication rejected, End user denied access"},
		{Fault: mockvendor.Fault{TokenStatus: 503}, Want: "Authentication failed, Failed to obtain access token (HTTP 503 server_error)"},
		{Fault: mockvendor.Fault{TokenDelay: 3 * time.Second}, Want: "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{Fault: mockvendor.Fault{ProfileStatus: 500}, Want: "Authentication failed, Failed to fetch user profile (HTTP 500 server_error)"},
		{Fault: mockvendor.Fault{BadSignature: true}, Want: "Authentication rejected, the ID token signature could not be verified with the identity provider's current keys"},
		{Fault: mockvendor.Fault{IDTokenAudience: "x"}, Want: "Authentication rejected, the ID token audience does not include this client"},
	})
}

func TestUsernameMatchingUserEntityName(t *testing.T) {
	ctx := context.Background()
	cat := providertest.Catalog{providertest.User("alice", nil, "group:default/team-a"), providertest.User("carol", nil)}
	chain := func(entries ...map[string]any) resolvers.Resolver {
		return providertest.Chain(t, onelogin.Module, cat, entries...)
	}
	in := func(raw map[string]any) resolvers.SignInInfo {
		return providertest.EngineSignIn(onelogin.ProfileFromMe(raw), nil)
	}
	byName := map[string]any{"resolver": "usernameMatchingUserEntityName"}
	if id, err := chain(byName).Resolve(ctx, in(map[string]any{"sub": int64(1), "preferred_username": "alice"})); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Errorf("found: %+v %v", id, err)
	}
	_, err := chain(byName).Resolve(ctx, in(map[string]any{"sub": "2", "preferred_username": "bob"}))
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "usernameMatchingUserEntityName: User not found") {
		t.Errorf("not found: %v", err)
	}
	if id, err := chain(byName, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}).
		Resolve(ctx, in(map[string]any{"sub": "3", "preferred_username": "c", "email": "carol@example.com"})); err != nil || id.UserEntityRef != "user:default/carol" {
		t.Errorf("chained: %+v %v", id, err)
	}
	if id, err := chain(map[string]any{"resolver": "usernameMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).
		Resolve(ctx, in(map[string]any{"sub": "9", "preferred_username": "zed"})); err != nil || id.UserEntityRef != "user:default/zed" {
		t.Errorf("fallback: %+v %v", id, err)
	}
	if _, err := chain(byName, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}).Resolve(ctx, in(map[string]any{"sub": "9", "email": "carol@example.com"})); backstageerr.MessageOf(err) != onelogin.MsgNoUsername {
		t.Errorf("no username stops the chain: %v", err)
	}
}

// The issuer is trimmed (white space, one trailing slash) before the endpoints are
// derived from it; an empty query or fragment is refused, as a non-empty one is.
func TestIssuerTrimmedOrRefused(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "issuer": " https://acme.onelogin.com/oidc/2/ "})
	if ps.Err() != nil || cfg.Issuer != "https://acme.onelogin.com/oidc/2" {
		t.Errorf("white space: %q %v", cfg.Issuer, ps.Errors())
	}
	for _, iss := range []string{"https://acme.onelogin.com/oidc/2?", "https://acme.onelogin.com/oidc/2#"} {
		if _, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "issuer": iss}); !providertest.HasProblem(ps, "issuer", "must not have a query or fragment") {
			t.Errorf("%q: %v", iss, ps.Errors())
		}
	}
}
