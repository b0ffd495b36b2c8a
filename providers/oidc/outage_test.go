package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// noRefreshToken makes the token endpoint answer without a refresh token, so refresh
// re-verifies the sealed ID token (Palette's way).
func noRefreshToken(f *faultyIdP) {
	f.token = func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, http.StatusOK, map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "id_token": f.idToken()})
	}
}

func refresh(p *oidc.Provider, session []byte) (providers.Result, error) {
	return p.Refresh(context.Background(), providers.RefreshRequest{Session: session})
}

// retryAfter is the Retry-After hint the router finds in err's chain.
func retryAfter(err error) time.Duration {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.RetryAfter()
	}
	return 0
}

// Security finding 5: an IdP outage longer than the JWKS cache age must not sign
// anyone out. Today's code refetches after 5 minutes, fails, and answers 401.
func TestJWKSOutageKeepsSessions(t *testing.T) {
	var logs providertest.LogBuffer
	s := signedIn(t, 0, logs.Logger(), noRefreshToken)
	idp, p, clock, res := s.idp, s.p, s.clock, s.res

	idp.set(func(f *faultyIdP) { f.jwks = answer(http.StatusBadGateway, "text/plain", "bad gateway") })
	clock.Advance(6 * time.Minute) // past the key set's maximum age
	for i := range 5 {
		r, err := refresh(p, res.Session)
		if err != nil {
			t.Fatalf("refresh %d during the JWKS outage: %v", i, err)
		}
		if r.Profile.Email != "a@example.com" || r.ProviderInfo.IDToken != res.ProviderInfo.IDToken {
			t.Fatalf("refresh %d: %+v", i, r)
		}
		clock.Advance(time.Minute)
	}
	if n := logs.Count("level=WARN"); n != 1 || !strings.Contains(logs.String(), "key endpoint unavailable") {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, logs.String())
	}

	// A replica started during the outage has no keys: nothing can be decided.
	fresh := idp.provider(t, 0, clock.Now)
	_, err := refresh(fresh, res.Session)
	wantError(t, err, backstageerr.NameServiceUnavailable,
		"The identity provider is unavailable, please try again later; caused by Error: the identity provider's signing keys could not be fetched")
	if d := retryAfter(err); d < time.Second || d > time.Minute {
		t.Errorf("Retry-After %s", d)
	}

	// The outage does not extend the ID token's life.
	clock.Advance(2 * time.Hour)
	_, err = refresh(p, res.Session)
	wantError(t, err, backstageerr.NameAuthentication, "Token has expired, please sign in again")
}

// A key set that really changed (the IdP answered without the session's key) is
// decided, outage or not.
func TestJWKSWithoutTheKeyIsDecided(t *testing.T) {
	s := signedIn(t, 0, nil, noRefreshToken)
	idp, p, clock, res := s.idp, s.p, s.clock, s.res
	idp.set(func(f *faultyIdP) { f.jwks = answer(http.StatusBadGateway, "text/plain", "down") })
	clock.Advance(6 * time.Minute)
	if _, err := refresh(p, res.Session); err != nil {
		t.Fatal(err)
	}
	idp.set(func(f *faultyIdP) { f.jwks = answer(http.StatusOK, "application/json", `{"keys":[]}`) })
	clock.Advance(time.Minute) // the next attempt is due
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for {
		_, err = refresh(p, res.Session)
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // the attempt runs in the background
	}
	wantError(t, err, backstageerr.NameAuthentication,
		"The session's ID token is no longer valid (the ID token signature could not be verified with the identity provider's current keys), please sign in again")
}

// Discovery that cannot be loaded, with no document from before, is a 503 on refresh
// (today an Error, which the router turns into a 401).
func TestDiscoveryOutageOnRefreshIs503(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{})
	p := newOIDC(t, clientConfig(idp.Start(t)))
	res, _, err := providertest.Flow{T: t, IdP: idp, Provider: p}.SignIn()
	if err != nil {
		t.Fatal(err)
	}
	idp.SetUnavailable(true)
	// A process started during the outage has no discovery document.
	restarted := newOIDC(t, clientConfig(p.Config().MetadataURL))
	_, err = refresh(restarted, res.Session)
	wantError(t, err, backstageerr.NameServiceUnavailable,
		"The identity provider is unavailable, please try again later; caused by Error: Authentication failed, loading the identity provider's OpenID configuration failed (HTTP 503)")
	if d := retryAfter(err); d < time.Second {
		t.Errorf("Retry-After %s", d)
	}
	// The process that loaded it keeps it.
	if _, err := refresh(p, res.Session); err != nil {
		t.Errorf("refresh with discovery loaded before the outage: %v", err)
	}
}

