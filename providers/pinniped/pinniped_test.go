package pinniped_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/pinniped"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

func parse(t testing.TB, m map[string]any) (*pinniped.Config, config.Problems) {
	return providertest.Parse[*pinniped.Config](t, pinniped.Module, m)
}

func envFor(issuer string) map[string]any {
	return map[string]any{"federationDomain": issuer, "clientId": "backstage-client", "clientSecret": "backstage-secret"}
}

func build(t testing.TB, m map[string]any) *pinniped.Provider {
	t.Helper()
	cfg, ps := parse(t, m)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*pinniped.Provider)
}

func TestConfig(t *testing.T) {
	p := build(t, envFor("https://pinniped.example.com/issuer/"))
	if s := p.Scopes(); s.Persist || strings.Join(s.Required, " ") != "openid pinniped:request-audience username offline_access" {
		t.Errorf("scopes %+v", s)
	}
	with := func(k string, v any) map[string]any {
		return providertest.With(envFor("https://pinniped.example.com/issuer"), k, v)
	}
	providertest.ConfigProblems(t, pinniped.Module, []providertest.ConfigProblem{
		{M: with("federationDomain", nil), Path: "federationDomain", Says: "missing required config value"},
		{M: with("clientId", nil), Path: "clientId", Says: "missing required config value"},
		{M: with("clientSecret", nil), Path: "clientSecret", Says: "missing required config value"},
		{M: with("federationDomain", "pinniped.example.com"), Path: "federationDomain", Says: "absolute URL"},
		{M: with("federationDomain", "https://p.example.com/issuer/.well-known/openid-configuration"), Path: "federationDomain", Says: "issuer URL"},
		{M: with("scope", "openid"), Path: "scope", Says: `The pinniped provider no longer supports the "scope" configuration option. Please use the "additionalScopes" option instead.`},
		{M: with("allowedAudiences", []any{"ok", "bad aud"}), Path: "allowedAudiences", Says: "spaces"},
		{M: with("timeout", "0s"), Path: "timeout", Says: "greater than zero"},
	})
}

// signIn runs Start (with the /start query), the Supervisor's authorize step and
// Authenticate; tamper may change the callback's parameters.
func signIn(t testing.TB, p *pinniped.Provider, query url.Values, tamper func(url.Values)) (providers.Result, error) {
	t.Helper()
	secrets := providertest.NewSecrets()
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: strings.Join(pinniped.RequiredScopes, " "), State: "6e6f6e63653d616263",
		CallbackURL: providertest.CallbackURL, Secrets: secrets, Query: query})
	if err != nil {
		return providers.Result{}, err
	}
	c := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), providertest.CallbackURL) {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	params := loc.Query()
	if tamper != nil {
		tamper(params)
	}
	return p.Authenticate(context.Background(), providers.CallbackRequest{Params: params, CallbackURL: providertest.CallbackURL, Secrets: secrets})
}

func claimsOf(t *testing.T, raw string) jwt.MapClaims {
	t.Helper()
	var c jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignInWithoutAudience(t *testing.T) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped})
	issuer := m.Start(t) + mockvendor.PinnipedIssuerPath
	p := build(t, envFor(issuer))
	res, err := signIn(t, p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{}) || res.Claims["username"] != "alice" {
		t.Errorf("profile %+v claims %v", res.Profile, res.Claims)
	}
	pi := res.ProviderInfo
	if !strings.HasPrefix(pi.AccessToken, "pin_at_") || claimsOf(t, pi.IDToken)["aud"].([]any)[0] != "backstage-client" {
		t.Errorf("providerInfo %+v", pi)
	}
	a := m.RequestsTo(mockvendor.PinnipedAuthorizePath)[0].Query
	if a.Get("code_challenge_method") != "S256" || a.Get("nonce") == "" {
		t.Errorf("authorize %v", a)
	}
	if len(m.RequestsTo(mockvendor.PinnipedTokenPath)) != 1 {
		t.Error("an exchange without an audience")
	}
	// The email resolvers cannot succeed, as in Backstage.
	_, err = providertest.Chain(t, pinniped.Module, nil, map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}).Resolve(context.Background(), providertest.SignInInfo(res))
	if err == nil || !strings.Contains(err.Error(), "Login failed, user profile does not contain an email") {
		t.Errorf("email resolver: %v", err)
	}
}

func TestClusterToken(t *testing.T) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped})
	issuer := m.Start(t) + mockvendor.PinnipedIssuerPath
	p := build(t, envFor(issuer))
	q := url.Values{"audience": {"cluster-a"}}
	res, err := signIn(t, p, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, res.ProviderInfo.IDToken)
	if c["aud"].([]any)[0] != "cluster-a" || c["username"] != "alice" || c["sub"] != res.Claims["sub"] {
		t.Errorf("cluster token claims %v", c)
	}
	if e := res.ProviderInfo.ExpiresInSeconds; e < 100 || e > 120 {
		t.Errorf("expiresInSeconds %d", e)
	}
	tr := m.RequestsTo(mockvendor.PinnipedTokenPath)
	if len(tr) != 2 || tr[1].Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" || tr[1].Form.Get("audience") != "cluster-a" ||
		tr[1].Form.Get("subject_token") != res.ProviderInfo.AccessToken || tr[1].Form.Get("client_secret") != "" {
		t.Errorf("exchange request %+v", tr)
	}
	// Refresh: the refresh grant, then the exchange again.
	m.ResetRequests()
	rr, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	if claimsOf(t, rr.ProviderInfo.IDToken)["aud"].([]any)[0] != "cluster-a" || rr.ProviderInfo.AccessToken == res.ProviderInfo.AccessToken || rr.Session == nil {
		t.Errorf("refresh %+v", rr)
	}
	if tr := m.RequestsTo(mockvendor.PinnipedTokenPath); len(tr) != 2 || tr[0].Form.Get("grant_type") != "refresh_token" {
		t.Errorf("refresh requests %+v", tr)
	}
	// The rotated refresh token is in the new session: the old one is spent.
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "openid"}); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("old session: %v", err)
	}
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: rr.Session, Scope: "openid"}); err != nil {
		t.Errorf("rotated session: %v", err)
	}
}

