package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// These tests drive the real go-oidc and x/oauth2 against an IdP that misbehaves, so the
// errors classified are the libraries' own values, and assert the class and the exact
// message a user sees.

var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// faultyIdP is a minimal OpenID Connect IdP (no PKCE, no userinfo) whose token and JWKS
// endpoints a test can replace.
type faultyIdP struct {
	srv *httptest.Server

	mu     sync.Mutex
	nonce  string
	token  http.HandlerFunc // nil: a valid token response
	jwks   http.HandlerFunc // nil: the signing key
	claims func(map[string]any)
	// stranger signs with a key the JWKS does not publish.
	stranger bool
}

func newFaultyIdP(t testing.TB) *faultyIdP {
	f := &faultyIdP{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := f.srv.URL
		writeTestJSON(w, http.StatusOK, map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/auth", "token_endpoint": iss + "/token", "jwks_uri": iss + "/keys",
			"grant_types_supported": []string{"authorization_code", "refresh_token"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("POST /token", f.replaceable(func() http.HandlerFunc { return f.token }, func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, http.StatusOK, map[string]any{
			"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1", "id_token": f.idToken(),
		})
	}))
	mux.HandleFunc("GET /keys", f.replaceable(func() http.HandlerFunc { return f.jwks }, func(w http.ResponseWriter, r *http.Request) {
		pub := testKeys()[0].PublicKey
		writeTestJSON(w, http.StatusOK, map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// replaceable serves the handler a test put in place (read by get under the lock), else
// def.
func (f *faultyIdP) replaceable(get func() http.HandlerFunc, def http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := get()
		f.mu.Unlock()
		if h == nil {
			h = def
		}
		h(w, r)
	}
}

func (f *faultyIdP) set(edit func(f *faultyIdP)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(f)
}

func (f *faultyIdP) idToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	claims := map[string]any{
		"iss": f.srv.URL, "sub": "u-1", "aud": "backstage-client", "email": "a@example.com", "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if f.nonce != "" {
		claims["nonce"] = f.nonce
	}
	if f.claims != nil {
		f.claims(claims)
	}
	key := testKeys()[0]
	if f.stranger {
		key = testKeys()[1]
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

func (f *faultyIdP) provider(t testing.TB, timeout time.Duration, now func() time.Time) *oidc.Provider {
	t.Helper()
	return f.providerWith(t, timeout, providers.Deps{Now: now})
}

func (f *faultyIdP) providerWith(t testing.TB, timeout time.Duration, deps providers.Deps) *oidc.Provider {
	t.Helper()
	m := map[string]any{"metadataUrl": f.srv.URL, "clientId": "backstage-client", "clientSecret": "backstage-secret"}
	if timeout != 0 {
		m["timeout"] = timeout.String()
	}
	cfg, ps := oidc.Module.Parse(config.SectionFromMap(m))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(deps)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*oidc.Provider)
}

// signIn runs the callback half of a sign-in (the IdP needs no authorize step).
func (f *faultyIdP) signIn(ctx context.Context, p *oidc.Provider) (providers.Result, error) {
	secrets := providertest.NewSecrets()
	f.set(func(f *faultyIdP) { f.nonce = secrets.Nonce })
	return p.Authenticate(ctx, providers.CallbackRequest{
		Params: url.Values{"code": {"c1"}, "state": {"s"}}, CallbackURL: "http://127.0.0.1:7007/cb", Secrets: secrets,
	})
}

// signedInSession is a sign-in at a faulty IdP with a provider on a test clock.
type signedInSession struct {
	idp   *faultyIdP
	p     *oidc.Provider
	clock *providertest.Clock
	res   providers.Result
}

// signedIn signs in at a new faulty IdP, first edited by edit (nil: as it is), with a
// provider on a test clock; timeout and log are the provider's (zero: the defaults).
func signedIn(t *testing.T, timeout time.Duration, log *slog.Logger, edit func(*faultyIdP)) signedInSession {
	t.Helper()
	s := signedInSession{idp: newFaultyIdP(t), clock: &providertest.Clock{}}
	s.p = s.idp.providerWith(t, timeout, providers.Deps{Now: s.clock.Now, Logger: log})
	if edit != nil {
		s.idp.set(edit)
	}
	res, err := s.idp.signIn(context.Background(), s.p)
	if err != nil {
		t.Fatal(err)
	}
	s.res = res
	return s
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// stall answers after d (or when the client gives up).
func stall(d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Read the request first: only then does net/http notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
}

// stallBody sends a 200 header and then no body within d.
func stallBody(d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(`{"access_token":`))
		_ = http.NewResponseController(w).Flush()
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
}

func wantError(t *testing.T, err error, name, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s %q", name, msg)
	}
	if got := backstageerr.NameOf(err); got != name {
		t.Errorf("class %s, want %s (%v)", got, name, err)
	}
	if got := backstageerr.MessageOf(err); got != msg {
		t.Errorf("message\n got %q\nwant %q", got, msg)
	}
}

func TestTokenEndpointErrorsAreClassified(t *testing.T) {
	const failed = "Authentication failed, token exchange with the identity provider "
	for _, tc := range []struct {
		name    string
		token   http.HandlerFunc
		timeout time.Duration
		msg     string
	}{
		{"2xx not JSON", answer(http.StatusOK, "text/html", "<html>hello</html>"), 0, failed + "failed (invalid token response)"},
		{"2xx JSON without access_token", answer(http.StatusOK, "application/json", `{"token_type":"Bearer","id_token":"x"}`), 0, failed + "failed (invalid token response)"},
		{"2xx form without access_token", answer(http.StatusOK, "application/x-www-form-urlencoded", "token_type=bearer"), 0, failed + "failed (invalid token response)"},
		{"2xx unparsable form", answer(http.StatusOK, "application/x-www-form-urlencoded", "access_token=%zz"), 0, failed + "failed (invalid token response)"},
		{"2xx with an error code", answer(http.StatusOK, "application/json", `{"error":"invalid_grant"}`), 0, failed + "failed (HTTP 200 invalid_grant)"},
		{"400 invalid_grant", answer(http.StatusBadRequest, "application/json", `{"error":"invalid_grant","error_description":"canary"}`), 0, failed + "failed (HTTP 400 invalid_grant)"},
		{"401 invalid_client", answer(http.StatusUnauthorized, "application/json", `{"error":"invalid_client"}`), 0, failed + "failed (HTTP 401 invalid_client)"},
		{"500 HTML", answer(http.StatusInternalServerError, "text/html", "<h1>canary</h1>"), 0, failed + "failed (HTTP 500)"},
		{"503 with a hostile error code", answer(http.StatusServiceUnavailable, "application/json", `{"error":"<script>"}`), 0, failed + "failed (HTTP 503)"},
		{"connection closed", hangUp, 0, failed + "failed (the identity provider could not be reached)"},
		{"no answer in time", stall(5 * time.Second), 200 * time.Millisecond, failed + "timed out after 200ms"},
		{"body not in time", stallBody(5 * time.Second), 200 * time.Millisecond, failed + "timed out after 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newFaultyIdP(t)
			idp.set(func(f *faultyIdP) { f.token = tc.token })
			_, err := idp.signIn(context.Background(), idp.provider(t, tc.timeout, nil))
			wantError(t, err, backstageerr.NameError, tc.msg)
		})
	}
}

// The token endpoint's answers are classified; its outages (5xx, no answer) end no
// session: with the session's ID token expired they are 503s naming the failure (with
// a valid one the session goes on, see TestTokenEndpointOutageKeepsTheSession).
func TestRefreshTokenEndpointErrorsAreClassified(t *testing.T) {
	const unavailable = "The identity provider is unavailable, please try again later; caused by Error: "
	for _, tc := range []struct {
		name, class, msg string
		token            http.HandlerFunc
	}{
		{"invalid_grant", backstageerr.NameAuthentication, "The identity provider session has ended, please sign in again (invalid_grant)",
			answer(http.StatusBadRequest, "application/json", `{"error":"invalid_grant"}`)},
		{"2xx without access_token", backstageerr.NameError, "Authentication failed, token refresh with the identity provider failed (invalid token response)",
			answer(http.StatusOK, "application/json", `{"refresh_token":"rt-2"}`)},
		{"500 HTML", backstageerr.NameServiceUnavailable, unavailable + "Authentication failed, token refresh with the identity provider failed (HTTP 500)",
			answer(http.StatusInternalServerError, "text/html", "<h1>down</h1>")},
		{"connection closed", backstageerr.NameServiceUnavailable, unavailable + "Authentication failed, token refresh with the identity provider failed (the identity provider could not be reached)",
			hangUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := signedIn(t, 0, nil, nil)
			s.idp.set(func(f *faultyIdP) { f.token = tc.token })
			s.clock.Advance(2 * time.Hour) // past the ID token's expiry
			_, err := s.p.Refresh(context.Background(), providers.RefreshRequest{Session: s.res.Session})
			wantError(t, err, tc.class, tc.msg)
		})
	}
}

func TestKeyAndIDTokenErrorsAreClassified(t *testing.T) {
	const rejected = "Authentication rejected, "
	const notFetched = rejected + "the identity provider's signing keys could not be fetched"
	const badSig = rejected + "the ID token signature could not be verified with the identity provider's current keys"
	for _, tc := range []struct {
		name  string
		edit  func(f *faultyIdP)
		ctxTO time.Duration // the caller's deadline (the provider's timeout is twice that)
		msg   string
	}{
		{"JWKS 500", func(f *faultyIdP) { f.jwks = answer(http.StatusInternalServerError, "text/html", "<h1>down</h1>") }, 0, notFetched},
		{"JWKS 404 JSON", func(f *faultyIdP) { f.jwks = answer(http.StatusNotFound, "application/json", `{"keys":[]}`) }, 0, notFetched},
		{"JWKS garbage", func(f *faultyIdP) { f.jwks = answer(http.StatusOK, "application/json", "<html>") }, 0, notFetched},
		{"JWKS not a key set", func(f *faultyIdP) { f.jwks = answer(http.StatusOK, "application/json", `{"keys":"none"}`) }, 0, notFetched},
		{"JWKS connection closed", func(f *faultyIdP) { f.jwks = hangUp }, 0, notFetched},
		{"JWKS not in time", func(f *faultyIdP) { f.jwks = stall(5 * time.Second) }, 300 * time.Millisecond, notFetched + " in time"},
		{"JWKS without the signing key", func(f *faultyIdP) { f.stranger = true }, 0, badSig},
		{"JWKS empty", func(f *faultyIdP) { f.jwks = answer(http.StatusOK, "application/json", `{"keys":[]}`) }, 0, badSig},
		{"malformed exp", func(f *faultyIdP) { f.claims = func(c map[string]any) { c["exp"] = "tomorrow" } }, 0, rejected + "the ID token claims are malformed"},
		{"malformed aud", func(f *faultyIdP) { f.claims = func(c map[string]any) { c["aud"] = 42 } }, 0, rejected + "the ID token claims are malformed"},
		// go-oidc refuses a distributed claim without a source after the signature check:
		// the claims are malformed (matched as text, this read as a bad signature).
		{"distributed claim without source", func(f *faultyIdP) {
			f.claims = func(c map[string]any) { c["_claim_names"] = map[string]any{"groups": "src1"} }
		}, 0, rejected + "the ID token claims are malformed"},
		// A 200 JSON key set whose key go-jose cannot decode was fetched; no key of it
		// verifies the token.
		{"JWKS with an undecodable key", func(f *faultyIdP) {
			f.jwks = answer(http.StatusOK, "application/json", `{"keys":[{"kty":"RSA","alg":"RS256","kid":"k1","n":"!","e":"AQAB"}]}`)
		}, 0, badSig},
		{"malformed claims, bad signature", func(f *faultyIdP) {
			f.claims = func(c map[string]any) { c["exp"] = "tomorrow" }
			f.stranger = true
		}, 0, badSig},
		{"expired", func(f *faultyIdP) {
			f.claims = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
		}, 0, rejected + "the ID token has expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newFaultyIdP(t)
			idp.set(tc.edit)
			ctx := context.Background()
			if tc.ctxTO != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTO)
				defer cancel()
			}
			_, err := idp.signIn(ctx, idp.provider(t, 2*tc.ctxTO, nil))
			wantError(t, err, backstageerr.NameError, tc.msg)
		})
	}
}

