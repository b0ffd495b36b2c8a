package okta_test

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
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/okta"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

const scope = "openid email profile offline_access"

var users = []mockvendor.User{
	{ID: 1001, Login: "alice", Name: "Alice Smith", GivenName: "Alice", FamilyName: "Smith", Email: "alice@example.com", AvatarURL: "https://okta.example/alice.png"},
	{ID: 1002, Login: "bob"},
	{ID: 1003, Login: "carol", Name: "Carol", Email: "carol@example.com", EmailVerified: providertest.False()},
}

func parse(t testing.TB, m map[string]any) (*okta.Config, config.Problems) {
	return providertest.Parse[*okta.Config](t, okta.Module, m)
}

// setup starts the Okta mock on loopback and a provider (timeout 1s) for its org
// authorization server, or the custom one authServer names.
func setup(t testing.TB, extra map[string]any) (*mockvendor.Server, *okta.Provider, string) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.Okta, Users: users})
	base := idp.Start(t)
	m := providertest.TestClient(map[string]any{"audience": base})
	maps.Copy(m, extra)
	p := providertest.Build[*okta.Provider](t, okta.Module, m, providers.Deps{})
	return idp, p, base
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s"})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if cfg.Base != "https://okta.com/oauth2/v1" || cfg.Issuer != "https://okta.com" {
		t.Errorf("default audience: %+v", cfg)
	}
	// An empty authServerId is the org server, as in Backstage.
	if cfg, ps = parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "audience": "", "authServerId": ""}); ps.Err() != nil || cfg.Base != "https://okta.com/oauth2/v1" {
		t.Errorf("empty audience and authServerId: %+v %v", cfg, ps.Err())
	}
	cfg, ps = parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "audience": "https://acme.okta.com/", "authServerId": "default", "additionalScopes": "groups"})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if cfg.Base != "https://acme.okta.com/oauth2/default/v1" || cfg.Issuer != "https://acme.okta.com/oauth2/default" {
		t.Errorf("custom server: %+v", cfg)
	}
	p, err := cfg.Build(providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.(providers.Scoper).Scopes(); s.Persist || strings.Join(s.Required, " ") != scope || strings.Join(s.Additional, " ") != "groups" {
		t.Errorf("scopes %+v", s)
	}
	for _, tc := range []struct {
		m          map[string]any
		path, says string
	}{
		{map[string]any{"clientSecret": "s"}, "clientId", "missing required config value"},
		{map[string]any{"clientId": "id"}, "clientSecret", "missing required config value"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "audience": "acme.okta.com"}, "audience",
			`The provided audience "acme.okta.com" is not a valid URL. It must start with "https://" or "http://".`},
		{map[string]any{"clientId": "id", "clientSecret": "s", "audience": "https://acme.okta.com/oauth2"}, "audience", "scheme and host only"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "audience": "https://u:p@acme.okta.com"}, "audience", "user info"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "authServerId": "../x"}, "authServerId", "must be an authorization server id"},
		{map[string]any{"clientId": "id", "clientSecret": "s", "timeout": "0s"}, "timeout", "greater than zero"},
	} {
		if _, ps := parse(t, tc.m); !providertest.HasProblem(ps, tc.path, tc.says) {
			t.Errorf("%v: want a problem at %s saying %q, got %v", tc.m, tc.path, tc.says, ps.Errors())
		}
	}
}

func TestRegistryDecode(t *testing.T) {
	providertest.RegistryResolvers(t, okta.Module, map[string]any{"clientId": "id", "clientSecret": "s"},
		[]string{"emailMatchingUserEntityAnnotation", "emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"},
		[]string{"usernameMatchingUserEntityName"})
}

func TestAuthorizeURL(t *testing.T) {
	_, p, base := setup(t, map[string]any{"idp": "0oa1idp"})
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: scope, State: "st", CallbackURL: providertest.CallbackURL,
		Secrets: providers.FlowSecrets{Nonce: "n-1", PKCEVerifier: strings.Repeat("v", 43)}})
	if err != nil {
		t.Fatal(err)
	}
	want := base + "/oauth2/v1/authorize?idp=0oa1idp&scope=openid%20email%20profile%20offline_access&response_type=code&redirect_uri=" +
		url.QueryEscape(providertest.CallbackURL) + "&code_challenge="
	if !strings.HasPrefix(start.URL, want) || !strings.HasSuffix(start.URL, "&code_challenge_method=S256&state=st&nonce=n-1&client_id=backstage-client") {
		t.Errorf("authorize URL\n%s\nwant prefix\n%s", start.URL, want)
	}
}