func TestAudienceChecks(t *testing.T) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped})
	issuer := m.Start(t) + mockvendor.PinnipedIssuerPath
	p := build(t, envFor(issuer))
	// An audience changed in the callback URL is refused.
	_, err := signIn(t, p, url.Values{"audience": {"cluster-a"}}, func(v url.Values) {
		raw, _ := hex.DecodeString(v.Get("state"))
		v.Set("state", hex.EncodeToString([]byte(strings.Replace(string(raw), "audience=cluster-a", "audience=cluster-b", 1))))
	})
	if err == nil || !strings.Contains(err.Error(), "does not belong to this sign-in") {
		t.Errorf("tampered audience: %v", err)
	}
	// One added to a state that had none, too.
	_, err = signIn(t, p, nil, func(v url.Values) { v.Set("state", v.Get("state")+hex.EncodeToString([]byte("&audience=cluster-b"))) })
	if err == nil || !strings.Contains(err.Error(), "does not belong to this sign-in") {
		t.Errorf("added audience: %v", err)
	}
	// The Supervisor refuses the audience: Backstage's message, without its body.
	_, err = signIn(t, p, url.Values{"audience": {"x.pinniped.dev"}}, nil)
	if err == nil || err.Error() != `Failed to get cluster specific ID token for "x.pinniped.dev": RFC8693 token exchange failed (HTTP 400 invalid_request)` {
		t.Errorf("refused audience: %v", err)
	}
	// Bad audiences and the allowlist.
	if _, err := signIn(t, p, url.Values{"audience": {"a b"}}, nil); err == nil || !strings.Contains(err.Error(), "spaces") {
		t.Errorf("bad audience: %v", err)
	}
	pa := build(t, func() map[string]any { e := envFor(issuer); e["allowedAudiences"] = []any{"cluster-a"}; return e }())
	if _, err := signIn(t, pa, url.Values{"audience": {"cluster-b"}}, nil); err == nil || !strings.Contains(err.Error(), `The audience "cluster-b" is not allowed`) {
		t.Errorf("allowlist: %v", err)
	}
	if _, err := signIn(t, pa, url.Values{"audience": {"cluster-a"}}, nil); err != nil {
		t.Errorf("allowed audience: %v", err)
	}
}

func TestVerification(t *testing.T) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped})
	issuer := m.Start(t) + mockvendor.PinnipedIssuerPath
	p := build(t, envFor(issuer))
	for _, tc := range []struct {
		fault mockvendor.Fault
		want  string
	}{
		{mockvendor.Fault{BadSignature: true}, "the ID token signature could not be verified"},
		{mockvendor.Fault{IDTokenAudience: "other"}, "audience does not include this client"},
		{mockvendor.Fault{IDTokenIssuer: "https://evil.example.com/issuer"}, "issuer"},
		{mockvendor.Fault{AuthorizeError: "access_denied"}, "Authentication rejected, access_denied"},
		{mockvendor.Fault{TokenStatus: 502}, "HTTP 502"},
	} {
		m.SetFault(tc.fault)
		_, err := signIn(t, p, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "canary") {
			t.Errorf("%+v: %v, want %q", tc.fault, err, tc.want)
		}
		m.ClearFault()
	}
	// The exchanged cluster token is verified too: a no-op fault for the code exchange,
	// then the fault for the RFC 8693 answer.
	for _, tc := range []struct {
		fault mockvendor.Fault
		want  string
	}{
		{mockvendor.Fault{BadSignature: true}, "the issued token's signature could not be verified"},
		{mockvendor.Fault{IDTokenAudience: "cluster-b"}, "the issued token is not for the requested audience"},
		{mockvendor.Fault{IDTokenIssuer: issuer + "x"}, "the issued token's issuer is not the identity provider"},
	} {
		m.SetFault(mockvendor.Fault{TokenDelay: time.Nanosecond})
		m.SetFault(tc.fault)
		_, err := signIn(t, p, url.Values{"audience": {"cluster-a"}}, nil)
		if err == nil || !strings.Contains(err.Error(), `Failed to get cluster specific ID token for "cluster-a"`) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.fault, err, tc.want)
		}
		m.ClearFault()
	}
}

func TestTimeout(t *testing.T) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped})
	issuer := m.Start(t) + mockvendor.PinnipedIssuerPath
	e := envFor(issuer)
	e["timeout"] = "100ms"
	p := build(t, e)
	m.SetFault(mockvendor.Fault{TokenDelay: time.Second})
	if _, err := signIn(t, p, nil, nil); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("timeout: %v", err)
	}
}

// The Supervisor down during a refresh: the session's ID token is still good, the
// exchange cannot be made, so nothing is decided (503 with a retry hint), not a 401.
func TestRefreshDuringOutage(t *testing.T) {
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.Pinniped})
	issuer := m.Start(t) + mockvendor.PinnipedIssuerPath
	p := build(t, envFor(issuer))
	res, err := signIn(t, p, url.Values{"audience": {"cluster-a"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.SetUnavailable(true)
	_, err = p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "openid"})
	var ra interface{ RetryAfter() time.Duration }
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
		t.Errorf("refresh during an outage: %v", err)
	}
	m.SetUnavailable(false)
	if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "openid"}); err != nil {
		t.Errorf("refresh after the outage: %v", err)
	}
}
