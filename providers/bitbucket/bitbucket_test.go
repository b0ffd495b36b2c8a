package bitbucket_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/bitbucket"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

var users = []mockvendor.User{
	{ID: 1001, Login: "alice", Name: "Alice Smith", Email: "alice@example.com", AvatarURL: "https://avatar-management.example/alice.png"},
	{ID: 1002, Login: "bob"},
	{ID: 1003, Login: "carol", Name: "Carol", Email: "carol@example.com", EmailVerified: providertest.False()},
}

func parse(t testing.TB, m map[string]any) (*bitbucket.Config, config.Problems) {
	return providertest.Parse[*bitbucket.Config](t, bitbucket.Module, m)
}

// setup starts the Bitbucket mock behind bitbucket.org and api.bitbucket.org and a
// provider (timeout 1s) reaching it.
func setup(t testing.TB, extra map[string]any) (*mockvendor.Server, *bitbucket.Provider, *http.Client) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.Bitbucket, Users: users})
	client := providertest.VendorHosts(t, idp.Handler())
	p := providertest.Build[*bitbucket.Provider](t, bitbucket.Module, providertest.TestClient(extra), providers.Deps{HTTPClient: client})
	return idp, p, client
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "additionalScopes": "email repository"})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Build(providers.Deps{})
	if s := p.(providers.Scoper).Scopes(); !s.Persist || strings.Join(s.Required, " ") != "account" || strings.Join(s.Additional, " ") != "email repository" {
		t.Errorf("scopes %+v", s)
	}
	providertest.ConfigProblems(t, bitbucket.Module, []providertest.ConfigProblem{
		{M: map[string]any{"clientSecret": "s"}, Path: "clientId", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id"}, Path: "clientSecret", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "timeout": "0s"}, Path: "timeout", Says: "greater than zero"},
	})
	reg, _ := providers.NewRegistry(bitbucket.Module)
	sec := func(resolver string) map[string]config.Section {
		return map[string]config.Section{"bitbucket": config.SectionFromMap(map[string]any{"development": map[string]any{
			"clientId": "id", "clientSecret": "s", "signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": resolver}}},
		}})}
	}
	for _, name := range []string{"userIdMatchingUserEntityAnnotation", "usernameMatchingUserEntityAnnotation", "emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"} {
		if _, ps := reg.Decode(sec(name)); ps.Err() != nil {
			t.Errorf("%s: %v", name, ps.Err())
		}
	}
	if _, ps := reg.Decode(sec("usernameMatchingUserEntityName")); ps.Err() == nil {
		t.Error("usernameMatchingUserEntityName is not a Bitbucket resolver")
	}
}

func TestSignInAndRefresh(t *testing.T) {
	idp, p, client := setup(t, nil)
	start, _ := p.Start(context.Background(), providers.StartRequest{Scope: "account", State: "st", CallbackURL: providertest.CallbackURL, Secrets: providertest.NewSecrets()})
	if want := "https://bitbucket.org/site/oauth2/authorize?response_type=code&redirect_uri=" + url.QueryEscape(providertest.CallbackURL) + "&scope=account&state=st&client_id=backstage-client"; start.URL != want {
		t.Errorf("authorize URL\n%s\nwant\n%s", start.URL, want)
	}
	res, err := providertest.VendorSignIn(t, p, client, "account")
	if err != nil {
		t.Fatal(err)
	}
	// As in Backstage: no email and no picture without the email scope.
	if res.Profile != (providers.Profile{DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	if n := len(idp.RequestsTo(mockvendor.BitbucketEmailsPath)); n != 0 {
		t.Errorf("/2.0/user/emails asked %d times without the email scope", n)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "bbat-") || pi.ExpiresInSeconds != 3600 || pi.IDToken != "" {
		t.Errorf("providerInfo %+v", pi)
	}
	fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res))
	if fp.ID != mockvendor.BitbucketUUID(1001) || fp.Username != "alice" || !strings.HasPrefix(fp.ProfileURL, "https://bitbucket.org/%7B") {
		t.Errorf("full profile %+v", fp)
	}
	tr := idp.RequestsTo(mockvendor.BitbucketTokenPath)[0]
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("backstage-client:backstage-secret"))
	if tr.Header.Get("Authorization") != basic || tr.Form.Get("client_secret") != "backstage-secret" || tr.Form.Get("code_verifier") != "" {
		t.Errorf("token request: Basic and body credentials, no PKCE: %v %v", tr.Header, tr.Form)
	}
	if ur := idp.RequestsTo(mockvendor.BitbucketUserPath)[0]; ur.Header.Get("Authorization") != "Bearer "+pi.AccessToken {
		t.Errorf("profile request %v", ur.Header)
	}
	s, _ := oauth2engine.DecodeSession(res.Session)
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "account"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ProviderInfo.AccessToken == pi.AccessToken || r.Session != nil || r.Profile.DisplayName != "Alice Smith" {
		t.Errorf("refresh (Bitbucket keeps the refresh token, nothing to reseal): %+v %v", r.ProviderInfo, r.Session)
	}
	if rr := idp.RequestsTo(mockvendor.BitbucketTokenPath)[1]; rr.Header.Get("Authorization") != basic || rr.Form.Get("refresh_token") != s.RefreshToken || rr.Form.Get("grant_type") != "refresh_token" {
		t.Errorf("refresh request %v %v", rr.Header, rr.Form)
	}
	idp.RevokeUser("alice")
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "account"}); backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("revoked: %v", err)
	}
}

