package providertest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
)

// Provider is what the kit drives: an OAuth provider of the OpenID Connect family, with
// refresh, logout and scopes.
type Provider interface {
	providers.OAuthProvider
	providers.Refresher
	providers.Logouter
	providers.Scoper
}

// Knobs are the provider settings a conformance case may change.
type Knobs struct {
	// Timeout is the provider's upstream timeout (0: the harness default).
	Timeout time.Duration
	// Prompt is the configured prompt ("": none).
	Prompt string
	// Now is the provider's clock.
	Now func() time.Time
}

// Harness adapts one provider implementation to RunConformance.
type Harness struct {
	// New builds the provider for the mock IdP whose issuer URL is given, with the mock's
	// default client (backstage-client / backstage-secret).
	New func(t *testing.T, issuer string, k Knobs) Provider
	// IdP is the mock personality the provider is built for. The OpenID Connect checks
	// run against it; with mockpalette.Palette the Palette checks run as well.
	IdP mockpalette.Personality
	// TokenAuthMethod is the client authentication the provider must use at the token
	// endpoint: "client_secret_basic" or "client_secret_post".
	TokenAuthMethod string
	// EmailWithoutVerifiedClaim: an ID token without email_verified still yields the
	// email (spectrocloud's default; generic oidc requires the claim, as Backstage).
	EmailWithoutVerifiedClaim bool

	// Palette only (IdP must be mockpalette.Palette):

	// SessionTokenAsAccessToken: providerInfo.accessToken is Palette's HS256 session
	// token (spectrocloud) rather than the access_token (oidc).
	SessionTokenAsAccessToken bool
}

// Clock is a settable clock for conformance cases: real time plus an offset.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns real time plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

const callbackURL = "http://127.0.0.1:7007/api/auth/p/handler/frame"

// DefaultScope is the scope Flow requests unless told otherwise.
const DefaultScope = "openid profile email"

// offlineScope asks a generic IdP for a refresh token (OIDC Core 11).
const offlineScope = DefaultScope + " offline_access"

// Flow drives sign-ins against a provider and a mock IdP.
type Flow struct {
	T        testing.TB
	IdP      *mockpalette.Server
	Provider Provider
	// Scope is requested at Start ("": DefaultScope).
	Scope string
}

