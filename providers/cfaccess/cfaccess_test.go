package cfaccess

import (
	"context"
	"encoding/json"
	"errors"
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

type env struct {
	mock *mockvendor.Server
	// certsDown makes only the certs endpoint answer 503.
	certsDown atomic.Bool
	p         *Provider
	clock     *providertest.Clock
	logs      *providertest.LogBuffer
}

func baseConfig() map[string]any {
	return map[string]any{"teamName": mockvendor.CFAccessTeam, "audience": mockvendor.CFAccessAUD,
		"serviceTokens": []any{map[string]any{"token": "ci-bot.access", "subject": "ci@example.com"}}}
}

func newEnv(t testing.TB, cfg map[string]any) *env {
	t.Helper()
	e := &env{clock: &providertest.Clock{}, logs: &providertest.LogBuffer{}}
	e.mock = mockvendor.New(mockvendor.Options{Personality: mockvendor.CFAccess, Now: e.clock.Now})
	client := providertest.VendorHosts(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.certsDown.Load() && r.URL.Path == CertsPath {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		e.mock.Handler().ServeHTTP(w, r)
	}))
	c, ps := Module.Parse(config.SectionFromMap(cfg))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := c.Build(providers.Deps{HTTPClient: client, Now: e.clock.Now, Logger: e.logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	e.p = p.(*Provider)
	return e
}

func (e *env) token(t *testing.T, req mockvendor.CFAccessTokenRequest) string {
	t.Helper()
	tok, err := e.mock.CFAccessToken(req)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *env) auth(header, cookie string) (providers.ProxyResult, error) {
	r := httptest.NewRequest(http.MethodGet, "/api/auth/cfaccess/refresh", nil)
	if header != "" {
		r.Header.Set("Cf-Access-Jwt-Assertion", header)
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: "CF_Authorization", Value: cookie})
	}
	return e.p.AuthenticateRequest(context.Background(), r)
}

func TestConfigProblems(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		path string
		says string
	}{
		{"no team", map[string]any{"audience": "a"}, "teamName", "missing required"},
		{"no audience", map[string]any{"teamName": "t"}, "audience", "missing required"},
		{"team with a path", map[string]any{"teamName": "evil.example/x", "audience": "a"}, "teamName", "one DNS label"},
		{"team with a dot", map[string]any{"teamName": "a.b", "audience": "a"}, "teamName", "one DNS label"},
		{"header name", map[string]any{"teamName": "t", "audience": "a", "jwtHeaderName": "bad header"}, "jwtHeaderName", "HTTP header name"},
		{"cookie name", map[string]any{"teamName": "t", "audience": "a", "authorizationCookieName": "a;b"}, "authorizationCookieName", "cookie name"},
		{"duplicate service token", map[string]any{"teamName": "t", "audience": "a", "serviceTokens": []any{
			map[string]any{"token": "x", "subject": "a@example.com"}, map[string]any{"token": "x", "subject": "b@example.com"}}}, "serviceTokens[1].token", "second time"},
		{"service token without subject", map[string]any{"teamName": "t", "audience": "a", "serviceTokens": []any{map[string]any{"token": "x"}}}, "subject", "missing required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := Module.Parse(config.SectionFromMap(tt.cfg))
			found := false
			for _, p := range ps.Errors() {
				if strings.HasSuffix(p.Path, tt.path) && strings.Contains(p.Message, tt.says) {
					found = true
				}
			}
			if !found {
				t.Fatalf("problems = %v, want %s: %s", ps, tt.path, tt.says)
			}
		})
	}
	c, ps := Module.Parse(config.SectionFromMap(map[string]any{"teamName": "Team-1", "audience": "a"}))
	if len(ps) != 0 {
		t.Fatalf("valid config: %v", ps)
	}
	if got := c.(*Config); got.JWTHeaderName != DefaultJWTHeaderName || got.AuthorizationCookieName != DefaultAuthorizationCookieName {
		t.Fatalf("defaults = %+v", got)
	}
}

