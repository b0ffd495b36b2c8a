package google_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/google"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

const scope = "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile"

var users = []mockvendor.User{
	{ID: 1001, Login: "alice", Name: "Alice Smith", GivenName: "Alice", FamilyName: "Smith", Email: "alice@example.com", HostedDomain: "example.com"},
	{ID: 1002, Login: "bob"},
	{ID: 1003, Login: "carol", Name: "Carol", Email: "carol@example.com", EmailVerified: providertest.False()},
}

func parse(t testing.TB, m map[string]any) (*google.Config, config.Problems) {
	return providertest.Parse[*google.Config](t, google.Module, m)
}

// setup starts the Google mock behind Google's hosts and a provider (timeout 1s)
// reaching it.
func setup(t testing.TB) (*mockvendor.Server, *google.Provider, *http.Client) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.Google, Users: users})
	client := providertest.VendorHosts(t, idp.Handler())
	p := providertest.Build[*google.Provider](t, google.Module, providertest.TestClient(nil), providers.Deps{HTTPClient: client})
	return idp, p, client
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "additionalScopes": "https://www.googleapis.com/auth/calendar.readonly"})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.(providers.Scoper).Scopes(); s.Persist || strings.Join(s.Required, " ") != scope || strings.Join(s.Additional, " ") != "https://www.googleapis.com/auth/calendar.readonly" {
		t.Errorf("scopes %+v", s)
	}
	providertest.ConfigProblems(t, google.Module, []providertest.ConfigProblem{
		{M: map[string]any{"clientSecret": "s"}, Path: "clientId", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id"}, Path: "clientSecret", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "timeout": "0s"}, Path: "timeout", Says: "greater than zero"},
	})
}

func TestRegistryDecode(t *testing.T) {
	reg, err := providers.NewRegistry(google.Module)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(resolver string) map[string]config.Section {
		return map[string]config.Section{"google": config.SectionFromMap(map[string]any{"development": map[string]any{
			"clientId": "id", "clientSecret": "s",
			"signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": resolver}}},
		}})}
	}
	for _, name := range []string{"emailMatchingUserEntityAnnotation", "emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"} {
		if _, ps := reg.Decode(sec(name)); ps.Err() != nil {
			t.Errorf("%s: %v", name, ps.Err())
		}
	}
	if _, ps := reg.Decode(sec("usernameMatchingUserEntityName")); ps.Err() == nil || !strings.Contains(ps.Err().Error(), "Sign-in resolver 'usernameMatchingUserEntityName' is not available") {
		t.Errorf("a resolver Google does not register: %v", ps)
	}
}

func TestAuthorizeURL(t *testing.T) {
	_, p, _ := setup(t)
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: scope, State: "st", CallbackURL: providertest.CallbackURL,
		Secrets: providers.FlowSecrets{Nonce: "n-1", PKCEVerifier: strings.Repeat("v", 43)}})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://accounts.google.com/o/oauth2/v2/auth?access_type=offline&prompt=consent&include_granted_scopes=true&response_type=code&redirect_uri=" +
		url.QueryEscape(providertest.CallbackURL) + "&scope=openid%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.profile&code_challenge="
	if !strings.HasPrefix(start.URL, want) || !strings.HasSuffix(start.URL, "&code_challenge_method=S256&state=st&nonce=n-1&client_id=backstage-client") {
		t.Errorf("authorize URL\n%s\nwant prefix\n%s", start.URL, want)
	}
}

func TestSignIn(t *testing.T) {
	idp, p, client := setup(t)
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://lh3.googleusercontent.com/a/ACg8oc100000000000000001001=s96-c", DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "ya29.") || pi.ExpiresInSeconds != 3599 || pi.Scope != scope || strings.Count(pi.IDToken, ".") != 2 {
		t.Errorf("providerInfo %+v", pi)
	}
	if fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res)); fp.ID != "100000000000000001001" || fp.Raw["hd"] != "example.com" {
		t.Errorf("full profile %+v", fp)
	}
	// The verified ID token's claims are there for resolvers.
	if res.Claims["iss"] != "https://accounts.google.com" || res.Claims["azp"] != "backstage-client" {
		t.Errorf("claims %v", res.Claims)
	}
	s, err := oauth2engine.DecodeSession(res.Session)
	if err != nil || !strings.HasPrefix(s.RefreshToken, "1//0") {
		t.Errorf("session %+v %v", s, err)
	}
	tr := idp.RequestsTo(mockvendor.GoogleTokenPath)[0]
	if tr.Form.Get("client_secret") != "backstage-secret" || tr.Form.Get("code_verifier") == "" || tr.Form.Get("grant_type") != "authorization_code" {
		t.Errorf("token request %v", tr.Form)
	}
	ui := idp.RequestsTo(mockvendor.GoogleUserInfoPath)[0]
	if ui.Header.Get("Authorization") != "Bearer "+pi.AccessToken || ui.Query.Get("access_token") != "" {
		t.Errorf("the access token must go in the header only: %v %v", ui.Header, ui.Query)
	}
}

func TestEmailVerification(t *testing.T) {
	idp, p, client := setup(t)
	// Google says carol's email is unverified: it is dropped, from userinfo and the
	// ID token alike.
	idp.SetFault(mockvendor.Fault{Login: "carol"})
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile.Email != "" || res.Profile.DisplayName != "Carol" {
		t.Errorf("profile %+v", res.Profile)
	}
	for raw, want := range map[any]bool{true: true, "true": true, false: false, "false": false, "yes": false} {
		fp := google.ProfileFromUserInfo(map[string]any{"sub": "1", "email": "x@example.com", "email_verified": raw})
		if got := *fp.Emails[0].Verified; got != want {
			t.Errorf("email_verified %v: verified %v", raw, got)
		}
	}
	if fp := google.ProfileFromUserInfo(map[string]any{"sub": "1", "email": "x@example.com"}); fp.Emails[0].Verified != nil {
		t.Error("an absent email_verified says nothing")
	}
}

