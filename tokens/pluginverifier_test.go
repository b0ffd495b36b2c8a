package tokens

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/credentials"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// callingBackend is another Backstage backend: its mcp-actions plugin publishes its
// plugin keys at /api/mcp-actions/.backstage/auth/v1/jwks.json; other plugins 404.
type callingBackend struct {
	keys    *signingkeys.KeySet
	srv     *httptest.Server
	fetches atomic.Int64
}

func newCallingBackend(t testing.TB, clock *fakeClock) *callingBackend {
	b := &callingBackend{keys: newTestKeySet(t, clock)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/mcp-actions/.backstage/auth/v1/jwks.json" {
			http.NotFound(w, r)
			return
		}
		b.fetches.Add(1)
		body, err := b.keys.JWKS(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *callingBackend) verifier(t testing.TB, clock *fakeClock) *PluginVerifier {
	v, err := NewPluginVerifier(PluginVerifierOptions{
		OwnPluginID: "auth", Now: clock.Now,
		BaseURL: func(id string) string { return b.srv.URL + "/api/" + id }, Keys: keyfetchKeys(clock),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sign signs a plugin token payload with ks's current key.
func sign(t testing.TB, ks *signingkeys.KeySet, payload string) string {
	t.Helper()
	key, err := ks.SigningKey(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := key.Sign(signingkeys.TypPlugin, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func pluginPayload(sub, aud string, iat, exp int64, extra string) string {
	return fmt.Sprintf(`{"sub":%q,"aud":%q,"iat":%d,"exp":%d%s}`, sub, aud, iat, exp, extra)
}

func TestPluginVerifierAcceptsAndCachesKeys(t *testing.T) {
	clock := newFakeClock()
	b := newCallingBackend(t, clock)
	v := b.verifier(t, clock)
	now := clock.Now().Unix()
	// The token PluginTokenIssuer mints (what a Go or Node backend sends).
	tok, err := NewPluginTokenIssuer(b.keys, "mcp-actions", clock.Now).PluginToken(ctxT(t), "auth")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		p, err := v.VerifyPluginToken(ctxT(t), tok)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if p.Subject != "plugin:mcp-actions" || p.OnBehalfOf != "" {
			t.Fatalf("principal %+v", p)
		}
	}
	obo := sign(t, b.keys, pluginPayload("mcp-actions", "auth", now, now+60, `,"obo":"limited.token.here"`))
	if p, err := v.VerifyPluginToken(ctxT(t), obo); err != nil || p.OnBehalfOf != "limited.token.here" {
		t.Fatalf("obo: %+v %v", p, err)
	}
	if n := b.fetches.Load(); n != 1 {
		t.Errorf("key set fetched %d times for 6 verifications, want 1", n)
	}
}

func TestPluginVerifierRefuses(t *testing.T) {
	clock := newFakeClock()
	b := newCallingBackend(t, clock)
	v := b.verifier(t, clock)
	now := clock.Now().Unix()
	good := sign(t, b.keys, pluginPayload("mcp-actions", "auth", now, now+3600, ""))
	other := newTestKeySet(t, clock) // an attacker's keys, not published by the caller
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + encodeSeg(pluginPayload("mcp-actions", "auth", now, now+7200, `,"obo":"x"`)) + "." + parts[2]

	cases := []struct {
		name, token, msg string
	}{
		{"forged: signed with unpublished keys", sign(t, other, pluginPayload("mcp-actions", "auth", now, now+3600, "")), MsgFailedPluginTokenVerify},
		{"forged: payload altered", tampered, MsgFailedPluginTokenVerify},
		{"expired", sign(t, b.keys, pluginPayload("mcp-actions", "auth", now-7200, now-1, "")), MsgFailedPluginTokenVerify},
		{"expires now", sign(t, b.keys, pluginPayload("mcp-actions", "auth", now-60, now, "")), MsgFailedPluginTokenVerify},
		{"wrong audience", sign(t, b.keys, pluginPayload("mcp-actions", "catalog", now, now+3600, "")), MsgFailedPluginTokenVerify},
		{"no iat", sign(t, b.keys, fmt.Sprintf(`{"sub":"mcp-actions","aud":"auth","exp":%d}`, now+3600)), MsgFailedPluginTokenVerify},
		{"unknown plugin (no JWKS endpoint)", sign(t, b.keys, pluginPayload("scaffolder", "auth", now, now+3600, "")), MsgFailedPluginTokenVerify},
		{"missing subject", sign(t, b.keys, fmt.Sprintf(`{"aud":"auth","iat":%d,"exp":%d}`, now, now+3600)), MsgPluginMissingSubject},
		{"forbidden subject", sign(t, b.keys, pluginPayload("../../evil", "auth", now, now+3600, "")), MsgPluginForbiddenSubject},
		{"user token", userTyped(t, b.keys), MsgIllegalToken},
		{"garbage", "not-a-token", MsgIllegalToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.VerifyPluginToken(ctxT(t), c.token)
			if err == nil {
				t.Fatal("accepted")
			}
			if errClass(err) != backstageerr.NameAuthentication || backstageerr.MessageOf(err) != c.msg {
				t.Fatalf("error %s %q (%v), want AuthenticationError %q", errClass(err), backstageerr.MessageOf(err), err, c.msg)
			}
		})
	}
	if _, err := v.VerifyPluginToken(ctxT(t), good); err != nil {
		t.Fatalf("the good token no longer verifies: %v", err)
	}
}

// TestPluginVerifierBoundsMadeUpPlugins: subjects are read before any signature, so
// a flood of made-up plugin ids may look up at most newPluginsPerWindow key sets a
// window.
func TestPluginVerifierBoundsMadeUpPlugins(t *testing.T) {
	clock := newFakeClock()
	var lookups atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	v, err := NewPluginVerifier(PluginVerifierOptions{OwnPluginID: "auth", Now: clock.Now, BaseURL: func(id string) string { return srv.URL + "/api/" + id }, Keys: keyfetchKeys(clock)})
	if err != nil {
		t.Fatal(err)
	}
	ks := newTestKeySet(t, clock)
	now := clock.Now().Unix()
	for i := 0; i < 3*newPluginsPerWindow; i++ {
		_, _ = v.VerifyPluginToken(ctxT(t), sign(t, ks, pluginPayload(fmt.Sprintf("p%d", i), "auth", now, now+60, "")))
	}
	if n := lookups.Load(); n > newPluginsPerWindow {
		t.Fatalf("%d key set lookups for made-up plugins, want at most %d", n, newPluginsPerWindow)
	}
	clock.Advance(newPluginWindow + time.Second)
	_, _ = v.VerifyPluginToken(ctxT(t), sign(t, ks, pluginPayload("later", "auth", now, now+3600, "")))
	if n := lookups.Load(); n != newPluginsPerWindow+1 {
		t.Fatalf("after the window: %d lookups, want %d", n, newPluginsPerWindow+1)
	}
}

func TestAuthenticatorPluginTokenOnBehalfOfUser(t *testing.T) {
	clock := newFakeClock()
	b := newCallingBackend(t, clock)
	userKeys := newTestKeySet(t, clock)
	is := newTestIssuer(t, clock, userKeys, false, newCountingUserInfo())
	full, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/jane"})
	if err != nil {
		t.Fatal(err)
	}
	limited := rebuildLimitedToken(t, full.Token)
	a := &Authenticator{Users: NewVerifier(userKeys, clock.Now), Plugins: b.verifier(t, clock), Static: credentials.NewStaticTokens([]credentials.StaticToken{{Token: "static-secret-token", Subject: "static"}})}
	now := clock.Now().Unix()

	c, err := a.Authenticate(ctxT(t), sign(t, b.keys, pluginPayload("mcp-actions", "auth", now, now+600, `,"obo":"`+limited+`"`)), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindUser || c.Subject != "user:default/jane" || c.UserToken != limited || !c.Limited || c.Via != "plugin:mcp-actions" {
		t.Fatalf("credentials %+v", c)
	}
	// An obo token that is not ours (signed by the calling backend) is refused.
	foreign := sign(t, b.keys, pluginPayload("mcp-actions", "auth", now, now+600, `,"obo":"`+rebuildLimitedToken(t, mustIssue(t, newTestIssuer(t, clock, b.keys, false, newCountingUserInfo())))+`"`))
	if _, err := a.Authenticate(ctxT(t), foreign, false); backstageerr.MessageOf(err) != "Invalid user token in plugin token obo claim" {
		t.Fatalf("foreign obo: %v", err)
	}
	if c, err := a.Authenticate(ctxT(t), sign(t, b.keys, pluginPayload("mcp-actions", "auth", now, now+600, "")), false); err != nil || c.Kind != KindService || c.Subject != "plugin:mcp-actions" {
		t.Fatalf("service: %+v %v", c, err)
	}
	if c, err := a.Authenticate(ctxT(t), "static-secret-token", false); err != nil || c.Kind != KindService {
		t.Fatalf("static: %+v %v", c, err)
	}
	if c, err := a.Authenticate(ctxT(t), full.Token, false); err != nil || c.Kind != KindUser || c.Limited {
		t.Fatalf("user: %+v %v", c, err)
	}
	if _, err := a.Authenticate(ctxT(t), limited, false); backstageerr.MessageOf(err) != MsgIllegalLimitedUserToken {
		t.Fatalf("limited directly: %v", err)
	}
	noPlugins := &Authenticator{Users: NewVerifier(userKeys, clock.Now)}
	if _, err := noPlugins.Authenticate(ctxT(t), sign(t, b.keys, pluginPayload("mcp-actions", "auth", now, now+600, "")), false); errClass(err) != backstageerr.NameAuthentication {
		t.Fatalf("plugin token without a plugin verifier: %v", err)
	}
}

func mustIssue(t *testing.T, is *Issuer) string {
	t.Helper()
	tok, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/jane"})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func userTyped(t *testing.T, ks *signingkeys.KeySet) string {
	key, err := ks.SigningKey(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := key.Sign(signingkeys.TypUser, []byte(`{"sub":"user:default/x","iat":1,"exp":99999999999}`))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func encodeSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// keyfetchKeys is cmd's wiring: one keyfetch JWKS fetcher per plugin.
func keyfetchKeys(clock *fakeClock) func(string, string) (PluginKeys, error) {
	return func(id, url string) (PluginKeys, error) {
		return keyfetch.NewJWKS(url, keyfetch.Options{Now: clock.Now, Name: "plugin " + id})
	}
}

// BenchmarkVerifyPluginToken: a plugin token verified with cached keys (no network:
// the calling backend's key set is fetched once, before the timer).
func BenchmarkVerifyPluginToken(b *testing.B) {
	clock := newFakeClock()
	cb := newCallingBackend(b, clock)
	v := cb.verifier(b, clock)
	now := clock.Now().Unix()
	tok := sign(b, cb.keys, pluginPayload("mcp-actions", "auth", now, now+3600, ""))
	ctx := context.Background()
	if _, err := v.VerifyPluginToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.VerifyPluginToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := cb.fetches.Load(); n != 1 {
		b.Fatalf("%d key fetches", n)
	}
}
