package oauth2_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	xoauth2 "golang.org/x/oauth2"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

const callback = "http://127.0.0.1:7007/api/auth/oauth2/handler/frame"

func parse(m map[string]any) (providers.Config, config.Problems) {
	return oauth2.Module.Parse(config.SectionFromMap(m))
}

func base(kv ...any) map[string]any {
	m := map[string]any{"clientId": "backstage-client", "clientSecret": "backstage-secret", "authorizationUrl": "https://idp.example/authorize", "tokenUrl": "https://idp.example/token"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestConfig(t *testing.T) {
	if _, ps := parse(base("additionalScopes", []any{"read", "write"}, "includeBasicAuth", true, "disableRefresh", true, "pkce", true)); ps.Err() != nil {
		t.Fatal(ps.Err())
	}
	for _, tc := range []struct {
		m          map[string]any
		path, says string
	}{
		{base("authorizationUrl", nil), "authorizationUrl", "missing required config value"},
		{base("tokenUrl", nil), "tokenUrl", "missing required config value"},
		{base("tokenUrl", "/token"), "tokenUrl", "absolute http(s) URL"},
		{base("clientSecret", nil), "clientSecret", "missing required config value"},
		{base("scope", "openid"), "scope", `The oauth2 provider no longer supports the "scope" configuration option. Please use the "additionalScopes" option instead.`},
		{base("includeBasicAuth", "yes"), "includeBasicAuth", "must be a boolean"},
		{base("idTokenMetadataUrl", "idp.example"), "idTokenMetadataUrl", "absolute URL"},
		{base("idTokenSignedResponseAlg", "RS256"), "idTokenSignedResponseAlg", "has no effect without idTokenMetadataUrl"},
		{base("idTokenMetadataUrl", "https://idp.example", "idTokenSignedResponseAlg", "HS256"), "idTokenSignedResponseAlg", "not an allowed ID token algorithm"},
	} {
		_, ps := parse(tc.m)
		found := false
		for _, p := range ps.Errors() {
			found = found || (p.Path == tc.path && strings.Contains(p.Message, tc.says))
		}
		if !found {
			t.Errorf("want a problem at %s saying %q, got %v", tc.path, tc.says, ps)
		}
	}
	reg, _ := providers.NewRegistry(oauth2.Module)
	for _, name := range []string{"usernameMatchingUserEntityName", "emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"} {
		_, ps := reg.Decode(map[string]config.Section{"oauth2": config.SectionFromMap(map[string]any{"production": map[string]any{
			"clientId": "c", "clientSecret": "s", "authorizationUrl": "https://a/x", "tokenUrl": "https://a/t",
			"signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": name}}},
		}})})
		if ps.Err() != nil {
			t.Errorf("%s: %v", name, ps.Err())
		}
	}
}

func build(t *testing.T, m map[string]any) *oauth2.Provider {
	t.Helper()
	cfg, ps := parse(m)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*oauth2.Provider)
}

func flow(t *testing.T, p *oauth2.Provider, scope string) (providers.Result, string, error) {
	t.Helper()
	secrets := providers.FlowSecrets{Nonce: "n-" + xoauth2.GenerateVerifier()[:8], PKCEVerifier: xoauth2.GenerateVerifier()}
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: scope, State: "st", CallbackURL: callback, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	res, err := p.Authenticate(context.Background(), providers.CallbackRequest{Params: loc.Query(), CallbackURL: callback, Secrets: secrets})
	return res, start.URL, err
}

func vendor(t *testing.T, kv ...any) (*mockvendor.Server, *oauth2.Provider) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.OAuth2})
	u := idp.Start(t)
	m := base(append([]any{"authorizationUrl", u + mockvendor.OAuth2AuthorizePath + "?audience=api", "tokenUrl", u + mockvendor.OAuth2TokenPath}, kv...)...)
	return idp, build(t, m)
}

func TestSignInAndRefresh(t *testing.T) {
	idp, p := vendor(t, "additionalScopes", "write")
	res, startURL, err := flow(t, p, "read write")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(startURL, mockvendor.OAuth2AuthorizePath+"?audience=api&response_type=code&") || strings.Contains(startURL, "code_challenge") || strings.Contains(startURL, "nonce") {
		t.Errorf("authorize URL %s", startURL)
	}
	// No profile endpoint and no id_token: an empty profile.
	if res.Profile != (providers.Profile{}) || res.ProviderInfo.ExpiresInSeconds != 3600 || res.ProviderInfo.Scope != "read write" || !strings.HasPrefix(res.ProviderInfo.AccessToken, "mock-at-") {
		t.Errorf("result %+v", res)
	}
	if s := p.Scopes(); len(s.Required) != 0 || s.Persist || strings.Join(s.Additional, " ") != "write" {
		t.Errorf("scopes %+v", s)
	}
	if h := idp.RequestsTo(mockvendor.OAuth2TokenPath)[0].Header.Get("Authorization"); h != "" {
		t.Errorf("Basic sent without includeBasicAuth: %q", h)
	}
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "read"})
	if err != nil || r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || r.Session == nil || r.ProviderInfo.Scope != "read" {
		t.Fatalf("refresh: %+v %v", r, err)
	}
	// The old refresh token was rotated away: invalid_grant, the session has ended.
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "read"}); backstageerr.NameOf(err) != backstageerr.NameAuthentication {
		t.Errorf("rotated refresh token: %v", err)
	}
	idp.SetFault(mockvendor.Fault{TokenStatus: 503})
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: r.Session}); err == nil || err.Error() != "Failed to refresh access token (HTTP 503 server_error)" {
		t.Errorf("5xx on refresh: %v", err)
	}
}

