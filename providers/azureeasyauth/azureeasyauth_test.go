package azureeasyauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func appService(overrides map[string]string) func(string) string {
	env := map[string]string{
		EnvSKU: "PremiumV3", EnvAuthEnabled: "True", EnvDefaultProvider: "AzureActiveDirectory", EnvTokenStore: "true",
		EnvClientID: "backstage-client", EnvIssuer: "https://sts.windows.net/" + mockvendor.DefaultEntraTenant + "/v2.0",
	}
	for k, v := range overrides {
		if v == "-" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return func(k string) string { return env[k] }
}

type env struct {
	mock     *mockvendor.Server
	p        *Provider
	clock    *providertest.Clock
	keysDown atomic.Bool
}

func newEnv(t testing.TB, overrides map[string]string) *env {
	t.Helper()
	e := &env{clock: &providertest.Clock{}}
	e.mock = mockvendor.New(mockvendor.Options{Personality: mockvendor.EasyAuth, Now: e.clock.Now})
	client := providertest.VendorHosts(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.keysDown.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		e.mock.Handler().ServeHTTP(w, r)
	}))
	c, ps := Module.Parse(config.SectionFromMap(map[string]any{}))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	c.(*Config).getenv = appService(overrides)
	p, err := c.Build(providers.Deps{HTTPClient: client, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.p = p.(*Provider)
	return e
}

func (e *env) headers(t testing.TB, req mockvendor.EasyAuthRequest) map[string]string {
	t.Helper()
	h, err := e.mock.EasyAuthHeaders(req)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *env) auth(h map[string]string) (providers.ProxyResult, error) {
	r := httptest.NewRequest(http.MethodGet, "/api/auth/azureEasyAuth/refresh", nil)
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return e.p.AuthenticateRequest(context.Background(), r)
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		says      string
	}{
		{"not App Service", map[string]string{EnvSKU: "-"}, "Backstage is not running on Azure App Services"},
		{"auth off", map[string]string{EnvAuthEnabled: "false"}, "Azure App Services does not have authentication enabled"},
		{"not Entra ID", map[string]string{EnvDefaultProvider: "google"}, "Authentication provider is not Entra ID"},
		{"no token store", map[string]string{EnvTokenStore: "-"}, "Token Store is not enabled"},
		{"no client id", map[string]string{EnvClientID: "-"}, "WEBSITE_AUTH_CLIENT_ID is not set"},
		{"no issuer", map[string]string{EnvIssuer: "-"}, "WEBSITE_AUTH_OPENID_ISSUER is not set"},
		{"http issuer", map[string]string{EnvIssuer: "http://login.microsoftonline.com/" + mockvendor.DefaultEntraTenant + "/v2.0"}, "must be an https Entra ID issuer URL"},
		{"another host", map[string]string{EnvIssuer: "https://idp.example.com/" + mockvendor.DefaultEntraTenant + "/v2.0"}, "is not an Entra ID issuer"},
		{"tenant by domain", map[string]string{EnvIssuer: "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"}, "must name the tenant by its id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{getenv: appService(tt.overrides)}
			_, err := c.Build(providers.Deps{})
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Build = %v, want %q", err, tt.says)
			}
		})
	}
	env, err := readEnv(appService(map[string]string{EnvIssuer: "https://login.microsoftonline.us/" + strings.ToUpper(mockvendor.DefaultEntraTenant) + "/v2.0/"}))
	if err != nil || env.Authority != "https://login.microsoftonline.us" || env.Tenant != mockvendor.DefaultEntraTenant || env.ClientID != "backstage-client" {
		t.Fatalf("national cloud: %+v %v", env, err)
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, nil)
	h := e.headers(t, mockvendor.EasyAuthRequest{Login: "alice"})
	res, err := e.auth(h)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"}) {
		t.Fatalf("profile %+v", res.Profile)
	}
	out, _ := json.Marshal(res.ProviderInfo)
	if string(out) != `{"accessToken":"`+h[mockvendor.EasyAuthAccessTokenHeader]+`"}` {
		t.Fatalf("providerInfo %s", out)
	}
	if res.Claims["oid"] != "00000000-0000-4000-8000-000000001001" {
		t.Fatalf("claims %v", res.Claims)
	}
	// Only the ID token is needed; without the access token providerInfo is {}.
	res, err = e.auth(map[string]string{mockvendor.EasyAuthIDTokenHeader: h[mockvendor.EasyAuthIDTokenHeader]})
	if out, _ := json.Marshal(res.ProviderInfo); err != nil || string(out) != `{}` {
		t.Fatalf("without the access token: %s %v", out, err)
	}
	// bob has no name or email claim.
	res, err = e.auth(e.headers(t, mockvendor.EasyAuthRequest{Login: "bob"}))
	if err != nil || res.Profile != (providers.Profile{}) {
		t.Fatalf("bob: %+v %v", res.Profile, err)
	}
}