// Issue 12 (d): a token endpoint that answers 5xx or hangs does not end a session
// whose ID token is valid: the previous providerInfo, the session unchanged.
func TestTokenEndpointOutageKeepsTheSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token http.HandlerFunc
	}{
		{"500", answer(http.StatusInternalServerError, "text/html", "<h1>down</h1>")},
		{"503 temporarily_unavailable", answer(http.StatusServiceUnavailable, "application/json", `{"error":"temporarily_unavailable"}`)},
		{"connection closed", hangUp},
		{"no answer in time", stall(5 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs providertest.LogBuffer
			s := signedIn(t, 300*time.Millisecond, logs.Logger(), nil)
			idp, p, clock, res := s.idp, s.p, s.clock, s.res
			idp.set(func(f *faultyIdP) { f.token = tc.token })
			for range 3 {
				r, err := refresh(p, res.Session)
				if err != nil {
					t.Fatalf("refresh with the token endpoint down: %v", err)
				}
				if r.Session != nil || r.ProviderInfo.IDToken != res.ProviderInfo.IDToken || r.ProviderInfo.AccessToken != res.ProviderInfo.AccessToken {
					t.Fatalf("refresh: session %q, providerInfo %+v, want the previous ones", r.Session, r.ProviderInfo)
				}
				if r.Profile.Email != "a@example.com" {
					t.Fatalf("profile %+v", r.Profile)
				}
			}
			if n := logs.Count("level=WARN"); n != 1 {
				t.Errorf("%d warnings for one outage:\n%s", n, logs.String())
			}
			clock.Advance(2 * time.Hour)
			_, err := refresh(p, res.Session)
			if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || retryAfter(err) < time.Second {
				t.Fatalf("expired ID token, token endpoint down: %v (%s), Retry-After %s", err, backstageerr.NameOf(err), retryAfter(err))
			}
		})
	}
}

// Security finding 8: when the refresh grant answers without an ID token, the identity
// comes from the stored ID token verified again, never from the sealed session's copy
// taken on trust. Today's code reads the stored token's claims unverified.
func TestRefreshWithoutNewIDTokenVerifiesTheStoredOne(t *testing.T) {
	s := signedIn(t, 0, nil, nil)
	idp, p, clock, res := s.idp, s.p, s.clock, s.res
	idp.set(func(f *faultyIdP) {
		f.token = answer(http.StatusOK, "application/json", `{"access_token":"at-2","token_type":"Bearer","expires_in":3600}`)
	})

	var session map[string]any
	if err := json.Unmarshal(res.Session, &session); err != nil {
		t.Fatal(err)
	}
	withIDToken := func(idt string) []byte {
		s := map[string]any{}
		for k, v := range session {
			s[k] = v
		}
		s["idt"] = idt
		b, _ := json.Marshal(s)
		return b
	}
	enc := base64.RawURLEncoding.EncodeToString
	genuine := session["idt"].(string)
	parts := strings.Split(genuine, ".")
	mallory := func() []byte {
		b, _ := json.Marshal(map[string]any{
			"iss": idp.srv.URL, "sub": "u-1", "aud": "backstage-client", "email": "mallory@example.com", "email_verified": true,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		})
		return b
	}
	stranger := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": idp.srv.URL, "sub": "u-1", "aud": "backstage-client", "email": "mallory@example.com", "email_verified": true,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	stranger.Header["kid"] = "k1"
	strangerSigned, _ := stranger.SignedString(testKeys()[1])
	for name, idt := range map[string]string{
		"unsigned":                        enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(mallory()) + ".",
		"payload swapped, same signature": parts[0] + "." + enc(mallory()) + "." + parts[2],
		"signed with a key the IdP lacks": strangerSigned,
		"not a JWT":                       "mallory@example.com",
		"HS256":                           enc([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + enc(mallory()) + "." + parts[2],
	} {
		t.Run(name, func(t *testing.T) {
			r, err := refresh(p, withIDToken(idt))
			if err == nil || backstageerr.NameOf(err) != backstageerr.NameAuthentication {
				t.Fatalf("refresh with a forged stored ID token: %v, profile %+v", err, r.Profile)
			}
			if r.Profile.Email != "" || r.Claims != nil {
				t.Errorf("claims of a forged token reached the result: %+v", r)
			}
		})
	}

	// The genuine stored token verifies, and may have expired: the IdP has just
	// honoured the refresh token.
	clock.Advance(2 * time.Hour)
	r, err := refresh(p, res.Session)
	if err != nil {
		t.Fatalf("refresh with the genuine stored ID token: %v", err)
	}
	if r.Profile.Email != "a@example.com" || r.Claims["sub"] != "u-1" || r.ProviderInfo.AccessToken != "at-2" {
		t.Errorf("refresh: %+v", r)
	}
}

// A refresh grant whose new ID token cannot be checked because its key cannot be
// fetched (a key rotation during a JWKS outage) keeps the rotated refresh token and
// the previous, verified identity.
func TestRotatedRefreshTokenKeptWhenTheNewIDTokenCannotBeChecked(t *testing.T) {
	s := signedIn(t, 0, nil, nil)
	idp, p, res := s.idp, s.p, s.res
	idp.set(func(f *faultyIdP) {
		f.jwks = answer(http.StatusBadGateway, "text/plain", "down")
		f.token = func(w http.ResponseWriter, r *http.Request) {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
				"iss": f.srv.URL, "sub": "u-1", "aud": "backstage-client", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
			})
			tok.Header["kid"] = "k2" // a key the cached set does not have
			s, _ := tok.SignedString(testKeys()[1])
			writeTestJSON(w, http.StatusOK, map[string]any{"access_token": "at-2", "token_type": "Bearer", "refresh_token": "rt-2", "id_token": s})
		}
	})
	r, err := refresh(p, res.Session)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	var sealed map[string]any
	if err := json.Unmarshal(r.Session, &sealed); err != nil {
		t.Fatal(err)
	}
	if sealed["rt"] != "rt-2" || r.ProviderInfo.IDToken != res.ProviderInfo.IDToken || r.Profile.Email != "a@example.com" {
		t.Errorf("session %v, providerInfo %+v, profile %+v", sealed, r.ProviderInfo, r.Profile)
	}
}