// Begin runs Start with fresh secrets and follows the IdP's redirect; it returns the
// callback parameters the browser would bring back.
func (f Flow) Begin(secrets providers.FlowSecrets) (url.Values, error) {
	f.T.Helper()
	scope := f.Scope
	if scope == "" {
		scope = DefaultScope
	}
	start, err := f.Provider.Start(context.Background(), providers.StartRequest{
		Scope: scope, State: "6e6f6e63653d616263", CallbackURL: callbackURL, Secrets: secrets,
	})
	if err != nil {
		return nil, err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(start.URL)
	if err != nil {
		f.T.Fatalf("authorize request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		f.T.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		f.T.Fatalf("authorize Location: %v", err)
	}
	return loc.Query(), nil
}

// SignIn runs a whole sign-in.
func (f Flow) SignIn() (providers.Result, providers.CallbackRequest, error) {
	f.T.Helper()
	secrets := NewSecrets()
	params, err := f.Begin(secrets)
	if err != nil {
		return providers.Result{}, providers.CallbackRequest{}, err
	}
	req := providers.CallbackRequest{Params: params, CallbackURL: callbackURL, Secrets: secrets}
	res, err := f.Provider.Authenticate(context.Background(), req)
	return res, req, err
}

// NewSecrets returns per-sign-in secrets as authbackend would derive them.
func NewSecrets() providers.FlowSecrets {
	return providers.FlowSecrets{Nonce: base64.StdEncoding.EncodeToString(randomNonce()), PKCEVerifier: oauth2.GenerateVerifier()}
}

// RunConformance runs the provider conformance table against h: the OpenID Connect
// checks against the mock personality h targets, then, for Palette, the Palette ones.
// A check in the OpenID Connect group must hold for any standard IdP: whatever only
// Palette does belongs in the Palette group.
func RunConformance(t *testing.T, h Harness) {
	if h.SessionTokenAsAccessToken && h.IdP != mockpalette.Palette {
		t.Fatalf("SessionTokenAsAccessToken is a Palette expectation, but the harness targets %s", h.IdP)
	}
	c := conformance{h: h}
	t.Run("oidc", c.oidc)
	if h.IdP == mockpalette.Palette {
		t.Run("palette", c.palette)
	}
}

type conformance struct{ h Harness }

// env starts a mock IdP of the harness's personality and builds the provider for it.
func (c conformance) env(t *testing.T, opts mockpalette.Options, k Knobs) (Flow, *Clock) {
	opts.Personality = c.h.IdP
	idp := mockpalette.New(opts)
	issuer := idp.Start(t)
	clock := &Clock{}
	if k.Now == nil {
		k.Now = clock.Now
	}
	return Flow{T: t, IdP: idp, Provider: c.h.New(t, issuer, k)}, clock
}

// refreshEnv is env for an IdP that offers the refresh grant and a flow that gets a
// refresh token from it (Palette needs the mock option, a generic IdP offline_access).
func (c conformance) refreshEnv(t *testing.T) Flow {
	f, _ := c.env(t, mockpalette.Options{RefreshGrant: true}, Knobs{})
	f.Scope = offlineScope
	return f
}

func secretsLeak(t *testing.T, err error, extra ...string) {
	t.Helper()
	msg := err.Error()
	for _, s := range append([]string{"backstage-secret", "canary", "mock-at-", "mock-rt-", "eyJ", "mock-code-"}, extra...) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error message %q leaks %q", msg, s)
		}
	}
}

// errorSays reports whether err is non-nil and its message contains each part.
func errorSays(err error, parts ...string) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			return false
		}
	}
	return true
}

