package gcpiap_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/fakeclock"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/gcpiap"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

const audience = "/projects/1234/global/backendServices/5678"

type fixture struct {
	mock  *mockvendor.Server
	p     providers.ProxyProvider
	clock *fakeclock.Clock
}

func setup(t testing.TB, cfg map[string]any) fixture {
	t.Helper()
	mock := mockvendor.New(mockvendor.Options{Personality: mockvendor.GCPIAP})
	client := providertest.VendorHosts(t, mock.Handler())
	if cfg == nil {
		cfg = map[string]any{"audience": audience}
	}
	c, ps := gcpiap.Module.Parse(config.SectionFromMap(cfg))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	clock := fakeclock.New()
	p, err := c.Build(providers.Deps{HTTPClient: client, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{mock: mock, p: p.(providers.ProxyProvider), clock: clock}
}

func (f fixture) claims(mod func(map[string]any)) map[string]any {
	now := f.clock.Now().Unix()
	c := map[string]any{"aud": audience, "email": "alice@example.com", "exp": now + 600, "iat": now - 5,
		"iss": gcpiap.Issuer, "sub": "accounts.google.com:1001", "hd": "example.com"}
	if mod != nil {
		mod(c)
	}
	return c
}

func (f fixture) token(t testing.TB, key mockvendor.SignKey, mod func(map[string]any)) string {
	t.Helper()
	tok, err := f.mock.Sign(mockvendor.SignRequest{Claims: f.claims(mod), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f fixture) auth(header, value string) (providers.ProxyResult, error) {
	r, _ := http.NewRequest(http.MethodGet, "http://backstage.test/api/auth/gcpIap/refresh", nil)
	if header != "" {
		r.Header.Set(header, value)
	}
	return f.p.AuthenticateRequest(context.Background(), r)
}

func TestValidAssertion(t *testing.T) {
	f := setup(t, nil)
	res, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	b, _ := json.Marshal(res.ProviderInfo)
	// The payload as JSON.stringify writes it: the token's member order.
	now := f.clock.Now().Unix()
	want := fmt.Sprintf(`{"iapToken":{"aud":"%s","email":"alice@example.com","exp":%d,"hd":"example.com","iat":%d,"iss":"https://cloud.google.com/iap","sub":"accounts.google.com:1001"}}`, audience, now+600, now-5)
	if string(b) != want {
		t.Errorf("providerInfo\n got %s\nwant %s", b, want)
	}
	if res.Claims["hd"] != "example.com" {
		t.Errorf("claims %v", res.Claims)
	}
	// Keys are cached: a second sign-in asks nothing.
	n := len(f.mock.RequestsTo(mockvendor.IAPJWKPath))
	if _, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, "", nil)); err != nil || len(f.mock.RequestsTo(mockvendor.IAPJWKPath)) != n || n != 1 {
		t.Errorf("second sign-in: %v, %d key fetches", err, len(f.mock.RequestsTo(mockvendor.IAPJWKPath)))
	}
}

func TestCustomHeader(t *testing.T) {
	f := setup(t, map[string]any{"audience": audience, "jwtHeader": "x-iap-custom"})
	if _, err := f.auth("x-iap-custom", f.token(t, "", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, "", nil)); backstageerr.MessageOf(err) != gcpiap.MsgMissingHeader {
		t.Errorf("default header with jwtHeader set: %v", err)
	}
}

func TestRefused(t *testing.T) {
	f := setup(t, nil)
	hs256 := "eyJhbGciOiJIUzI1NiIsImtpZCI6Im1vY2staWFwLTBvZUxjUSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	unsigned := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
	for _, tc := range []struct {
		name, value string
		says        string
	}{
		{"missing header", "", gcpiap.MsgMissingHeader},
		{"not a JWT", "garbage", "Google IAP token verification failed, the token is not a compact JWS"},
		{"unsigned", unsigned, `Google IAP token verification failed, the token is signed with "none", which is not an accepted algorithm`},
		{"HS256", hs256, `signed with "HS256"`},
		{"forged", f.token(t, mockvendor.SignForged, nil), "Google IAP token verification failed, the token's signature is invalid"},
		{"unknown kid", f.token(t, mockvendor.SignUnknownKey, nil), "Google IAP token verification failed, the token is signed with a key the issuer does not publish"},
		{"expired", f.token(t, "", func(c map[string]any) { c["exp"] = c["iat"].(int64) - 60 }), "Google IAP token verification failed, the token has expired"},
		{"no exp", f.token(t, "", func(c map[string]any) { delete(c, "exp") }), "the token has no expiry (exp)"},
		{"no iat", f.token(t, "", func(c map[string]any) { delete(c, "iat") }), "the token has no issue time (iat)"},
		{"iat in the future", f.token(t, "", func(c map[string]any) { c["iat"] = c["exp"] }), "the token was issued in the future"},
		{"lives longer than a day", f.token(t, "", func(c map[string]any) { c["exp"] = c["iat"].(int64) + 2*86400 }), "expires too far in the future"},
		{"wrong iss", f.token(t, "", func(c map[string]any) { c["iss"] = "https://accounts.google.com" }), `the token's issuer "https://accounts.google.com" is not the expected one`},
		{"wrong aud", f.token(t, "", func(c map[string]any) { c["aud"] = "/projects/1234/global/backendServices/9999" }), `the token's audience does not include "` + audience + `"`},
		{"no sub", f.token(t, "", func(c map[string]any) { delete(c, "sub") }), gcpiap.MsgMissingSubject},
		{"no email", f.token(t, "", func(c map[string]any) { delete(c, "email") }), gcpiap.MsgMissingEmail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := gcpiap.DefaultJWTHeader
			if tc.value == "" {
				header = ""
			}
			res, err := f.auth(header, tc.value)
			if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(backstageerr.MessageOf(err), tc.says) {
				t.Fatalf("got %v %q, want AuthenticationError containing %q", backstageerr.NameOf(err), err, tc.says)
			}
			if res.Profile.Email != "" || res.ProviderInfo != nil {
				t.Errorf("a refused token produced %+v", res)
			}
		})
	}
}

func TestSkew(t *testing.T) {
	f := setup(t, nil)
	tok := f.token(t, "", nil)
	f.clock.Advance(600*time.Second + 20*time.Second) // 20s past exp: within 30s
	if _, err := f.auth(gcpiap.DefaultJWTHeader, tok); err != nil {
		t.Fatalf("within skew: %v", err)
	}
	f.clock.Advance(15 * time.Second)
	if _, err := f.auth(gcpiap.DefaultJWTHeader, tok); !strings.Contains(backstageerr.MessageOf(err), "expired") {
		t.Fatalf("beyond skew: %v", err)
	}
}

func TestKeyEndpointOutage(t *testing.T) {
	f := setup(t, nil)
	f.mock.SetUnavailable(true)
	_, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, "", nil))
	var ra interface{ RetryAfter() time.Duration }
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || backstageerr.MessageOf(err) != gcpiap.MsgKeys || !errorsAs(err, &ra) {
		t.Fatalf("no keys yet, endpoint down: %v %q", backstageerr.NameOf(err), err)
	}
	if be, _ := backstageerr.As(err); !strings.Contains(be.Detail, "www.gstatic.com") {
		t.Errorf("the operator's detail should name the endpoint: %q", be.Detail)
	}
	// Once keys were fetched, an outage keeps them verifying (after MaxAge too).
	f.mock.SetUnavailable(false)
	f.clock.Advance(10 * time.Second)
	if _, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, "", nil)); err != nil {
		t.Fatal(err)
	}
	f.mock.SetUnavailable(true)
	f.clock.Advance(10 * time.Minute)
	if _, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, "", nil)); err != nil {
		t.Fatalf("last good keys during an outage: %v", err)
	}
	// A kid the last good keys lack cannot be decided while the endpoint is down.
	if _, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, mockvendor.SignUnknownKey, nil)); backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable {
		t.Fatalf("unknown kid during an outage: %v", err)
	}
}

