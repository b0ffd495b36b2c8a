package openshift_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/openshift"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

func parse(t *testing.T, m map[string]any) (*openshift.Config, config.Problems) {
	return providertest.Parse[*openshift.Config](t, openshift.Module, m)
}

func envFor(base string) map[string]any {
	return map[string]any{
		"clientId": "backstage-client", "clientSecret": "backstage-secret",
		"authorizationUrl": base + mockvendor.OpenShiftAuthorizePath, "tokenUrl": base + mockvendor.OpenShiftTokenPath,
		"openshiftApiServerUrl": base + "/",
	}
}

func build(t *testing.T, m map[string]any, deps providers.Deps) *openshift.Provider {
	return providertest.Build[*openshift.Provider](t, openshift.Module, m, deps)
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, envFor("https://oauth.example.com"))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if cfg.APIServerURL != "https://oauth.example.com" {
		t.Errorf("trailing slash kept: %q", cfg.APIServerURL)
	}
	p, _ := cfg.Build(providers.Deps{})
	if s := p.(providers.Scoper).Scopes(); s.Persist || strings.Join(s.Required, " ") != "user:full" {
		t.Errorf("scopes %+v", s)
	}
	with := func(k string, v any) map[string]any {
		return providertest.With(envFor("https://oauth.example.com"), k, v)
	}
	providertest.ConfigProblems(t, openshift.Module, []providertest.ConfigProblem{
		{M: with("clientId", nil), Path: "clientId", Says: "missing required config value"},
		{M: with("clientSecret", nil), Path: "clientSecret", Says: "missing required config value"},
		{M: with("authorizationUrl", nil), Path: "authorizationUrl", Says: "missing required config value"},
		{M: with("tokenUrl", nil), Path: "tokenUrl", Says: "missing required config value"},
		{M: with("openshiftApiServerUrl", nil), Path: "openshiftApiServerUrl", Says: "missing required config value"},
		{M: with("tokenUrl", "oauth/token"), Path: "tokenUrl", Says: "absolute http(s) URL"},
		{M: with("openshiftApiServerUrl", "https://api.example.com:6443/?x=1"), Path: "openshiftApiServerUrl", Says: "without a query"},
		{M: with("openshiftApiServerUrl", "https://u:p@api.example.com"), Path: "openshiftApiServerUrl", Says: "user info"},
		{M: with("timeout", "0s"), Path: "timeout", Says: "greater than zero"},
	})
}

func TestTokenObjectName(t *testing.T) {
	// The name `oc logout` and the module derive for a token (sha256 of the part after
	// the prefix, unpadded base64url).
	if got := openshift.TokenObjectName("sha256~abc"); got != "sha256~ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" {
		t.Errorf("name %q", got)
	}
	for _, tok := range []string{"", "sha256~", "abcdefghijk"} {
		if got := openshift.TokenObjectName(tok); got != "" {
			t.Errorf("%q: name %q, want none", tok, got)
		}
	}
}

func TestSignInRefreshLogout(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.OpenShift, Now: clock})
	base := m.Start(t)
	p := build(t, envFor(base), providers.Deps{Now: clock})
	ctx := context.Background()

	res, err := providertest.VendorSignIn(t, p, http.DefaultClient, "user:info user:full")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{DisplayName: "alice"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "sha256~") || pi.Scope != "user:info user:full" || pi.ExpiresInSeconds != 86400 || pi.IDToken != "" {
		t.Errorf("providerInfo %+v", pi)
	}
	if !res.SessionExpiresAt.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("session ends %v, want with the access token", res.SessionExpiresAt)
	}
	// PKCE was sent (and checked by the mock at the token endpoint).
	if q := m.RequestsTo(mockvendor.OpenShiftAuthorizePath)[0].Query; q.Get("code_challenge_method") != "S256" {
		t.Errorf("authorize query %v", q)
	}
	if tr := m.RequestsTo(mockvendor.OpenShiftTokenPath)[0]; tr.Form.Get("client_secret") != "backstage-secret" {
		t.Errorf("client_secret_post expected: %v", tr.Form)
	}
	if ur := m.RequestsTo(mockvendor.OpenShiftUserPath)[0]; ur.Header.Get("Authorization") != "Bearer "+pi.AccessToken {
		t.Errorf("profile request auth %q", ur.Header.Get("Authorization"))
	}

	// Refresh re-checks the same token; no token request.
	m.ResetRequests()
	rr, err := p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: "user:full"})
	if err != nil {
		t.Fatal(err)
	}
	if rr.ProviderInfo.AccessToken != pi.AccessToken || rr.Profile.DisplayName != "alice" || rr.Session != nil || rr.ProviderInfo.ExpiresInSeconds != 0 {
		t.Errorf("refresh %+v", rr)
	}
	if len(m.RequestsTo(mockvendor.OpenShiftTokenPath)) != 0 {
		t.Error("refresh called the token endpoint")
	}

	// Logout deletes the token; a refresh after it is refused as Backstage means it.
	if err := p.Logout(ctx, res.Session); err != nil {
		t.Fatal(err)
	}
	dr := m.RequestsTo("/apis/oauth.openshift.io/v1/oauthaccesstokens/" + openshift.TokenObjectName(pi.AccessToken))
	if len(dr) != 1 || dr[0].Method != http.MethodDelete {
		t.Fatalf("delete requests %+v", dr)
	}
	_, err = p.Refresh(ctx, providers.RefreshRequest{Session: res.Session, Scope: "user:full"})
	if err == nil || err.Error() != oauth2engine.MsgInvalidAccessToken {
		t.Errorf("refresh after logout: %v", err)
	}
	// A second logout finds the token gone (401): not an error.
	if err := p.Logout(ctx, res.Session); err != nil {
		t.Errorf("second logout: %v", err)
	}
}