func TestRefused(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name   string
		req    mockvendor.EasyAuthRequest
		change func(h map[string]string)
		class  string
		says   string
	}{
		{"missing", mockvendor.EasyAuthRequest{}, func(h map[string]string) { delete(h, mockvendor.EasyAuthIDTokenHeader) }, backstageerr.NameAuthentication, "Missing x-ms-token-aad-id-token header"},
		{"not v2.0 (Backstage's answer)", mockvendor.EasyAuthRequest{Version: "1.0"}, nil, backstageerr.NameError, MsgNotV2},
		{"not a JWT", mockvendor.EasyAuthRequest{}, func(h map[string]string) { h[mockvendor.EasyAuthIDTokenHeader] = "abc" }, backstageerr.NameAuthentication, "Invalid x-ms-token-aad-id-token header"},
		{"unsigned", mockvendor.EasyAuthRequest{}, func(h map[string]string) {
			p := strings.Split(h[mockvendor.EasyAuthIDTokenHeader], ".")
			h[mockvendor.EasyAuthIDTokenHeader] = "eyJhbGciOiJub25lIn0." + p[1] + "."
		}, backstageerr.NameAuthentication, "not an accepted algorithm"},
		{"wrongly signed", mockvendor.EasyAuthRequest{BadSignature: true}, nil, backstageerr.NameAuthentication, "signature is invalid"},
		{"unknown kid", mockvendor.EasyAuthRequest{Kid: "rotated-away"}, nil, backstageerr.NameAuthentication, "key the issuer does not publish"},
		{"expired", mockvendor.EasyAuthRequest{ExpiresIn: -120}, nil, backstageerr.NameAuthentication, "has expired"},
		{"wrong aud", mockvendor.EasyAuthRequest{Audience: "another-app"}, nil, backstageerr.NameAuthentication, "audience"},
		{"wrong iss", mockvendor.EasyAuthRequest{Issuer: "https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555/v2.0"}, nil, backstageerr.NameAuthentication, "issuer"},
		{"another tenant", mockvendor.EasyAuthRequest{Tenant: "11111111-2222-4333-8444-555555555555"}, nil, backstageerr.NameAuthentication, "issuer"},
		{"principal id disagrees", mockvendor.EasyAuthRequest{PrincipalOID: "00000000-0000-4000-8000-000000009999"}, nil, backstageerr.NameAuthentication, "another object id"},
		{"principal claims disagree", mockvendor.EasyAuthRequest{PrincipalOID: "00000000-0000-4000-8000-000000009999"}, func(h map[string]string) { delete(h, mockvendor.EasyAuthPrincipalIDHeader) }, backstageerr.NameAuthentication, "another object id"},
		{"principal not base64", mockvendor.EasyAuthRequest{}, func(h map[string]string) { h[mockvendor.EasyAuthPrincipalHeader] = "%%%" }, backstageerr.NameAuthentication, "not base64"},
		{"principal of another idp", mockvendor.EasyAuthRequest{}, func(h map[string]string) { h[mockvendor.EasyAuthPrincipalIDPHeader] = "github" }, backstageerr.NameAuthentication, "another identity provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := e.headers(t, tt.req)
			if tt.change != nil {
				tt.change(h)
			}
			res, err := e.auth(h)
			providertest.WantError(t, err, tt.class, tt.says)
			if res.ProviderInfo != nil {
				t.Fatalf("providerInfo on failure")
			}
		})
	}
	// The principal header may be unpadded.
	h := e.headers(t, mockvendor.EasyAuthRequest{})
	b, _ := base64.StdEncoding.DecodeString(h[mockvendor.EasyAuthPrincipalHeader])
	h[mockvendor.EasyAuthPrincipalHeader] = base64.RawStdEncoding.EncodeToString(b)
	if _, err := e.auth(h); err != nil {
		t.Fatal(err)
	}
}

