package bitbucketserver_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/bitbucketserver"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

const host = "bitbucket.example.com"

var users = []mockvendor.User{
	{ID: 101, Login: "alice", Name: "Alice Smith", Email: "alice@example.com"},
	{ID: 102, Login: "bob"},
	{ID: 103, Login: "carol", Name: "Carol", Email: "carol+dev@example.com"},
}

func parse(t testing.TB, m map[string]any) (*bitbucketserver.Config, config.Problems) {
	return providertest.Parse[*bitbucketserver.Config](t, bitbucketserver.Module, m)
}

// setup starts the Bitbucket Server mock (behind wrap, when set) as https://<host> and
// a provider (timeout 1s) reaching it.
func setup(t testing.TB, wrap func(http.Handler) http.Handler) (*mockvendor.Server, *bitbucketserver.Provider, *http.Client) {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.BitbucketServer, Users: users})
	var h http.Handler = idp.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	client := providertest.VendorHosts(t, h)
	p := providertest.Build[*bitbucketserver.Provider](t, bitbucketserver.Module, map[string]any{"clientId": "backstage-client", "clientSecret": "backstage-secret", "host": host, "timeout": "1s"}, providers.Deps{HTTPClient: client})
	return idp, p, client
}

func TestConfig(t *testing.T) {
	cfg, ps := parse(t, map[string]any{"clientId": "id", "clientSecret": "s", "host": "bitbucket.example.com:7990", "additionalScopes": "REPO_READ"})
	if err := ps.Err(); err != nil || cfg.BaseURL != "https://bitbucket.example.com:7990" {
		t.Fatalf("%+v %v", cfg, err)
	}
	p, _ := cfg.Build(providers.Deps{})
	if s := p.(providers.Scoper).Scopes(); s.Persist || len(s.Required) != 0 || strings.Join(s.Additional, " ") != "REPO_READ" {
		t.Errorf("scopes %+v", s)
	}
	providertest.ConfigProblems(t, bitbucketserver.Module, []providertest.ConfigProblem{
		{M: map[string]any{"clientId": "id", "clientSecret": "s"}, Path: "host", Says: "missing required config value"},
		{M: map[string]any{"clientSecret": "s", "host": host}, Path: "clientId", Says: "missing required config value"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "host": "https://bitbucket.example.com"}, Path: "host", Says: "host name with an optional port"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "host": "bitbucket.example.com/bitbucket"}, Path: "host", Says: "host name"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "host": "u:p@bitbucket.example.com"}, Path: "host", Says: "host name"},
		{M: map[string]any{"clientId": "id", "clientSecret": "s", "host": "bitbucket.example.com?x"}, Path: "host", Says: "host name"},
	})
	reg, _ := providers.NewRegistry(bitbucketserver.Module)
	sec := func(resolver string) map[string]config.Section {
		return map[string]config.Section{"bitbucketServer": config.SectionFromMap(map[string]any{"development": map[string]any{
			"clientId": "id", "clientSecret": "s", "host": host, "signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": resolver}}},
		}})}
	}
	for _, name := range []string{"emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"} {
		if _, ps := reg.Decode(sec(name)); ps.Err() != nil {
			t.Errorf("%s: %v", name, ps.Err())
		}
	}
	// Listed in the module's schema, never registered: a start-up error, as in Backstage.
	for _, name := range []string{"userIdMatchingUserEntityAnnotation", "usernameMatchingUserEntityAnnotation"} {
		if _, ps := reg.Decode(sec(name)); ps.Err() == nil || !strings.Contains(ps.Err().Error(), "Sign-in resolver '"+name+"' is not available") {
			t.Errorf("%s: %v", name, ps.Err())
		}
	}
}

func TestSignInAndRefresh(t *testing.T) {
	idp, p, client := setup(t, nil)
	start, _ := p.Start(context.Background(), providers.StartRequest{Scope: "PROJECT_ADMIN", State: "st", CallbackURL: providertest.CallbackURL, Secrets: providertest.NewSecrets()})
	if want := "https://" + host + "/rest/oauth2/latest/authorize?response_type=code&redirect_uri=" + url.QueryEscape(providertest.CallbackURL) + "&scope=PROJECT_ADMIN&state=st&client_id=backstage-client"; start.URL != want {
		t.Errorf("authorize URL\n%s\nwant\n%s", start.URL, want)
	}
	res, err := providertest.VendorSignIn(t, p, client, "PROJECT_ADMIN")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://" + host + "/users/alice/avatar.png?s=256&v=1533124800000", DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "BBDC-") || pi.Scope != "PROJECT_ADMIN" || pi.ExpiresInSeconds != 3600 {
		t.Errorf("providerInfo %+v", pi)
	}
	if fp := oauth2engine.FullProfileOf(providertest.SignInInfo(res)); fp.ID != "101" || fp.Username != "alice" {
		t.Errorf("full profile %+v", fp)
	}
	if w := idp.RequestsTo(mockvendor.BitbucketServerWhoAmIPath)[0]; w.Header.Get("Authorization") != "Bearer "+pi.AccessToken {
		t.Errorf("whoami %v", w.Header)
	}
	if u := idp.RequestsTo("/users/alice")[0]; u.Query.Get("avatarSize") != "256" || u.Header.Get("Authorization") != "Bearer "+pi.AccessToken {
		t.Errorf("user request %v %v", u.Query, u.Header)
	}
	if tr := idp.RequestsTo(mockvendor.BitbucketServerTokenPath)[0]; tr.Form.Get("client_secret") != "backstage-secret" || tr.Header.Get("Authorization") != "" {
		t.Errorf("token request %v %v", tr.Form, tr.Header)
	}
	s, _ := oauth2engine.DecodeSession(res.Session)
	r, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "PROJECT_ADMIN"})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := oauth2engine.DecodeSession(r.Session)
	if r.ProviderInfo.AccessToken == pi.AccessToken || s2.RefreshToken == s.RefreshToken || r.Profile.Email != "alice@example.com" {
		t.Errorf("refresh %+v %+v", r.ProviderInfo, s2)
	}
	if n := len(idp.RequestsTo(mockvendor.BitbucketServerWhoAmIPath)); n != 2 {
		t.Errorf("whoami asked %d times, want sign-in and refresh", n)
	}
	idp.RevokeUser("alice")
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: r.Session, Scope: "PROJECT_ADMIN"}); backstageerr.NameOf(err) != backstageerr.NameAuthentication {
		t.Errorf("revoked: %v", err)
	}
}

