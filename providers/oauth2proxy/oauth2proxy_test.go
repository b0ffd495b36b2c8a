package oauth2proxy_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2proxy"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

type fixture struct {
	idp    *mockvendor.Server
	issuer string
	p      providers.ProxyProvider
}

func setup(t *testing.T, verify bool, extra map[string]any) fixture {
	t.Helper()
	idp := mockvendor.New(mockvendor.Options{Personality: mockvendor.OAuth2ProxyIdP})
	ts := httptest.NewServer(idp.Handler())
	t.Cleanup(ts.Close)
	m := map[string]any{}
	if verify {
		m["issuer"], m["audience"] = ts.URL, "oauth2-proxy"
	}
	for k, v := range extra {
		m[k] = v
	}
	c, ps := oauth2proxy.Module.Parse(config.SectionFromMap(m))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := c.Build(providers.Deps{Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{idp: idp, issuer: ts.URL, p: p.(providers.ProxyProvider)}
}

func (f fixture) idToken(t *testing.T, key mockvendor.SignKey, mod func(map[string]any)) string {
	t.Helper()
	now := time.Now().Unix()
	c := map[string]any{"iss": f.issuer, "aud": "oauth2-proxy", "sub": "u-1001", "email": "alice@example.com", "email_verified": true,
		"preferred_username": "alice", "exp": now + 300, "iat": now - 5}
	if mod != nil {
		mod(c)
	}
	tok, err := f.idp.Sign(mockvendor.SignRequest{Claims: c, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f fixture) auth(headers ...string) (providers.ProxyResult, error) {
	r, _ := http.NewRequest(http.MethodGet, "http://backstage.test/api/auth/oauth2Proxy/refresh", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return f.p.AuthenticateRequest(context.Background(), r)
}

func aliceHeaders(token string) []string {
	h := []string{oauth2proxy.UserHeader, "u-1001", oauth2proxy.EmailHeader, "alice@example.com", oauth2proxy.PreferredUsernameHeader, "alice"}
	if token != "" {
		h = append(h, oauth2proxy.JWTHeader, "Bearer "+token)
	}
	return h
}

// Without issuer: Backstage's behaviour, headers trusted; the token only decoded.
func TestUnverified(t *testing.T) {
	_, ps := oauth2proxy.Module.Parse(config.SectionFromMap(map[string]any{}))
	if ps.Err() != nil || len(ps) != 1 || !ps[0].Warning || !strings.Contains(ps[0].Message, "trusted on network position alone") {
		t.Fatalf("want the start-up warning, got %v", ps)
	}
	f := setup(t, false, nil)
	res, err := f.auth(oauth2proxy.UserHeader, "bob", oauth2proxy.EmailHeader, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.ProviderInfo)
	if res.Profile != (providers.Profile{Email: "bob@example.com", DisplayName: "bob"}) || string(b) != `{"accessToken":""}` {
		t.Errorf("got %+v %s", res.Profile, b)
	}
	tok := f.idToken(t, mockvendor.SignForged, nil) // not verified in this mode
	res, err = f.auth(append(aliceHeaders(""), oauth2proxy.JWTHeader, "bearer   "+tok)...)
	if err != nil || res.ProviderInfo == nil || res.Profile.DisplayName != "alice" {
		t.Fatalf("%+v %v", res, err)
	}
	if b, _ := json.Marshal(res.ProviderInfo); string(b) != `{"accessToken":"`+tok+`"}` {
		t.Errorf("providerInfo %s", b)
	}
	if _, ok := res.Claims["email"]; ok {
		t.Error("unverified token claims reached the resolvers")
	}
	// Not Bearer: ignored, as Backstage's regex does.
	if res, err := f.auth(oauth2proxy.JWTHeader, "Basic abc"); err != nil || res.ProviderInfo == nil {
		t.Errorf("non-bearer: %v", err)
	}
	for v, says := range map[string]string{
		"Bearer abc":        "Authentication failed; caused by JWTInvalid: Invalid JWT",
		"Bearer a.b.c.d.e":  "Authentication failed; caused by JWTInvalid: Only JWTs using Compact JWS serialization can be decoded",
		"Bearer a..c":       "JWTs must contain a payload",
		"Bearer a.!!!.c":    "Failed to base64url decode the payload",
		"Bearer a.bm90.c":   "Failed to parse the decoded payload as JSON",
		"Bearer a.WzFd.c":   "Invalid JWT Claims Set",
		"Bearer a.bnVsbA.c": "Invalid JWT Claims Set",
	} {
		_, err := f.auth(oauth2proxy.JWTHeader, v)
		if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v %v, want %q", v, backstageerr.NameOf(err), err, says)
		}
	}
}

func TestVerified(t *testing.T) {
	f := setup(t, true, nil)
	tok := f.idToken(t, "", nil)
	res, err := f.auth(aliceHeaders(tok)...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", DisplayName: "alice"}) || res.Claims["sub"] != "u-1001" {
		t.Errorf("got %+v %v", res.Profile, res.Claims)
	}
	// --prefer-email-to-user: X-Forwarded-User is the email.
	if _, err := f.auth(oauth2proxy.UserHeader, "alice@example.com", oauth2proxy.JWTHeader, "Bearer "+tok); err != nil {
		t.Errorf("user = email: %v", err)
	}
	for _, tc := range []struct {
		name    string
		headers []string
		status  string
		says    string
	}{
		{"no token", aliceHeaders(""), backstageerr.NameAuthentication, oauth2proxy.MsgMissingToken},
		{"malformed, in Backstage's words", aliceHeaders("abc"), backstageerr.NameAuthentication, "Authentication failed; caused by JWTInvalid: Invalid JWT"},
		{"forged", aliceHeaders(f.idToken(t, mockvendor.SignForged, nil)), backstageerr.NameAuthentication, oauth2proxy.MsgRejected + "the ID token signature could not be verified"},
		{"unknown kid", aliceHeaders(f.idToken(t, mockvendor.SignUnknownKey, nil)), backstageerr.NameAuthentication, oauth2proxy.MsgRejected},
		{"expired", aliceHeaders(f.idToken(t, "", func(c map[string]any) { c["exp"] = time.Now().Unix() - 3600 })), backstageerr.NameAuthentication, "the ID token has expired"},
		{"wrong iss", aliceHeaders(f.idToken(t, "", func(c map[string]any) { c["iss"] = "https://evil.example" })), backstageerr.NameAuthentication, "the ID token issuer"},
		{"wrong aud", aliceHeaders(f.idToken(t, "", func(c map[string]any) { c["aud"] = "someone-else" })), backstageerr.NameAuthentication, "audience"},
		{"email disagrees", append(aliceHeaders(tok), oauth2proxy.EmailHeader, "mallory@example.com"), backstageerr.NameAuthentication, oauth2proxy.MsgDisagree + "X-Forwarded-Email"},
		{"user disagrees", append(aliceHeaders(tok), oauth2proxy.UserHeader, "admin"), backstageerr.NameAuthentication, oauth2proxy.MsgDisagree + "X-Forwarded-User"},
		{"preferred username disagrees", append(aliceHeaders(tok), oauth2proxy.PreferredUsernameHeader, "admin"), backstageerr.NameAuthentication, oauth2proxy.MsgDisagree + "X-Forwarded-Preferred-Username"},
		{"unverified email", aliceHeaders(f.idToken(t, "", func(c map[string]any) { c["email_verified"] = false })), backstageerr.NameAuthentication, "not verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.auth(tc.headers...)
			if backstageerr.NameOf(err) != tc.status || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v %q, want %s containing %q", backstageerr.NameOf(err), err, tc.status, tc.says)
			}
			if res.Profile.Email != "" {
				t.Errorf("refused, yet %+v", res)
			}
		})
	}
}

func TestIdPDown(t *testing.T) {
	f := setup(t, true, map[string]any{"timeout": "1s"})
	f.idp.SetUnavailable(true)
	_, err := f.auth(aliceHeaders(f.idToken(t, "", nil))...)
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || backstageerr.MessageOf(err) != oauth2proxy.MsgUnavailable {
		t.Fatalf("got %v %q", backstageerr.NameOf(err), err)
	}
}

func TestConfigProblems(t *testing.T) {
	providertest.ConfigProblems(t, oauth2proxy.Module, []providertest.ConfigProblem{
		{M: map[string]any{"audience": "x"}, Path: "issuer", Says: "missing required config value"},
		{M: map[string]any{"issuer": "https://idp.example"}, Path: "audience", Says: "missing required config value"},
		{M: map[string]any{"issuer": "idp.example", "audience": "x"}, Path: "issuer", Says: "absolute URL"},
		{M: map[string]any{"issuer": "https://idp.example", "audience": "x", "idTokenSignedResponseAlg": "HS256"}, Path: "idTokenSignedResponseAlg", Says: "not an allowed"},
	})
}

func TestResolvers(t *testing.T) {
	f := setup(t, false, nil)
	cat := providertest.Catalog{providertest.User("alice", nil, "group:default/team-a")}
	resolve := func(entry map[string]any, headers ...string) (resolvers.Identity, error) {
		res, err := f.auth(headers...)
		if err != nil {
			t.Fatal(err)
		}
		return providertest.Chain(t, oauth2proxy.Module, cat, entry).Resolve(context.Background(), resolvers.SignInInfo{Email: res.Profile.Email, Claims: res.Claims})
	}
	for _, tc := range []struct {
		resolver string
		headers  []string
		user     string
		says     string
	}{
		{"forwardedUserMatchingUserEntityName", []string{oauth2proxy.UserHeader, "alice"}, "user:default/alice", ""},
		{"forwardedUserMatchingUserEntityName", []string{oauth2proxy.PreferredUsernameHeader, "alice"}, "", oauth2proxy.MsgNoUser},
		{"forwardedUserMatchingUserEntityName", []string{oauth2proxy.UserHeader, "bob"}, "", "User not found"},
		{"forwardedPreferredUsernameMatchingUserEntityName", []string{oauth2proxy.PreferredUsernameHeader, "alice", oauth2proxy.UserHeader, "u-1"}, "user:default/alice", ""},
		{"forwardedPreferredUsernameMatchingUserEntityName", []string{oauth2proxy.UserHeader, "alice"}, "", oauth2proxy.MsgNoPreferredUsername},
		{"emailLocalPartMatchingUserEntityName", []string{oauth2proxy.EmailHeader, "alice@example.com"}, "user:default/alice", ""},
	} {
		id, err := resolve(map[string]any{"resolver": tc.resolver}, tc.headers...)
		if tc.says != "" {
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s %v: %+v %v, want %q", tc.resolver, tc.headers, id, err, tc.says)
			}
			continue
		}
		if err != nil || id.UserEntityRef != tc.user {
			t.Errorf("%s %v: %+v %v", tc.resolver, tc.headers, id, err)
		}
	}
	id, err := resolve(map[string]any{"resolver": "forwardedUserMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}, oauth2proxy.UserHeader, "bob")
	if err != nil || id.UserEntityRef != "user:default/bob" {
		t.Errorf("fallback: %+v %v", id, err)
	}
}