func errorsAs(err error, target *interface{ RetryAfter() time.Duration }) bool {
	for e := err; e != nil; {
		if r, ok := e.(interface{ RetryAfter() time.Duration }); ok {
			*target = r
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestConfigProblems(t *testing.T) {
	providertest.ConfigProblems(t, gcpiap.Module, []providertest.ConfigProblem{
		{M: map[string]any{}, Path: "audience", Says: "missing required config value"},
		{M: map[string]any{"audience": audience, "jwtHeader": "bad header"}, Path: "jwtHeader", Says: "HTTP header name"},
		{M: map[string]any{"audience": audience, "clockSkew": "10m"}, Path: "clockSkew", Says: "between"},
	})
	// sessionDuration is in Backstage's schema: accepted.
	if _, ps := gcpiap.Module.Parse(config.SectionFromMap(map[string]any{"audience": audience, "sessionDuration": "1d"})); len(ps) != 0 {
		t.Errorf("sessionDuration: %v", ps)
	}
}

func TestResolvers(t *testing.T) {
	f := setup(t, nil)
	cat := providertest.Catalog{
		providertest.User("alice", map[string]string{gcpiap.EmailAnnotation: "alice@example.com", gcpiap.UserIDAnnotation: "1001"}, "group:default/team-a"),
	}
	signIn := func(t *testing.T, mod func(map[string]any), entry map[string]any) (resolvers.Identity, error) {
		t.Helper()
		res, err := f.auth(gcpiap.DefaultJWTHeader, f.token(t, "", mod))
		if err != nil {
			t.Fatal(err)
		}
		return providertest.Chain(t, gcpiap.Module, cat, entry).Resolve(context.Background(),
			resolvers.SignInInfo{Email: res.Profile.Email, Claims: res.Claims})
	}
	for _, tc := range []struct {
		name     string
		mod      func(map[string]any)
		resolver map[string]any
		user     string
		says     string
	}{
		{"email annotation", nil, map[string]any{"resolver": "emailMatchingUserEntityAnnotation"}, "user:default/alice", ""},
		{"id annotation", nil, map[string]any{"resolver": "idMatchingUserEntityAnnotation"}, "user:default/alice", ""},
		{"unknown id", func(c map[string]any) { c["sub"] = "accounts.google.com:2002" }, map[string]any{"resolver": "idMatchingUserEntityAnnotation"}, "", "User not found"},
		{"unknown id, dangerous fallback", func(c map[string]any) { c["sub"] = "accounts.google.com:2002" },
			map[string]any{"resolver": "idMatchingUserEntityAnnotation", "dangerouslyAllowSignInWithoutUserInCatalog": true}, "user:default/2002", ""},
		{"sub without ':'", func(c map[string]any) { c["sub"] = "1001" }, map[string]any{"resolver": "idMatchingUserEntityAnnotation"}, "", gcpiap.MsgSubjectWithoutID},
		{"unknown email", func(c map[string]any) { c["email"] = "bob@example.com" }, map[string]any{"resolver": "emailMatchingUserEntityAnnotation"}, "", "google.com/email=bob@example.com"},
		{"common local part", nil, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}, "user:default/alice", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := signIn(t, tc.mod, tc.resolver)
			if tc.says != "" {
				if err == nil || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("got %+v %v, want an error containing %q", id, err, tc.says)
				}
				return
			}
			if err != nil || id.UserEntityRef != tc.user {
				t.Fatalf("got %+v %v, want %s", id, err, tc.user)
			}
		})
	}
}

// BenchmarkAuthenticateRequest is the /refresh hot path: one ES256 verification and the
// claim checks, keys from the cache (no fetch per request).
func BenchmarkAuthenticateRequest(b *testing.B) {
	f := setup(b, nil)
	tok := f.token(b, "", nil)
	r, _ := http.NewRequest(http.MethodGet, "http://backstage.test/api/auth/gcpIap/refresh", nil)
	r.Header.Set(gcpiap.DefaultJWTHeader, tok)
	if _, err := f.p.AuthenticateRequest(context.Background(), r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.p.AuthenticateRequest(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(f.mock.RequestsTo(mockvendor.IAPJWKPath)); n != 1 {
		b.Fatalf("%d key fetches for %d requests", n, b.N+1)
	}
}