// Re-verification on refresh (a session without a refresh token) reports decided
// failures as 401s, in the session's words, and undecided ones (no keys: security
// finding 5) as 503s.
func TestReverifyErrorsAreClassified(t *testing.T) {
	for _, tc := range []struct {
		name string
		// after runs between sign-in and refresh; it returns the provider that refreshes.
		after      func(t *testing.T, idp *faultyIdP, p *oidc.Provider, clock *providertest.Clock) *oidc.Provider
		class, msg string
	}{
		{"expired", func(t *testing.T, idp *faultyIdP, p *oidc.Provider, clock *providertest.Clock) *oidc.Provider {
			clock.Advance(2 * time.Hour)
			return p
		}, backstageerr.NameAuthentication, "Token has expired, please sign in again"},
		{"JWKS down", func(t *testing.T, idp *faultyIdP, p *oidc.Provider, clock *providertest.Clock) *oidc.Provider {
			idp.set(func(f *faultyIdP) { f.jwks = answer(http.StatusBadGateway, "text/plain", "bad gateway") })
			return idp.provider(t, 0, nil) // a fresh provider has no cached keys
		}, backstageerr.NameServiceUnavailable, "The identity provider is unavailable, please try again later; caused by Error: the identity provider's signing keys could not be fetched"},
		{"expired, JWKS down", func(t *testing.T, idp *faultyIdP, p *oidc.Provider, clock *providertest.Clock) *oidc.Provider {
			idp.set(func(f *faultyIdP) { f.jwks = answer(http.StatusBadGateway, "text/plain", "bad gateway") })
			clock.Advance(2 * time.Hour)
			return idp.provider(t, 0, clock.Now) // no keys, but an expired token is refused without them
		}, backstageerr.NameAuthentication, "Token has expired, please sign in again"},
		{"signing key gone", func(t *testing.T, idp *faultyIdP, p *oidc.Provider, clock *providertest.Clock) *oidc.Provider {
			idp.set(func(f *faultyIdP) { f.jwks = answer(http.StatusOK, "application/json", `{"keys":[]}`) })
			clock.Advance(6 * time.Minute) // past the key set's maximum age
			return p
		}, backstageerr.NameAuthentication, "The session's ID token is no longer valid (the ID token signature could not be verified with the identity provider's current keys), please sign in again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newFaultyIdP(t)
			clock := &providertest.Clock{}
			p := idp.provider(t, 0, clock.Now)
			idp.set(func(f *faultyIdP) {
				f.token = func(w http.ResponseWriter, r *http.Request) {
					writeTestJSON(w, http.StatusOK, map[string]any{"access_token": "at-1", "token_type": "Bearer", "id_token": f.idToken()})
				}
			})
			res, err := idp.signIn(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tc.after(t, idp, p, clock).Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
			wantError(t, err, tc.class, tc.msg)
		})
	}
}