// oidc is what any OpenID Connect IdP and provider must do.
func (c conformance) oidc(t *testing.T) {
	h := c.h
	t.Run("start URL", func(t *testing.T) {
		for _, prompt := range []string{"", "login"} {
			f, _ := c.env(t, mockpalette.Options{}, Knobs{Prompt: prompt})
			secrets := NewSecrets()
			start, err := f.Provider.Start(context.Background(), providers.StartRequest{
				Scope: offlineScope, State: "6e6f6e6365", CallbackURL: callbackURL, Secrets: secrets,
			})
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			u, _ := url.Parse(start.URL)
			q := u.Query()
			want := map[string]string{
				"response_type": "code", "client_id": "backstage-client", "redirect_uri": callbackURL,
				"scope": offlineScope, "state": "6e6f6e6365", "nonce": secrets.Nonce,
				"code_challenge": oauth2.S256ChallengeFromVerifier(secrets.PKCEVerifier), "code_challenge_method": "S256",
			}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("prompt=%q: %s = %q, want %q", prompt, k, got, v)
				}
			}
			if u.Path != f.IdP.Endpoints().Authorize {
				t.Errorf("authorize path %q, want the discovered %q", u.Path, f.IdP.Endpoints().Authorize)
			}
			if q.Has("prompt") != (prompt != "") || q.Get("prompt") != prompt {
				t.Errorf("prompt = %q (present %v), want %q", q.Get("prompt"), q.Has("prompt"), prompt)
			}
		}
	})

	t.Run("sign-in", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		res, _, err := f.SignIn()
		if err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		if res.Profile.Email != "alice@example.com" || res.Profile.DisplayName != "Alice Smith" {
			t.Errorf("profile = %+v", res.Profile)
		}
		if alg := jwtHeader(t, res.ProviderInfo.IDToken)["alg"]; alg != "RS256" {
			t.Errorf("providerInfo.idToken alg = %v, want the RS256 ID token", alg)
		}
		// Palette's session token in its place is checked with the Palette group.
		if !h.SessionTokenAsAccessToken && !strings.HasPrefix(res.ProviderInfo.AccessToken, "mock-at-") {
			t.Errorf("providerInfo.accessToken = %.20q..., want the access_token", res.ProviderInfo.AccessToken)
		}
		if e := res.ProviderInfo.ExpiresInSeconds; e < 3500 || e > 3600 {
			t.Errorf("expiresInSeconds = %d, want about 3600", e)
		}
		if res.Claims["sub"] != "u-alice-0001" {
			t.Errorf("claims sub = %v", res.Claims["sub"])
		}
		if g, _ := res.Claims["groups"].([]any); len(g) != 1 || g[0] != "team-a" {
			t.Errorf("claims groups = %#v, want [team-a]", res.Claims["groups"])
		}
		if len(res.Session) == 0 {
			t.Error("no session")
		}
		toks := f.IdP.RequestsTo(f.IdP.Endpoints().Token)
		if len(toks) != 1 {
			t.Fatalf("%d token requests, want 1", len(toks))
		}
		tr := toks[0]
		_, _, basic := (&http.Request{Header: tr.Header}).BasicAuth()
		switch h.TokenAuthMethod {
		case "client_secret_post":
			if basic || tr.Form.Get("client_secret") != "backstage-secret" || tr.Form.Get("client_id") != "backstage-client" {
				t.Errorf("want client_secret_post, got basic=%v form=%v", basic, tr.Form)
			}
		case "client_secret_basic":
			if !basic || tr.Form.Has("client_secret") {
				t.Errorf("want client_secret_basic, got basic=%v form secret=%v", basic, tr.Form.Has("client_secret"))
			}
		default:
			t.Errorf("harness TokenAuthMethod %q", h.TokenAuthMethod)
		}
		if tr.Form.Get("code_verifier") == "" {
			t.Error("token request has no PKCE code_verifier")
		}
	})

	idTokenFaults := []struct {
		name  string
		fault mockpalette.Fault
		ok    bool
	}{
		{"bad signature", mockpalette.Fault{BadSignature: true}, false},
		{"wrong issuer", mockpalette.Fault{Issuer: "http://127.0.0.1:1/evil"}, false},
		{"wrong audience", mockpalette.Fault{Audience: "another-client"}, false},
		{"expired beyond skew", mockpalette.Fault{IDTokenTTL: -120 * time.Second}, false},
		{"expired within skew", mockpalette.Fault{IDTokenTTL: -20 * time.Second}, true},
		{"iat in future beyond skew", mockpalette.Fault{IssuedAtOffset: 10 * time.Minute}, false},
		{"iat in future within skew", mockpalette.Fault{IssuedAtOffset: 20 * time.Second}, true},
		{"alg none", mockpalette.Fault{AlgNone: true}, false},
		{"HS256 signed with the public key", mockpalette.Fault{HS256WithPublicKey: true}, false},
		{"wrong nonce", mockpalette.Fault{Nonce: ptr("not-the-nonce-we-sent")}, false},
		{"missing nonce", mockpalette.Fault{Nonce: ptr("")}, false},
		{"at_hash of another access token", mockpalette.Fault{BadAtHash: true}, false},
		{"userinfo subject differs", mockpalette.Fault{UserinfoSubject: "u-mallory"}, false},
	}
	for _, tc := range idTokenFaults {
		t.Run("id token/"+tc.name, func(t *testing.T) {
			f, _ := c.env(t, mockpalette.Options{}, Knobs{})
			f.IdP.SetFault(tc.fault)
			res, _, err := f.SignIn()
			if tc.ok {
				if err != nil {
					t.Fatalf("sign-in: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("sign-in accepted (profile %+v)", res.Profile)
			}
			if !strings.HasPrefix(err.Error(), "Authentication rejected, ") {
				t.Errorf("error %q, want Authentication rejected, ...", err)
			}
			secretsLeak(t, err)
		})
	}

	t.Run("IdP error param", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		f.IdP.SetFault(mockpalette.Fault{AuthorizeError: "access_denied", AuthorizeErrorDescription: "mockpalette.User denied <script>alert(1)</script>\x00\n" + strings.Repeat("x", 500)})
		_, _, err := f.SignIn()
		if err == nil {
			t.Fatal("sign-in accepted")
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "Authentication rejected, access_denied") || strings.ContainsAny(msg, "\x00\n") || len(msg) > 300 {
			t.Errorf("error %q", msg)
		}
		if len(f.IdP.RequestsTo(f.IdP.Endpoints().Token)) != 0 {
			t.Error("token endpoint called after an IdP error")
		}
	})

	t.Run("missing code", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		_, err := f.Provider.Authenticate(context.Background(), providers.CallbackRequest{
			Params: url.Values{"state": {"x"}}, CallbackURL: callbackURL, Secrets: NewSecrets(),
		})
		if !errorSays(err, "no authorization code") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("code replay", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		_, req, err := f.SignIn()
		if err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		_, err = f.Provider.Authenticate(context.Background(), req)
		if err == nil {
			t.Fatal("replayed code accepted")
		}
		if want := "(HTTP 400 invalid_grant)"; !errorSays(err, want) || !strings.HasPrefix(err.Error(), "Authentication failed, ") {
			t.Errorf("error %q, want Authentication failed ... %s", err, want)
		}
		secretsLeak(t, err, "unknown or used code", req.Params.Get("code"))
	})

	t.Run("PKCE verifier of another sign-in", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		secrets := NewSecrets()
		params, err := f.Begin(secrets)
		if err != nil {
			t.Fatal(err)
		}
		other := secrets
		other.PKCEVerifier = oauth2.GenerateVerifier()
		if _, err := f.Provider.Authenticate(context.Background(), providers.CallbackRequest{Params: params, CallbackURL: callbackURL, Secrets: other}); err == nil {
			t.Fatal("foreign PKCE verifier accepted")
		}
	})

	t.Run("token endpoint 5xx", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		f.IdP.SetFault(mockpalette.Fault{TokenStatus: http.StatusBadGateway})
		_, _, err := f.SignIn()
		if !errorSays(err, "HTTP 502") {
			t.Fatalf("err = %v, want HTTP 502", err)
		}
		secretsLeak(t, err)
	})

	t.Run("slow token endpoint", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{Timeout: 300 * time.Millisecond})
		f.IdP.SetFault(mockpalette.Fault{TokenDelay: 5 * time.Second})
		start := time.Now()
		_, _, err := f.SignIn()
		if !errorSays(err, "timed out") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		// Functional bound, not a benchmark: the provider gave up long before the IdP answered.
		if el := time.Since(start); el > 4*time.Second {
			t.Errorf("gave up after %s", el)
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		if _, _, err := f.SignIn(); err != nil {
			t.Fatal(err)
		}
		f.IdP.RotateKeys()
		if _, _, err := f.SignIn(); err != nil {
			t.Fatalf("sign-in after rotation: %v", err)
		}
		if n := len(f.IdP.RequestsTo(f.IdP.Endpoints().JWKS)); n != 2 {
			t.Errorf("%d JWKS fetches, want 2 (initial + one refetch for the new kid)", n)
		}
	})

	t.Run("key rotation with concurrent sign-ins", func(t *testing.T) {
		idp := mockpalette.New(mockpalette.Options{Personality: h.IdP})
		jwks := idp.Endpoints().JWKS
		// Slow JWKS answers so that concurrent verifications overlap the refetch.
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == jwks {
				time.Sleep(300 * time.Millisecond)
			}
			idp.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(ts.Close)
		clock := &Clock{}
		f := Flow{T: t, IdP: idp, Provider: h.New(t, ts.URL+idp.IssuerPath(), Knobs{Now: clock.Now})}
		if _, _, err := f.SignIn(); err != nil {
			t.Fatal(err)
		}
		idp.RotateKeys()
		const n = 6
		errs := make(chan error, n)
		for range n {
			go func() { _, _, err := f.SignIn(); errs <- err }()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("concurrent sign-in: %v", err)
			}
		}
		if got := len(idp.RequestsTo(jwks)); got != 2 {
			t.Errorf("%d JWKS fetches, want 2 (concurrent callers share one refetch)", got)
		}
	})

	t.Run("discovery down at construction, then up", func(t *testing.T) {
		idp := mockpalette.New(mockpalette.Options{Personality: h.IdP})
		idp.SetUnavailable(true)
		issuer := idp.Start(t)
		clock := &Clock{}
		p := h.New(t, issuer, Knobs{Now: clock.Now})
		if n := len(idp.Requests()); n != 0 {
			t.Fatalf("construction made %d requests", n)
		}
		f := Flow{T: t, IdP: idp, Provider: p}
		if _, err := f.Begin(NewSecrets()); !errorSays(err, "HTTP 503") {
			t.Fatalf("Start while down: %v", err)
		}
		idp.SetUnavailable(false)
		// Within the backoff the cached failure answers without a request.
		if _, err := f.Begin(NewSecrets()); err == nil {
			t.Fatal("Start within backoff succeeded")
		}
		if n := len(idp.RequestsTo(idp.Endpoints().Discovery)); n != 1 {
			t.Errorf("%d discovery requests within backoff, want 1", n)
		}
		clock.Advance(2 * time.Second)
		if _, _, err := f.SignIn(); err != nil {
			t.Fatalf("sign-in after the IdP came back: %v", err)
		}
	})

	t.Run("discovery issuer mismatch", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		f.IdP.SetDiscoveryIssuer("https://evil.example" + f.IdP.IssuerPath())
		_, err := f.Begin(NewSecrets())
		if !errorSays(err, "does not match") {
			t.Fatalf("err = %v, want issuer mismatch", err)
		}
	})

	t.Run("email_verified", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			value any
			email string
		}{
			{"true", true, "alice@example.com"},
			{"false", false, ""},
			{"string false", "false", ""},
			{"string true", "true", "alice@example.com"},
			{"other string", "no", ""},
			{"absent", nil, map[bool]string{true: "alice@example.com", false: ""}[h.EmailWithoutVerifiedClaim]},
		} {
			f, _ := c.env(t, mockpalette.Options{}, Knobs{})
			u := mockpalette.DefaultUsers()[0]
			u.EmailVerified = nil
			f.IdP.SetFault(mockpalette.Fault{User: &u, EmailVerified: tc.value})
			res, _, err := f.SignIn()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if res.Profile.Email != tc.email {
				t.Errorf("%s: email = %q, want %q", tc.name, res.Profile.Email, tc.email)
			}
			if res.Claims["email"] != "alice@example.com" {
				t.Errorf("%s: claims keep the email for resolvers, got %v", tc.name, res.Claims["email"])
			}
		}
	})

	t.Run("display name", func(t *testing.T) {
		for _, tc := range []struct {
			user mockpalette.User
			want string
		}{
			{mockpalette.User{Subject: "u1", Email: "a@example.com", Name: "Full Name", GivenName: "G", FamilyName: "F"}, "Full Name"},
			{mockpalette.User{Subject: "u2", Email: "b@example.com", GivenName: "Given", FamilyName: "Family"}, "Given Family"},
			{mockpalette.User{Subject: "u3", Email: "c@example.com", GivenName: "Only"}, "Only"},
			{mockpalette.User{Subject: "u4", Email: "d@example.com"}, ""},
		} {
			f, _ := c.env(t, mockpalette.Options{}, Knobs{})
			f.IdP.SetFault(mockpalette.Fault{User: &tc.user})
			res, _, err := f.SignIn()
			if err != nil {
				t.Fatal(err)
			}
			if res.Profile.DisplayName != tc.want {
				t.Errorf("%s: displayName = %q, want %q", tc.user.Subject, res.Profile.DisplayName, tc.want)
			}
		}
	})

	t.Run("refresh with refresh grant", func(t *testing.T) {
		f := c.refreshEnv(t)
		res, _, err := f.SignIn()
		if err != nil {
			t.Fatal(err)
		}
		r1, err := f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: DefaultScope})
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if len(r1.Session) == 0 || string(r1.Session) == string(res.Session) {
			t.Fatal("refresh did not rotate the session")
		}
		if r1.ProviderInfo.IDToken == "" || r1.ProviderInfo.IDToken == res.ProviderInfo.IDToken {
			t.Error("refresh did not return the new ID token")
		}
		if r1.Profile.Email != "alice@example.com" {
			t.Errorf("refresh profile = %+v", r1.Profile)
		}
		if got := f.IdP.RequestsTo(f.IdP.Endpoints().Token); got[len(got)-1].Form.Get("grant_type") != "refresh_token" {
			t.Error("no refresh_token grant used")
		}
		// The rotated-away refresh token is dead.
		_, err = f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
		if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !errorSays(err, "session has ended") {
			t.Fatalf("refresh with a used refresh token: %v (%s)", err, backstageerr.NameOf(err))
		}
		secretsLeak(t, err)
		// The IdP ends the user's sessions.
		if n := f.IdP.RevokeUser("u-alice-0001"); n != 1 {
			t.Fatalf("revoked %d refresh tokens, want 1", n)
		}
		if _, err := f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: r1.Session}); backstageerr.NameOf(err) != backstageerr.NameAuthentication {
			t.Fatalf("refresh after revocation: %v", err)
		}
	})

	t.Run("logout revokes the refresh token", func(t *testing.T) {
		f := c.refreshEnv(t)
		res, _, err := f.SignIn()
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Provider.Logout(context.Background(), res.Session); err != nil {
			t.Fatalf("logout: %v", err)
		}
		revokes := f.IdP.RequestsTo(f.IdP.Endpoints().Revoke)
		if len(revokes) != 1 || !strings.HasPrefix(revokes[0].Form.Get("token"), "mock-rt-") {
			t.Fatalf("%d revocation requests (%v), want 1 for the refresh token", len(revokes), revokes)
		}
		if _, err := f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); err == nil {
			t.Fatal("refresh after logout succeeded")
		}
		// IdP trouble at logout is not the user's problem.
		f.IdP.SetUnavailable(true)
		if err := f.Provider.Logout(context.Background(), res.Session); err != nil {
			t.Fatalf("logout with the IdP down: %v", err)
		}
	})

	// Without a refresh token (a generic IdP asked without offline_access; Palette,
	// which has no refresh grant) the session lives as long as the ID token, and refresh
	// re-verifies it.
	t.Run("refresh without refresh token", func(t *testing.T) {
		f, clock := c.env(t, mockpalette.Options{}, Knobs{})
		res, _, err := f.SignIn()
		if err != nil {
			t.Fatal(err)
		}
		if res.SessionExpiresAt.IsZero() {
			t.Error("SessionExpiresAt unset for a session without refresh token")
		}
		tokenCalls := len(f.IdP.RequestsTo(f.IdP.Endpoints().Token))
		r1, err := f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if r1.ProviderInfo.IDToken != res.ProviderInfo.IDToken || r1.ProviderInfo.AccessToken != res.ProviderInfo.AccessToken {
			t.Error("refresh changed providerInfo tokens")
		}
		if r1.Profile != res.Profile || r1.Claims["groups"] == nil {
			t.Errorf("refresh profile %+v claims %v", r1.Profile, r1.Claims)
		}
		if len(f.IdP.RequestsTo(f.IdP.Endpoints().Token)) != tokenCalls {
			t.Error("refresh called the token endpoint without a refresh token")
		}
		clock.Advance(90 * time.Minute)
		_, err = f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
		if backstageerr.NameOf(err) != backstageerr.NameAuthentication || !errorSays(err, "Token has expired") {
			t.Fatalf("refresh of an expired ID token: %v", err)
		}
	})

	t.Run("refresh re-verification cache still enforces expiry", func(t *testing.T) {
		f, clock := c.env(t, mockpalette.Options{}, Knobs{})
		f.IdP.SetFault(mockpalette.Fault{IDTokenTTL: 2 * time.Minute})
		res, _, err := f.SignIn()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ { // the second refresh is served from the cache
			if _, err := f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
		}
		clock.Advance(4 * time.Minute) // past exp+skew, within the key-set cache age
		_, err = f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
		if !errorSays(err, "Token has expired") {
			t.Fatalf("refresh of an expired ID token from the cache: %v", err)
		}
	})

	t.Run("refresh after the IdP rotated the key away", func(t *testing.T) {
		f, clock := c.env(t, mockpalette.Options{}, Knobs{})
		res, _, err := f.SignIn()
		if err != nil {
			t.Fatal(err)
		}
		f.IdP.RotateKeys()
		clock.Advance(6 * time.Minute) // past the JWKS cache age
		_, err = f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
		if backstageerr.NameOf(err) != backstageerr.NameAuthentication {
			t.Fatalf("refresh with a key the IdP no longer publishes: %v", err)
		}
	})

	t.Run("refresh rejects a garbage session", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		for _, s := range [][]byte{nil, []byte("{"), []byte(`{"v":99}`), []byte(`{"v":1}`)} {
			if _, err := f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: s}); backstageerr.NameOf(err) != backstageerr.NameAuthentication {
				t.Errorf("session %q: %v", s, err)
			}
		}
	})

	t.Run("scopes", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		s := f.Provider.Scopes()
		if strings.Join(s.Required, " ") != DefaultScope || !s.Persist {
			t.Errorf("scopes = %+v", s)
		}
	})
}