func TestUserSignIn(t *testing.T) {
	e := newEnv(t, baseConfig())
	tok := e.token(t, mockvendor.CFAccessTokenRequest{Login: "alice"})
	res, err := e.auth(tok, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"}) {
		t.Fatalf("profile = %+v", res.Profile)
	}
	out, _ := json.Marshal(res.ProviderInfo)
	var info map[string]any
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), `{"claims":{`) || !strings.Contains(string(out), `"expiresInSeconds":86400,"token":"`+tok+`"}`) {
		t.Fatalf("providerInfo = %s", out)
	}
	claims := info["claims"].(map[string]any)
	ident := info["cfIdentity"].(map[string]any)
	if claims["email"] != "alice@example.com" || ident["email"] != "alice@example.com" || ident["id"] != claims["sub"] {
		t.Fatalf("claims %v identity %v", claims, ident)
	}
	if res.Claims["sub"] != claims["sub"] || res.Claims["cfIdentity"].(map[string]any)["name"] != "Alice Smith" {
		t.Fatalf("resolver claims = %v", res.Claims)
	}
	calls := e.mock.RequestsTo(mockvendor.CFAccessIdentityPath)
	if len(calls) != 1 || calls[0].Header.Get("Cf-Access-Jwt-Assertion") != tok || calls[0].Header.Get("Cookie") != "CF_Authorization="+tok {
		t.Fatalf("get-identity calls = %+v", calls)
	}

	// The cookie works alone; the header wins over it.
	e.mock.ResetRequests()
	if res, err := e.auth("", tok); err != nil || res.Profile.Email != "alice@example.com" {
		t.Fatalf("cookie: %+v %v", res.Profile, err)
	}
	bob := e.token(t, mockvendor.CFAccessTokenRequest{Login: "bob"})
	if res, err := e.auth(bob, tok); err != nil || res.Profile.DisplayName != "" || res.Profile.Email != "" {
		t.Fatalf("header over cookie: %+v %v", res.Profile, err)
	}
}