// Google's ID tokens are verified as oidc verifies them; the scheme-less issuer is
// Google's own.
func TestIDToken(t *testing.T) {
	idp, p, client := setup(t)
	for _, tc := range []struct {
		f    mockvendor.Fault
		want string
	}{
		{mockvendor.Fault{IDTokenIssuer: "accounts.google.com"}, ""},
		{mockvendor.Fault{BadSignature: true}, "Authentication rejected, the ID token signature could not be verified"},
		{mockvendor.Fault{IDTokenIssuer: "https://accounts.evil.example"}, "Authentication rejected, the ID token issuer"},
		{mockvendor.Fault{IDTokenIssuer: "evil.example"}, "Authentication rejected, the ID token issuer"},
		{mockvendor.Fault{IDTokenAudience: "another-client"}, "Authentication rejected, the ID token audience does not include this client"},
	} {
		idp.SetFault(tc.f)
		_, err := providertest.VendorSignIn(t, p, client, scope)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.f, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(backstageerr.MessageOf(err), tc.want)):
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
	}
	// A nonce other than ours.
	secrets := providertest.NewSecrets()
	params, err := providertest.VendorAuthorize(t, p, client, scope, secrets)
	if err != nil {
		t.Fatal(err)
	}
	secrets.Nonce = providertest.NewSecrets().Nonce
	_, err = p.Authenticate(context.Background(), providers.CallbackRequest{Params: params, CallbackURL: providertest.CallbackURL, Secrets: secrets})
	if err == nil || !strings.Contains(err.Error(), "nonce does not match") {
		t.Errorf("another sign-in's nonce: %v", err)
	}
}

func TestRefreshAndLogout(t *testing.T) {
	idp, p, client := setup(t)
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if r.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || !strings.HasPrefix(r.ProviderInfo.AccessToken, "ya29.") || r.ProviderInfo.IDToken == "" ||
		r.Session != nil || r.Profile.Email != "alice@example.com" {
		t.Errorf("refresh: a new access token, the refresh token kept (Google does not rotate it): %+v", r)
	}
	if got := idp.RequestsTo(mockvendor.GoogleTokenPath)[1].Form; got.Get("grant_type") != "refresh_token" || got.Get("scope") != scope {
		t.Errorf("refresh grant %v", got)
	}

	if err := p.Logout(ctx, res.Session); err != nil {
		t.Fatal(err)
	}
	rv := idp.RequestsTo(mockvendor.GoogleRevokePath)
	s, _ := oauth2engine.DecodeSession(res.Session)
	if len(rv) != 1 || rv[0].Method != http.MethodPost || rv[0].Form.Get("token") != s.RefreshToken || rv[0].Query.Get("token") != "" {
		t.Fatalf("revocation: %+v (the token goes in the body)", rv)
	}
	// The grant has ended at Google.
	_, err = p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: scope})
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), "(invalid_grant)") {
		t.Errorf("refresh after revocation: %v", err)
	}
	// Revoking again fails at Google (400): the error is for the router's log.
	if err := p.Logout(ctx, res.Session); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("a failed revocation: %v", err)
	}
	idp.SetFault(mockvendor.Fault{RevokeStatus: 503})
	if err := p.Logout(ctx, res.Session); err == nil || strings.Contains(err.Error(), "canary") {
		t.Errorf("revocation 503: %v", err)
	}
	if err := p.Logout(ctx, nil); err != nil {
		t.Errorf("no session, nothing to revoke: %v", err)
	}
}

func TestVendorErrors(t *testing.T) {
	idp, p, client := setup(t)
	for _, tc := range []struct {
		f    mockvendor.Fault
		want string
	}{
		{mockvendor.Fault{AuthorizeError: "access_denied"}, "Authentication rejected, access_denied"},
		{mockvendor.Fault{TokenStatus: 502}, "Authentication failed, Failed to obtain access token (HTTP 502)"},
		{mockvendor.Fault{TokenDelay: 3 * time.Second}, "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{mockvendor.Fault{ProfileStatus: 500}, "Authentication failed, Failed to fetch user profile (HTTP 500)"},
	} {
		idp.SetFault(tc.f)
		_, err := providertest.VendorSignIn(t, p, client, scope)
		if msg := backstageerr.MessageOf(err); msg != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, msg, tc.want)
		}
		idp.ClearFault()
	}
	_, err := p.Authenticate(context.Background(), providers.CallbackRequest{Params: url.Values{"code": {"4/0Abogus"}}, CallbackURL: providertest.CallbackURL, Secrets: providertest.NewSecrets()})
	if msg := backstageerr.MessageOf(err); msg != "Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)" {
		t.Errorf("bad code: %q", msg)
	}
}

// The mock's ID tokens are Google-shaped (checked with an independent parser).
func TestMockIDTokenShape(t *testing.T) {
	_, p, client := setup(t)
	res, err := providertest.VendorSignIn(t, p, client, scope)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(res.ProviderInfo.IDToken, claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iss", "azp", "aud", "sub", "email", "email_verified", "at_hash", "nonce", "name", "picture", "given_name", "family_name", "iat", "exp", "hd"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("ID token without %s: %v", k, claims)
		}
	}
}