func TestProfileErrors(t *testing.T) {
	var mode string
	_, p, client := setup(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case mode == "no-header" && r.URL.Path == mockvendor.BitbucketServerWhoAmIPath:
				w.WriteHeader(http.StatusOK)
				return
			case mode == "bad-header" && r.URL.Path == mockvendor.BitbucketServerWhoAmIPath:
				w.Header().Set("X-AUSERNAME", strings.Repeat("a", 300))
				return
			case mode == "injection" && r.URL.Path == mockvendor.BitbucketServerWhoAmIPath:
				w.Header().Set("X-AUSERNAME", "../../admin?x=")
				return
			case mode == "user-404" && strings.HasPrefix(r.URL.Path, mockvendor.BitbucketServerUsersPath):
				http.Error(w, `{"errors":[{"message":"canary"}]}`, http.StatusNotFound)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	for _, tc := range []struct{ mode, want string }{
		{"no-header", "Failed to retrieve the username of the logged in user (no X-AUSERNAME header)"},
		{"bad-header", "Failed to retrieve the username of the logged in user (an unusable X-AUSERNAME header)"},
		// The username is path-escaped: the mock sees one (unknown) path segment.
		{"injection", "Failed to retrieve the user '../../admin?x=' (HTTP 404)"},
		{"user-404", "Failed to retrieve the user 'alice' (HTTP 404)"},
	} {
		mode = tc.mode
		_, err := providertest.VendorSignIn(t, p, client, "PROJECT_ADMIN")
		if providertest.Message(err) != tc.want || strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: %v", tc.mode, err)
		}
	}
}

func TestSignInErrors(t *testing.T) {
	idp, p, client := setup(t, nil)
	providertest.VendorErrorsNoLeak(t, idp, p, client, "PROJECT_ADMIN", []providertest.VendorError{
		{Fault: mockvendor.Fault{AuthorizeError: "access_denied"}, Want: "Authentication rejected, The user denied the request."},
		{Fault: mockvendor.Fault{TokenStatus: 503}, Want: "Authentication failed, Failed to obtain access token (HTTP 503)"},
		{Fault: mockvendor.Fault{TokenDelay: 3e9}, Want: "Authentication failed, Failed to obtain access token (timed out after 1s)"},
		{Fault: mockvendor.Fault{ProfileStatus: 500}, Want: "Failed to retrieve the username of the logged in user (HTTP 500)"},
		{Fault: mockvendor.Fault{ProfileDelay: 3e9}, Want: "Failed to retrieve the username of the logged in user (timed out after 1s)"},
	})
}

func TestProfileFromUser(t *testing.T) {
	base := "https://" + host
	for avatar, want := range map[string]string{
		"/users/a/avatar.png?s=256":            base + "/users/a/avatar.png?s=256",
		"https://secure.gravatar.com/avatar/x": "https://secure.gravatar.com/avatar/x",
		"javascript:alert(1)":                  "",
		"":                                     "",
	} {
		fp := bitbucketserver.ProfileFromUser(base, map[string]any{"id": int64(1), "name": "a", "avatarUrl": avatar})
		got := ""
		if len(fp.Photos) > 0 {
			got = fp.Photos[0]
		}
		if got != want {
			t.Errorf("avatarUrl %q: %q, want %q", avatar, got, want)
		}
	}
}

// The email resolver in effect is the common one, as in Backstage.
func TestResolvers(t *testing.T) {
	cat := providertest.Catalog{providertest.User("carol", nil)}
	cat[0].Spec = map[string]any{"profile": map[string]any{"email": "carol+dev@example.com"}}
	r := providertest.Chain(t, bitbucketserver.Module, cat, map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"})
	info := providertest.EngineSignIn(bitbucketserver.ProfileFromUser("https://h", map[string]any{"id": int64(3), "name": "carol", "emailAddress": "carol+dev@example.com"}), nil)
	if id, err := r.Resolve(context.Background(), info); err != nil || id.UserEntityRef != "user:default/carol" {
		t.Errorf("%+v %v", id, err)
	}
	info = providertest.EngineSignIn(bitbucketserver.ProfileFromUser("https://h", map[string]any{"id": int64(2), "name": "bob"}), nil)
	if _, err := r.Resolve(context.Background(), info); err == nil || !strings.Contains(err.Error(), "user profile does not contain an email") || errors.Is(err, resolvers.ErrUnresolvedIdentity) {
		t.Errorf("no email: %v", err)
	}
}