func TestCustomNames(t *testing.T) {
	cfg := baseConfig()
	cfg["jwtHeaderName"], cfg["authorizationCookieName"] = "x-cf-token", "cf_tok"
	e := newEnv(t, cfg)
	tok := e.token(t, mockvendor.CFAccessTokenRequest{})
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.AddCookie(&http.Cookie{Name: "cf_tok", Value: tok})
	if _, err := e.p.AuthenticateRequest(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Cf-Access-Jwt-Assertion", tok) // the default name is not read any more
	_, err := e.p.AuthenticateRequest(context.Background(), r)
	providertest.WantError(t, err, backstageerr.NameAuthentication, "Missing x-cf-token and cf_tok from Cloudflare Access")
}

func TestRefused(t *testing.T) {
	e := newEnv(t, baseConfig())
	tests := []struct {
		name string
		req  mockvendor.CFAccessTokenRequest
		says string
	}{
		{"wrong signature", mockvendor.CFAccessTokenRequest{BadSignature: true}, "signature is invalid"},
		{"unknown kid", mockvendor.CFAccessTokenRequest{Kid: "not-published"}, "key the issuer does not publish"},
		{"expired", mockvendor.CFAccessTokenRequest{ExpiresIn: -1}, "has expired"},
		{"no expiry", mockvendor.CFAccessTokenRequest{NoExpiry: true}, "has no expiry"},
		{"wrong issuer", mockvendor.CFAccessTokenRequest{Issuer: "https://other.cloudflareaccess.com"}, "issuer"},
		{"another team", mockvendor.CFAccessTokenRequest{Team: "other"}, "issuer"},
		{"wrong audience", mockvendor.CFAccessTokenRequest{Audience: []string{"another-application"}}, "audience"},
		{"no subject", mockvendor.CFAccessTokenRequest{NoSubject: true}, "Missing both sub and common_name from Cloudflare Access JWT"},
		{"unknown service token", mockvendor.CFAccessTokenRequest{ServiceToken: "rogue.access"}, "rogue.access is not a permitted Service Token."},
		{"email disagrees with get-identity", mockvendor.CFAccessTokenRequest{Email: "mallory@example.com"}, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.auth(e.token(t, tt.req), "")
			providertest.WantError(t, err, backstageerr.NameAuthentication, tt.says)
			if res.ProviderInfo != nil {
				t.Fatalf("providerInfo on failure: %+v", res)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := e.auth("", "")
		providertest.WantError(t, err, backstageerr.NameAuthentication, "Missing cf-access-jwt-assertion and CF_Authorization from Cloudflare Access")
	})
	t.Run("not a JWT", func(t *testing.T) {
		_, err := e.auth("garbage", "")
		providertest.WantError(t, err, backstageerr.NameAuthentication, "Cloudflare Access JWT is invalid")
	})
	t.Run("unsigned", func(t *testing.T) {
		tok := e.token(t, mockvendor.CFAccessTokenRequest{})
		parts := strings.Split(tok, ".")
		_, err := e.auth("eyJhbGciOiJub25lIn0."+parts[1]+".", "")
		providertest.WantError(t, err, backstageerr.NameAuthentication, "not an accepted algorithm")
	})
}

func TestServiceToken(t *testing.T) {
	e := newEnv(t, baseConfig())
	tok := e.token(t, mockvendor.CFAccessTokenRequest{ServiceToken: "ci-bot.access"})
	res, err := e.auth(tok, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "ci@example.com", DisplayName: "Bot"}) {
		t.Fatalf("profile = %+v", res.Profile)
	}
	out, _ := json.Marshal(res.ProviderInfo.(ProviderInfo).CFIdentity)
	if string(out) != `{"id":"ci-bot.access","name":"Bot","email":"ci@example.com","groups":[]}` {
		t.Fatalf("cfIdentity = %s", out)
	}
	if n := len(e.mock.RequestsTo(mockvendor.CFAccessIdentityPath)); n != 0 {
		t.Fatalf("get-identity asked %d times for a service token", n)
	}
}

func TestIdentityCache(t *testing.T) {
	e := newEnv(t, baseConfig())
	tok := e.token(t, mockvendor.CFAccessTokenRequest{Login: "alice"})
	calls := func() int { return len(e.mock.RequestsTo(mockvendor.CFAccessIdentityPath)) }
	for range 3 {
		if _, err := e.auth(tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	if calls() != 1 {
		t.Fatalf("get-identity calls for one token = %d, want 1", calls())
	}
	// Another token of the same user (a new Access session) is asked about again, and
	// its own claims are reported.
	e.clock.Advance(2 * time.Second)
	tok2 := e.token(t, mockvendor.CFAccessTokenRequest{Login: "alice"})
	res, err := e.auth(tok2, "")
	if err != nil || calls() != 2 || res.ProviderInfo.(ProviderInfo).Token != tok2 {
		t.Fatalf("second token: calls %d, %v", calls(), err)
	}
	var claims map[string]any
	_ = json.Unmarshal(res.ProviderInfo.(ProviderInfo).Claims, &claims)
	if int64(claims["iat"].(float64)) != e.clock.Now().Unix() {
		t.Fatalf("claims are not the second token's: %v", claims)
	}
	// An answer is reused for identityTTL at most.
	e.clock.Advance(identityTTL)
	if _, err := e.auth(tok2, ""); err != nil || calls() != 3 {
		t.Fatalf("after the TTL: calls %d, %v", calls(), err)
	}
}

func TestIdentityFailures(t *testing.T) {
	e := newEnv(t, baseConfig())
	tok := e.token(t, mockvendor.CFAccessTokenRequest{})
	e.mock.SetFault(mockvendor.Fault{ProfileStatus: http.StatusForbidden})
	_, err := e.auth(tok, "")
	providertest.WantError(t, err, backstageerr.NameAuthentication, "Failed to populate access identity information: Cloudflare Access did not confirm the identity (HTTP 403)")

	e.mock.SetFault(mockvendor.Fault{ProfileStatus: http.StatusBadGateway})
	_, err = e.auth(tok, "")
	providertest.WantError(t, err, backstageerr.NameServiceUnavailable, "Cloudflare Access answered HTTP 502, please try again later")
	if strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), "cloudflareaccess.com") {
		t.Fatalf("upstream body or address in the message: %v", err)
	}
	// A 200 that is not an identity (a proxy's page) decides nothing either.
	e.mock.SetFault(mockvendor.Fault{ProfileStatus: http.StatusOK})
	_, err = e.auth(tok, "")
	providertest.WantError(t, err, backstageerr.NameServiceUnavailable, "Cloudflare Access answered something that is not an identity")
	// Nothing failed is cached: the next request succeeds.
	if _, err := e.auth(tok, ""); err != nil {
		t.Fatal(err)
	}
}

func TestKeyOutage(t *testing.T) {
	e := newEnv(t, baseConfig())
	tok := e.token(t, mockvendor.CFAccessTokenRequest{})
	e.mock.SetUnavailable(true)
	_, err := e.auth(tok, "")
	providertest.WantError(t, err, backstageerr.NameServiceUnavailable, "signing keys could not be fetched")

	// With keys fetched once, an outage of the certs keeps the last good keys: the
	// cached identity signs the user in; a kid they lack is undecided (503), not refused.
	e.mock.SetUnavailable(false)
	e.clock.Advance(time.Minute) // past the fetcher's backoff
	if _, err := e.auth(tok, ""); err != nil {
		t.Fatal(err)
	}
	e.certsDown.Store(true)
	e.clock.Advance(keysMaxAge + time.Second)
	if _, err := e.auth(tok, ""); err != nil {
		t.Fatalf("last good keys during the outage: %v", err)
	}
	_, err = e.auth(e.token(t, mockvendor.CFAccessTokenRequest{Kid: "rotated"}), "")
	providertest.WantError(t, err, backstageerr.NameServiceUnavailable, "signing keys could not be fetched")
}

func TestResolvers(t *testing.T) {
	e := newEnv(t, baseConfig())
	cat := providertest.Catalog{
		{Kind: "User", Metadata: resolvers.EntityMetadata{Name: "alice", Namespace: "default"}, Spec: map[string]any{"profile": map[string]any{"email": "alice@example.com"}}},
	}
	res, err := e.auth(e.token(t, mockvendor.CFAccessTokenRequest{Login: "alice"}), "")
	if err != nil {
		t.Fatal(err)
	}
	info := resolvers.SignInInfo{ProviderID: "cfaccess", Email: res.Profile.Email, DisplayName: res.Profile.DisplayName, Claims: res.Claims}
	for _, name := range []string{"emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName"} {
		id, err := providertest.Chain(t, Module, cat, map[string]any{"resolver": name}).Resolve(context.Background(), info)
		if err != nil || id.UserEntityRef != "user:default/alice" {
			t.Fatalf("%s: %+v %v", name, id, err)
		}
	}
	// A service token signs in by its configured subject.
	st, err := e.auth(e.token(t, mockvendor.CFAccessTokenRequest{ServiceToken: "ci-bot.access"}), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = providertest.Chain(t, Module, cat, map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}).
		Resolve(context.Background(), resolvers.SignInInfo{Email: st.Profile.Email, Claims: st.Claims})
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "spec.profile.email=ci@example.com") {
		t.Fatalf("service token subject not in the catalog: %v", err)
	}
}

// Concurrent first requests with one token share one get-identity call.
func TestIdentityFetchedOnce(t *testing.T) {
	e := newEnv(t, baseConfig())
	tok := e.token(t, mockvendor.CFAccessTokenRequest{Login: "alice"})
	if _, err := e.auth(e.token(t, mockvendor.CFAccessTokenRequest{ServiceToken: "ci-bot.access"}), ""); err != nil {
		t.Fatal(err) // fetches the keys, not an identity
	}
	e.mock.SetFault(mockvendor.Fault{ProfileDelay: 200 * time.Millisecond})
	errs := make(chan error, 8)
	for range 8 {
		go func() { _, err := e.auth(tok, ""); errs <- err }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.mock.RequestsTo(mockvendor.CFAccessIdentityPath)); n != 1 {
		t.Fatalf("get-identity asked %d times, want 1", n)
	}
}