func TestMultiTenant(t *testing.T) {
	other := "11111111-2222-4333-8444-555555555555"
	e := newEnv(t, map[string]string{EnvIssuer: "https://login.microsoftonline.com/organizations/v2.0"})
	if _, err := e.auth(e.headers(t, mockvendor.EasyAuthRequest{})); err != nil {
		t.Fatal(err)
	}
	// The token's tenant must be its issuer's.
	_, err := e.auth(e.headers(t, mockvendor.EasyAuthRequest{Tenant: other}))
	providertest.WantError(t, err, backstageerr.NameAuthentication, "issuer")
	_, err = e.auth(e.headers(t, mockvendor.EasyAuthRequest{Tenant: consumersTenant, Issuer: "https://login.microsoftonline.com/" + consumersTenant + "/v2.0"}))
	providertest.WantError(t, err, backstageerr.NameAuthentication, "issuer")
}

func TestKeyOutage(t *testing.T) {
	e := newEnv(t, nil)
	e.keysDown.Store(true)
	_, err := e.auth(e.headers(t, mockvendor.EasyAuthRequest{}))
	providertest.WantError(t, err, backstageerr.NameServiceUnavailable, "Entra ID signing keys could not be fetched")
	e.keysDown.Store(false)
	e.clock.Advance(time.Minute)
	if _, err := e.auth(e.headers(t, mockvendor.EasyAuthRequest{})); err != nil {
		t.Fatal(err)
	}
	// Down again past the keys' age: the last good keys still verify.
	e.keysDown.Store(true)
	e.clock.Advance(keysMaxAge + time.Second)
	if _, err := e.auth(e.headers(t, mockvendor.EasyAuthRequest{})); err != nil {
		t.Fatalf("last good keys: %v", err)
	}
}

func TestResolvers(t *testing.T) {
	e := newEnv(t, nil)
	cat := providertest.Catalog{
		providertest.User("alice", map[string]string{UserIDAnnotation: "00000000-0000-4000-8000-000000001001"}),
	}
	res, err := e.auth(e.headers(t, mockvendor.EasyAuthRequest{Login: "alice"}))
	if err != nil {
		t.Fatal(err)
	}
	info := resolvers.SignInInfo{Email: res.Profile.Email, Claims: res.Claims}
	id, err := providertest.Chain(t, Module, cat, map[string]any{"resolver": NameIDMatchingUserEntityAnnotation}).Resolve(context.Background(), info)
	if err != nil || id.UserEntityRef != "user:default/alice" {
		t.Fatalf("%+v %v", id, err)
	}
	_, err = providertest.Chain(t, Module, cat, map[string]any{"resolver": NameIDMatchingUserEntityAnnotation}).Resolve(context.Background(), resolvers.SignInInfo{})
	if err == nil || err.Error() != MsgNoID {
		t.Fatalf("no oid: %v", err)
	}
	res, _ = e.auth(e.headers(t, mockvendor.EasyAuthRequest{Login: "bob"}))
	_, err = providertest.Chain(t, Module, cat, map[string]any{"resolver": NameIDMatchingUserEntityAnnotation}).Resolve(context.Background(), resolvers.SignInInfo{Claims: res.Claims})
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) {
		t.Fatalf("bob not in the catalog: %v", err)
	}
	id, err = providertest.Chain(t, Module, cat, map[string]any{"resolver": NameIDMatchingUserEntityAnnotation, "dangerouslyAllowSignInWithoutUserInCatalog": true}).
		Resolve(context.Background(), resolvers.SignInInfo{Claims: res.Claims})
	if err != nil || id.UserEntityRef != "user:default/00000000-0000-4000-8000-000000001002" {
		t.Fatalf("fallback: %+v %v", id, err)
	}
}