// With the email scope granted, the primary confirmed address is the profile email.
func TestEmailScope(t *testing.T) {
	idp, p, client := setup(t, map[string]any{"additionalScopes": []any{"email"}})
	res, err := providertest.VendorSignIn(t, p, client, "account email")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile.Email != "alice@example.com" {
		t.Errorf("profile %+v", res.Profile)
	}
	if r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "account email"}); err != nil || r.Profile.Email != "alice@example.com" {
		t.Errorf("refresh %+v %v", r.Profile, err)
	}
	// Carol's primary address is not confirmed; her confirmed secondary one is not used.
	idp.SetFault(mockvendor.Fault{Login: "carol"})
	if res, err = providertest.VendorSignIn(t, p, client, "account email"); err != nil || res.Profile.Email != "" {
		t.Errorf("unconfirmed: %+v %v", res.Profile, err)
	}
	idp.SetFault(mockvendor.Fault{ProfileStatus: 503})
	if _, err = providertest.VendorSignIn(t, p, client, "account email"); providertest.Message(err) != "Authentication failed, Failed to fetch user profile (HTTP 503)" {
		t.Errorf("profile down: %v", err)
	}
}

func TestSignInErrors(t *testing.T) {
	idp, p, client := setup(t, nil)
	providertest.VendorErrorsNoLeak(t, idp, p, client, "account", []providertest.VendorError{
		{Fault: mockvendor.Fault{AuthorizeError: "access_denied"}, Want: "Authentication rejected, access denied by user"},
		{Fault: mockvendor.Fault{TokenStatus: 500}, Want: "Authentication failed, Failed to obtain access token (HTTP 500)"},
		{Fault: mockvendor.Fault{TokenDelay: 3e9}, Want: "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{Fault: mockvendor.Fault{ProfileStatus: 502}, Want: "Authentication failed, Failed to fetch user profile (HTTP 502)"},
	})
	providertest.BadCode(t, p, "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
}

func TestResolvers(t *testing.T) {
	ctx := context.Background()
	uuid := mockvendor.BitbucketUUID(1001)
	cat := providertest.Catalog{
		providertest.User("alice", map[string]string{bitbucket.UserIDAnnotation: uuid}),
		providertest.User("carol", map[string]string{bitbucket.UsernameAnnotation: "carol"}),
	}
	byID := map[string]any{"resolver": "userIdMatchingUserEntityAnnotation"}
	byName := map[string]any{"resolver": "usernameMatchingUserEntityAnnotation"}
	chain := func(entries ...map[string]any) resolvers.Resolver {
		return providertest.Chain(t, bitbucket.Module, cat, entries...)
	}
	signedIn := func(id, username string) resolvers.SignInInfo {
		return providertest.EngineSignIn(bitbucket.ProfileFromUser(map[string]any{"uuid": id, "username": username, "display_name": "X"}), nil)
	}
	if id, err := chain(byID).Resolve(ctx, signedIn(uuid, "zed")); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Errorf("by id: %+v %v", id, err)
	}
	if id, err := chain(byID, byName).Resolve(ctx, signedIn("{other}", "carol")); err != nil || id.UserEntityRef != "user:default/carol" {
		t.Errorf("chained: %+v %v", id, err)
	}
	_, err := chain(byName).Resolve(ctx, signedIn(uuid, "nobody"))
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "looked up metadata.annotations.bitbucket.org/username=nobody") {
		t.Errorf("not found: %v", err)
	}
	if id, err := chain(map[string]any{"resolver": "usernameMatchingUserEntityAnnotation", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, signedIn(uuid, "Nobody")); err != nil || id.UserEntityRef != "user:default/nobody" {
		t.Errorf("fallback: %+v %v", id, err)
	}
	if _, err := chain(byID, byName).Resolve(ctx, signedIn("", "carol")); providertest.Message(err) != bitbucket.MsgNoID {
		t.Errorf("no id (stops the chain): %v", err)
	}
	if _, err := chain(byName).Resolve(ctx, signedIn(uuid, "")); providertest.Message(err) != bitbucket.MsgNoUsername {
		t.Errorf("no username: %v", err)
	}
	// The common email resolvers fail without the email scope, as in Backstage.
	if _, err := chain(map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}).Resolve(ctx, signedIn(uuid, "alice")); err == nil || !strings.Contains(err.Error(), "user profile does not contain an email") {
		t.Errorf("email: %v", err)
	}
}

func TestHelpers(t *testing.T) {
	page := map[string]any{"values": []any{
		map[string]any{"is_primary": false, "is_confirmed": true, "email": "second@example.com"},
		map[string]any{"is_primary": true, "is_confirmed": "true", "email": "typo@example.com"},
		map[string]any{"is_primary": true, "is_confirmed": true, "email": "first@example.com"},
	}}
	if got := bitbucket.PrimaryConfirmedEmail(page); got != "first@example.com" {
		t.Errorf("primary confirmed: %q", got)
	}
	if got := bitbucket.PrimaryConfirmedEmail(map[string]any{"values": "x"}); got != "" {
		t.Errorf("malformed: %q", got)
	}
	for scopes, want := range map[string]bool{"account email": true, "account,email": true, "account emails": false, "": false} {
		if got := bitbucket.Granted(&oauth2engine.Token{Params: map[string]any{"scopes": scopes}}, "email"); got != want {
			t.Errorf("%q: %v", scopes, got)
		}
	}
	if fp := bitbucket.ProfileFromUser(map[string]any{"uuid": "{u}", "links": "broken"}); fp.ID != "{u}" || fp.ProfileURL != "" {
		t.Errorf("malformed links: %+v", fp)
	}
}