func TestSignIn(t *testing.T) {
	for _, server := range []string{"", "default"} {
		t.Run("authServerId="+server, func(t *testing.T) {
			extra := map[string]any{}
			if server != "" {
				extra["authServerId"] = server
			}
			idp, p, base := setup(t, extra)
			res, err := providertest.VendorSignIn(t, p, http.DefaultClient, scope)
			if err != nil {
				t.Fatal(err)
			}
			// The picture comes from the verified ID token only.
			if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://okta.example/alice.png", DisplayName: "Alice Smith"}) {
				t.Errorf("profile %+v", res.Profile)
			}
			pi := res.ProviderInfo
			if pi.ExpiresInSeconds != 3600 || pi.Scope != scope || strings.Count(pi.IDToken, ".") != 2 || strings.Count(pi.AccessToken, ".") != 2 {
				t.Errorf("providerInfo %+v", pi)
			}
			iss := base
			prefix := "/oauth2/v1"
			if server != "" {
				iss, prefix = base+"/oauth2/"+server, "/oauth2/"+server+"/v1"
			}
			if res.Claims["iss"] != iss || res.Claims["preferred_username"] != "alice@example.com" {
				t.Errorf("claims %v", res.Claims)
			}
			if fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res)); fp.ID != "00u00000000000001001" || fp.Username != "alice@example.com" {
				t.Errorf("full profile %+v", fp)
			}
			tr := idp.RequestsTo(prefix + "/token")[0]
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("backstage-client:backstage-secret"))
			if tr.Header.Get("Authorization") != basic || tr.Form.Has("client_secret") || tr.Form.Get("code_verifier") == "" {
				t.Errorf("token request %v %v", tr.Header, tr.Form)
			}
			ui := idp.RequestsTo(prefix + "/userinfo")[0]
			if ui.Method != http.MethodPost || ui.Header.Get("Authorization") != "Bearer "+pi.AccessToken {
				t.Errorf("userinfo request %s %v", ui.Method, ui.Header)
			}
		})
	}
}

func TestEmailVerification(t *testing.T) {
	idp, p, _ := setup(t, nil)
	idp.SetFault(mockvendor.Fault{Login: "carol"})
	res, err := providertest.VendorSignIn(t, p, http.DefaultClient, scope)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile.Email != "" || res.Profile.DisplayName != "Carol" {
		t.Errorf("an email Okta says is unverified: %+v", res.Profile)
	}
	// bob has no name: displayName is the username, as passport's transform does.
	idp.SetFault(mockvendor.Fault{Login: "bob"})
	if res, err = providertest.VendorSignIn(t, p, http.DefaultClient, scope); err != nil || res.Profile.DisplayName != "bob@example.com" || res.Profile.Email != "" {
		t.Errorf("bob: %+v %v", res.Profile, err)
	}
}

func TestIDToken(t *testing.T) {
	idp, p, _ := setup(t, nil)
	for _, tc := range []struct {
		f    mockvendor.Fault
		want string
	}{
		{mockvendor.Fault{BadSignature: true}, "Authentication rejected, the ID token signature could not be verified"},
		{mockvendor.Fault{IDTokenIssuer: "https://evil.okta.com"}, "Authentication rejected, the ID token issuer"},
		{mockvendor.Fault{IDTokenAudience: "another-client"}, "Authentication rejected, the ID token audience does not include this client"},
	} {
		idp.SetFault(tc.f)
		_, err := providertest.VendorSignIn(t, p, http.DefaultClient, scope)
		if err == nil || !strings.HasPrefix(backstageerr.MessageOf(err), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
	}
	if err := providertest.ForeignNonce(t, p, http.DefaultClient, scope); err == nil || !strings.Contains(err.Error(), "nonce does not match") {
		t.Errorf("another sign-in's nonce: %v", err)
	}
}

func TestRefresh(t *testing.T) {
	idp, p, _ := setup(t, nil)
	res, err := providertest.VendorSignIn(t, p, http.DefaultClient, scope)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || r.ProviderInfo.IDToken == "" || r.Profile.Email != "alice@example.com" || r.Session != nil {
		t.Errorf("refresh: %+v", r)
	}
	if got := idp.RequestsTo(mockvendor.OktaTokenPath)[1].Form; got.Get("grant_type") != "refresh_token" || got.Get("scope") != scope {
		t.Errorf("refresh grant %v", got)
	}
	idp.RevokeUser("alice")
	_, err = p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: scope})
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "(invalid_grant)") {
		t.Errorf("refresh after revocation: %v", err)
	}
	if _, ok := any(p).(providers.Logouter); ok {
		t.Error("Okta's module calls nothing on logout")
	}
}

func TestVendorErrors(t *testing.T) {
	idp, p, _ := setup(t, nil)
	providertest.VendorErrors(t, idp, p, http.DefaultClient, scope, []providertest.VendorError{
		{Fault: mockvendor.Fault{AuthorizeError: "access_denied"}, Want: "Authentication rejected, User is not assigned to the client application."},
		{Fault: mockvendor.Fault{TokenStatus: 502}, Want: "Authentication failed, Failed to obtain access token (HTTP 502 server_error)"},
		{Fault: mockvendor.Fault{TokenDelay: 3 * time.Second}, Want: "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{Fault: mockvendor.Fault{ProfileStatus: 500}, Want: "Authentication failed, Failed to fetch user profile (HTTP 500 server_error)"},
	})
	providertest.BadCode(t, p, "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)")
}

// The org URL is trimmed before the endpoints are derived from it: trailing white
// space once made Validate dereference a nil URL (a panic); an empty query or fragment
// is refused.
func TestAudienceTrimmedOrRefused(t *testing.T) {
	for _, a := range []string{"https://acme.okta.com ", "https://acme.okta.com/ "} {
		cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "audience": a})
		if ps.Err() != nil || cfg.Audience != "https://acme.okta.com" || cfg.Base != "https://acme.okta.com/oauth2/v1" {
			t.Errorf("%q: %+v %v", a, cfg, ps.Errors())
		}
	}
	for _, a := range []string{"https://acme.okta.com?", "https://acme.okta.com#"} {
		if _, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "audience": a}); !providertest.HasProblem(ps, "audience", "scheme and host only") {
			t.Errorf("%q: %v", a, ps.Errors())
		}
	}
}