// palette is what a provider for Palette must do about Palette's quirks.
func (c conformance) palette(t *testing.T) {
	h := c.h
	// Palette returns its HS256 session JWT as refresh_token and has no refresh grant:
	// the token is never redeemed or revoked, and is providerInfo.accessToken when the
	// harness says so.
	t.Run("session token", func(t *testing.T) {
		f, _ := c.env(t, mockpalette.Options{}, Knobs{})
		res, _, err := f.SignIn()
		if err != nil {
			t.Fatal(err)
		}
		access := res.ProviderInfo.AccessToken
		if h.SessionTokenAsAccessToken {
			if strings.Count(access, ".") != 2 || jwtHeader(t, access)["alg"] != "HS256" {
				t.Errorf("providerInfo.accessToken = %.20q..., want Palette's HS256 session token", access)
			}
		} else if !strings.HasPrefix(access, "mock-at-") {
			t.Errorf("providerInfo.accessToken = %.20q..., want the access_token", access)
		}
		for range 3 {
			if _, err := f.Provider.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); err != nil {
				t.Fatalf("refresh: %v", err)
			}
		}
		if err := f.Provider.Logout(context.Background(), res.Session); err != nil {
			t.Fatalf("logout: %v", err)
		}
		for _, r := range f.IdP.RequestsTo(f.IdP.Endpoints().Token) {
			if g := r.Form.Get("grant_type"); g != "authorization_code" {
				t.Errorf("token request with grant_type %q: the session token went to the token endpoint", g)
			}
		}
		if n := len(f.IdP.RequestsTo(f.IdP.Endpoints().Revoke)); n != 0 {
			t.Errorf("%d revocation requests for a Palette session", n)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	i := strings.IndexByte(tok, '.')
	if i < 0 {
		t.Fatalf("not a JWT: %.20q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok[:i])
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	return h
}

func randomNonce() []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