func TestVendorErrors(t *testing.T) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.OpenShift})
	base := m.Start(t)
	p := build(t, envFor(base), providers.Deps{})
	for _, tc := range []struct {
		fault mockvendor.Fault
		want  string
	}{
		{mockvendor.Fault{AuthorizeError: "access_denied"}, "Authentication rejected, The resource owner or authorization server denied the request."},
		{mockvendor.Fault{TokenStatus: 503}, "Authentication failed, Failed to obtain access token (HTTP 503)"},
		{mockvendor.Fault{ProfileStatus: 500}, "Authentication failed, Failed to fetch user profile (HTTP 500)"},
	} {
		m.SetFault(tc.fault)
		_, err := providertest.VendorSignIn(t, p, http.DefaultClient, "user:full")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.fault, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("upstream body leaked: %v", err)
		}
	}
	// A bad code: the OAuth server's invalid_grant.
	_, err := p.Authenticate(context.Background(), providers.CallbackRequest{Params: map[string][]string{"code": {"nope"}}, CallbackURL: providertest.CallbackURL, Secrets: providertest.NewSecrets()})
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("bad code: %v", err)
	}
	// A timeout.
	p2 := build(t, func() map[string]any { e := envFor(base); e["timeout"] = "50ms"; return e }(), providers.Deps{})
	m.SetFault(mockvendor.Fault{TokenDelay: time.Second})
	if _, err := providertest.VendorSignIn(t, p2, http.DefaultClient, "user:full"); err == nil || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Errorf("timeout: %v", err)
	}
}

func TestProfileFromUser(t *testing.T) {
	fp, err := openshift.ProfileFromUser(map[string]any{"metadata": map[string]any{"name": "kube:admin", "uid": "u-1"}, "fullName": "Kube Admin"})
	if err != nil || fp.DisplayName != "kube:admin" || fp.ID != "u-1" {
		t.Errorf("%+v %v", fp, err)
	}
	for _, raw := range []map[string]any{{}, {"metadata": map[string]any{"name": 3}}, {"metadata": "x"}} {
		if _, err := openshift.ProfileFromUser(raw); err == nil {
			t.Errorf("%v accepted", raw)
		}
	}
}

func TestDisplayNameMatchingUserEntityName(t *testing.T) {
	ctx := context.Background()
	cat := providertest.Catalog{providertest.User("alice", nil, "group:default/team-a")}
	signIn := func(name string) providers.Result {
		e, _ := oauth2engine.New(oauth2engine.Config{ClientID: "c", AuthorizationURL: "https://a/x", TokenURL: "https://a/t"}, oauth2engine.Hooks{}, providers.Deps{})
		return e.Result(&oauth2engine.Token{AccessToken: "x"}, &oauth2engine.FullProfile{DisplayName: name}, nil)
	}
	entry := map[string]any{"resolver": "displayNameMatchingUserEntityName"}
	id, err := providertest.Chain(t, openshift.Module, cat, entry).Resolve(ctx, providertest.SignInInfo(signIn("alice")))
	if err != nil || id.UserEntityRef != "user:default/alice" || strings.Join(id.OwnershipEntityRefs, ",") != "user:default/alice,group:default/team-a" {
		t.Errorf("found: %+v %v", id, err)
	}
	_, err = providertest.Chain(t, openshift.Module, cat, entry).Resolve(ctx, providertest.SignInInfo(signIn("bob")))
	if err == nil || !strings.Contains(err.Error(), "unable to resolve user identity") || !strings.Contains(err.Error(), "looked up user:default/bob") {
		t.Errorf("not found: %v", err)
	}
	id, err = providertest.Chain(t, openshift.Module, cat, map[string]any{"resolver": "displayNameMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, providertest.SignInInfo(signIn("bob")))
	if err != nil || id.UserEntityRef != "user:default/bob" {
		t.Errorf("fallback: %+v %v", id, err)
	}
	_, err = providertest.Chain(t, openshift.Module, cat, entry).Resolve(ctx, providertest.SignInInfo(signIn("")))
	if err == nil || err.Error() != openshift.MsgNoDisplayName {
		t.Errorf("no display name: %v", err)
	}
	// Chained: a NotFound moves on to the next resolver.
	id, err = providertest.Chain(t, openshift.Module, cat, entry, map[string]any{"resolver": "displayNameMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, providertest.SignInInfo(signIn("carol")))
	if err != nil || id.UserEntityRef != "user:default/carol" {
		t.Errorf("chained: %+v %v", id, err)
	}
}