func TestIncludeBasicAuthAndPKCE(t *testing.T) {
	idp, p := vendor(t, "includeBasicAuth", true, "pkce", true)
	res, startURL, err := flow(t, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(startURL, "&code_challenge_method=S256&state=st&") || strings.Contains(startURL, "scope=") {
		t.Errorf("authorize URL %s", startURL)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("backstage-client:backstage-secret"))
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); err != nil {
		t.Fatal(err)
	}
	for _, r := range idp.RequestsTo(mockvendor.OAuth2TokenPath) {
		if r.Header.Get("Authorization") != basic || r.Form.Get("client_secret") != "backstage-secret" {
			t.Errorf("%s: Basic %q, body secret %q", r.Form.Get("grant_type"), r.Header.Get("Authorization"), r.Form.Get("client_secret"))
		}
	}
}

func TestDisableRefresh(t *testing.T) {
	_, p := vendor(t, "disableRefresh", true)
	res, _, err := flow(t, p, "")
	if err != nil || res.Session != nil {
		t.Fatalf("disableRefresh kept a session: %s %v", res.Session, err)
	}
}

func TestSignInErrors(t *testing.T) {
	idp, p := vendor(t)
	for _, tc := range []struct {
		f    mockvendor.Fault
		want string
	}{
		{mockvendor.Fault{AuthorizeError: "access_denied", AuthorizeErrorDescription: "User said no"}, "Authentication rejected, User said no"},
		{mockvendor.Fault{AuthorizeError: "temporarily_unavailable"}, "Authentication failed, temporarily_unavailable"},
		{mockvendor.Fault{TokenStatus: 500}, "Authentication failed, Failed to obtain access token (HTTP 500 server_error)"},
	} {
		idp.SetFault(tc.f)
		if _, _, err := flow(t, p, ""); err == nil || backstageerr.MessageOf(err) != tc.want {
			t.Errorf("%+v: %v", tc.f, err)
		}
	}
}

// Against an OpenID Connect IdP: the id_token is used only when verified.
func TestIDToken(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{Personality: mockpalette.GenericOIDC})
	issuer := idp.Start(t)
	root := strings.TrimSuffix(issuer, idp.IssuerPath())
	e := idp.Endpoints()
	m := base("authorizationUrl", root+e.Authorize, "tokenUrl", root+e.Token)

	res, _, err := flow(t, build(t, m), "openid email")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{}) || res.ProviderInfo.IDToken == "" {
		t.Errorf("an unverified id_token filled the profile: %+v", res)
	}

	m["idTokenMetadataUrl"] = issuer
	p := build(t, m)
	res, startURL, err := flow(t, p, "openid email")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(startURL, "&nonce=") {
		t.Errorf("no nonce sent: %s", startURL)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"}) || res.Claims["sub"] != "u-alice-0001" {
		t.Errorf("verified profile %+v claims %v", res.Profile, res.Claims)
	}
	for name, f := range map[string]mockpalette.Fault{
		"bad signature": {BadSignature: true}, "another audience": {Audience: "other"}, "wrong nonce": {Nonce: ptr("forged")}, "alg none": {AlgNone: true},
	} {
		idp.SetFault(f)
		_, _, err := flow(t, p, "openid email")
		if err == nil || !strings.HasPrefix(backstageerr.MessageOf(err), "Authentication rejected, ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestUsernameResolver(t *testing.T) {
	ctx := context.Background()
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"resolvers": []any{map[string]any{"resolver": "usernameMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}}}), resolvers.NewSet(oauth2.Module.Resolvers...))
	if ps.Err() != nil {
		t.Fatal(ps.Err())
	}
	r := sc.Build(nil)
	e, _ := oauth2engine.New(oauth2engine.Config{ClientID: "c", AuthorizationURL: "https://a/x", TokenURL: "https://a/t"}, oauth2engine.Hooks{}, providers.Deps{})
	res := e.Result(&oauth2engine.Token{AccessToken: "x"}, &oauth2engine.FullProfile{}, map[string]any{"preferred_username": "Alice"})
	id, err := r.Resolve(ctx, resolvers.SignInInfo{Claims: res.Claims})
	if err != nil || id.UserEntityRef != "user:default/alice" {
		t.Fatalf("preferred_username: %+v %v", id, err)
	}
	_, err = r.Resolve(ctx, resolvers.SignInInfo{Claims: e.Result(&oauth2engine.Token{AccessToken: "x"}, &oauth2engine.FullProfile{}, nil).Claims})
	if err == nil || backstageerr.MessageOf(err) != "Oauth2 user profile does not contain a username" {
		t.Fatalf("no username: %v", err)
	}
}
