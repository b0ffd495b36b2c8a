package keyfetch_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

func as[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
	return target
}

func TestJWKSVerifiesAndCachesForMaxAge(t *testing.T) {
	testKeys()
	ks := newKeyServer(t, serveJSON(jwkSet(jwk(t, "k1", "RS256", rsaKeys[0]))))
	clk := &providertest.Clock{}
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Now: clk.Now})
	tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], map[string]any{"sub": "alice"})
	for range 3 {
		v, err := f.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if string(v.Payload) != `{"sub":"alice"}` || v.KeyID != "k1" || v.Alg != "RS256" || v.Stale {
			t.Fatalf("verified %+v", v)
		}
	}
	if n := ks.hits("/keys"); n != 1 {
		t.Errorf("%d fetches within MaxAge, want 1", n)
	}
	v1, _ := f.Verify(context.Background(), tok)
	if !f.Current(v1.Generation) {
		t.Error("generation not current within MaxAge")
	}
	clk.Advance(keyfetch.DefaultMaxAge)
	if f.Current(v1.Generation) {
		t.Error("generation current past MaxAge")
	}
	v2, err := f.Verify(context.Background(), tok)
	if err != nil || ks.hits("/keys") != 2 {
		t.Fatalf("after MaxAge: %v, %d fetches", err, ks.hits("/keys"))
	}
	if v2.Generation == v1.Generation || !f.Current(v2.Generation) || f.Current(v1.Generation) {
		t.Error("a refetch must make a new current generation")
	}
}

func TestUnknownKidRefetchesAreRateLimited(t *testing.T) {
	testKeys()
	ks := newKeyServer(t, serveJSON(jwkSet(jwk(t, "k1", "RS256", rsaKeys[0]))))
	clk := &providertest.Clock{}
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Now: clk.Now})
	if _, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)); err != nil {
		t.Fatal(err)
	}
	var limited int
	for i := range 20 {
		_, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, fmt.Sprintf("made-up-%d", i), rsaKeys[1], nil))
		if u := as[*keyfetch.UnknownKeyError](t, err); u.RateLimited {
			limited++
		}
		if keyfetch.Undecided(err) {
			t.Fatalf("an unknown kid in a key set that answered is decided: %v", err)
		}
	}
	if n := ks.hits("/keys"); n != 1+keyfetch.DefaultRefetchBurst || limited != 20-keyfetch.DefaultRefetchBurst {
		t.Errorf("%d fetches, %d rate-limited answers for 20 made-up kids", n, limited)
	}
	clk.Advance(keyfetch.DefaultRefetchInterval)
	_, _ = f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "made-up-x", rsaKeys[1], nil))
	if n := ks.hits("/keys"); n != 2+keyfetch.DefaultRefetchBurst {
		t.Errorf("%d fetches after one refill interval", n)
	}
}

func TestRotationIsPickedUpOnUnknownKid(t *testing.T) {
	testKeys()
	ks := newKeyServer(t, serveJSON(jwkSet(jwk(t, "k1", "RS256", rsaKeys[0]))))
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{})
	if _, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)); err != nil {
		t.Fatal(err)
	}
	ks.set(serveJSON(jwkSet(jwk(t, "k2", "RS256", rsaKeys[1]))))
	if _, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k2", rsaKeys[1], nil)); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	// The old key left the set it was fetched with: decided, not an outage.
	_, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil))
	as[*keyfetch.UnknownKeyError](t, err)
}

func TestConcurrentFetchesAreMerged(t *testing.T) {
	testKeys()
	set := jwkSet(jwk(t, "k1", "RS256", rsaKeys[0]))
	ks := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		serveJSON(set)(w, r)
	})
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{})
	tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := f.Verify(context.Background(), tok); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := ks.hits("/keys"); n != 1 {
		t.Errorf("%d fetches for 10 concurrent callers, want 1", n)
	}
}

func TestFetchIsBoundedInTimeAndSize(t *testing.T) {
	testKeys()
	t.Run("size", func(t *testing.T) {
		big := `{"keys":[],"pad":"` + strings.Repeat("x", 2000) + `"}`
		ks := newKeyServer(t, serve(http.StatusOK, big))
		f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{MaxBytes: 1000})
		_, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil))
		if m := as[*keyfetch.MalformedError](t, err); !strings.Contains(m.Reason, "more than 1000 bytes") || !keyfetch.Undecided(err) {
			t.Errorf("oversized answer: %v", err)
		}
	})
	t.Run("time", func(t *testing.T) {
		ks := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		})
		f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Timeout: 100 * time.Millisecond})
		start := time.Now()
		_, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil))
		u := as[*keyfetch.UnavailableError](t, err)
		if !errors.Is(u, context.DeadlineExceeded) || u.RetryAfter() < time.Second {
			t.Errorf("timed-out fetch: %v (retry after %s)", err, u.RetryAfter())
		}
		// Functional bound: the fetch gave up long before the endpoint would answer.
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("gave up after %s", el)
		}
	})
}

func TestMaxKeysBoundsTheKeySet(t *testing.T) {
	testKeys()
	ks := newKeyServer(t, serveJSON(jwkSet(
		jwk(t, "k0", "RS256", rsaKeys[0]), jwk(t, "k1", "RS256", rsaKeys[1]), jwk(t, "k2", "RS256", rsaKeys[2]))))
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{MaxKeys: 2})
	if _, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[1], nil)); err != nil {
		t.Fatal(err)
	}
	_, err := f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k2", rsaKeys[2], nil))
	as[*keyfetch.UnknownKeyError](t, err)
}

func TestKeyAndAlgorithmChecks(t *testing.T) {
	testKeys()
	enc := base64.RawURLEncoding.EncodeToString
	oct := map[string]any{"kty": "oct", "kid": "hmac", "k": enc([]byte("0123456789abcdef0123456789abcdef"))}
	encKey := jwk(t, "enc", "", rsaKeys[2])
	encKey["use"] = "enc"
	ks := newKeyServer(t, serveJSON(jwkSet(
		jwk(t, "rsa", "RS256", rsaKeys[0]), jwk(t, "rsa-any", "", rsaKeys[1]), jwk(t, "weak", "RS256", rsaWeak),
		jwk(t, "p256", "ES256", ecP256), jwk(t, "p384", "", ecP384), jwk(t, "ed", "EdDSA", edKey), oct, encKey,
		map[string]any{"kty": "RSA", "kid": "broken", "n": "!", "e": "AQAB"},
	)))
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{})
	hs := sign(t, jwt.SigningMethodHS256, "hmac", []byte("0123456789abcdef0123456789abcdef"), nil)
	none := enc([]byte(`{"alg":"none","kid":"rsa"}`)) + "." + enc([]byte(`{"sub":"x"}`)) + "."
	crit := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "x"})
		tok.Header["kid"], tok.Header["crit"] = "rsa", []string{"exp"}
		s, _ := tok.SignedString(rsaKeys[0])
		return s
	}()
	valid := sign(t, jwt.SigningMethodRS256, "rsa", rsaKeys[0], nil)
	parts := strings.Split(valid, ".")
	forged := parts[0] + "." + enc([]byte(`{"sub":"mallory"}`)) + "." + parts[2]
	for _, tc := range []struct {
		name, token string
		ok          bool
		want        any
	}{
		{"RS256", valid, true, nil},
		{"PS256 with a key without alg", sign(t, jwt.SigningMethodPS256, "rsa-any", rsaKeys[1], nil), true, nil},
		{"ES256 on P-256", sign(t, jwt.SigningMethodES256, "p256", ecP256, nil), true, nil},
		{"ES384 on P-384", sign(t, jwt.SigningMethodES384, "p384", ecP384, nil), true, nil},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, "ed", edKey, nil), true, nil},
		{"no kid: any compatible key", sign(t, jwt.SigningMethodES256, "", ecP256, nil), true, nil},
		{"HS256", hs, false, new(*keyfetch.TokenError)},
		{"none", none, false, new(*keyfetch.TokenError)},
		{"crit header", crit, false, new(*keyfetch.TokenError)},
		{"not a JWS", "abc.def", false, new(*keyfetch.TokenError)},
		{"RSA 1024", sign(t, jwt.SigningMethodRS256, "weak", rsaWeak, nil), false, new(*keyfetch.UnusableKeyError)},
		{"JWK alg differs", sign(t, jwt.SigningMethodRS384, "rsa", rsaKeys[0], nil), false, new(*keyfetch.UnusableKeyError)},
		{"ES384 with a P-256 key", sign(t, jwt.SigningMethodES384, "p256", ecP384, nil), false, new(*keyfetch.UnusableKeyError)},
		{"ES256 with an RSA key", sign(t, jwt.SigningMethodES256, "rsa-any", ecP256, nil), false, new(*keyfetch.UnusableKeyError)},
		{"encryption key", sign(t, jwt.SigningMethodRS256, "enc", rsaKeys[2], nil), false, new(*keyfetch.UnusableKeyError)},
		{"symmetric key under an RS256 header", sign(t, jwt.SigningMethodRS256, "hmac", rsaKeys[0], nil), false, new(*keyfetch.UnusableKeyError)},
		{"undecodable key", sign(t, jwt.SigningMethodRS256, "broken", rsaKeys[0], nil), false, new(*keyfetch.UnusableKeyError)},
		{"payload swapped", forged, false, new(*keyfetch.SignatureError)},
		{"signed by another key", sign(t, jwt.SigningMethodRS256, "rsa", rsaKeys[2], nil), false, new(*keyfetch.SignatureError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Verify(context.Background(), tc.token)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.As(err, tc.want) || keyfetch.Undecided(err) {
				t.Fatalf("err = %v (%T), want %T", err, err, tc.want)
			}
		})
	}
	if n := ks.hits("/keys"); n != 1 {
		t.Errorf("%d fetches: a known kid whose key is unusable must not refetch", n)
	}
	// Algs narrows what is accepted; nothing outside SupportedAlgs can be configured.
	narrow := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Algs: []string{"ES256"}})
	if _, err := narrow.Verify(context.Background(), valid); err == nil {
		t.Error("RS256 token accepted with Algs ES256")
	}
	for _, bad := range []string{"HS256", "none", "RS1"} {
		if _, err := keyfetch.NewJWKS("http://127.0.0.1/keys", keyfetch.Options{Algs: []string{bad}}); err == nil {
			t.Errorf("Algs %s accepted", bad)
		}
	}
}

func TestMalformedAnswers(t *testing.T) {
	testKeys()
	tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)
	for _, body := range []string{"<html>", `{"keys":"none"}`, `[]`, `{}`, `null`} {
		ks := newKeyServer(t, serve(http.StatusOK, body))
		_, err := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{}).Verify(context.Background(), tok)
		as[*keyfetch.MalformedError](t, err)
		if !keyfetch.Undecided(err) {
			t.Errorf("%s: not undecided", body)
		}
	}
	for _, st := range []int{http.StatusNotFound, http.StatusInternalServerError, http.StatusTooManyRequests} {
		ks := newKeyServer(t, serve(st, `{"keys":[]}`))
		_, err := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{}).Verify(context.Background(), tok)
		if u := as[*keyfetch.UnavailableError](t, err); u.Status != st {
			t.Errorf("status %d reported as %d", st, u.Status)
		}
	}
}

// Security finding 5: the key endpoint's outage must not turn tokens signed with the
// last good keys into failures; only a key set that answered decides; when nothing can
// be decided the error says so (and when to retry); the outage is logged once.
func TestOutageKeepsTheLastGoodKeys(t *testing.T) {
	testKeys()
	good := serveJSON(jwkSet(jwk(t, "k1", "RS256", rsaKeys[0])))
	ks := newKeyServer(t, good)
	clk := &providertest.Clock{}
	var logs providertest.LogBuffer
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Now: clk.Now, Logger: logs.Logger(), Name: "test"})
	tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)
	v0, err := f.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}

	ks.set(serve(http.StatusBadGateway, "bad gateway"))
	clk.Advance(keyfetch.DefaultMaxAge + time.Minute)
	for i := range 5 {
		v, err := f.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("verify %d during the outage: %v", i, err)
		}
		if !v.Stale || v.Generation != v0.Generation {
			t.Errorf("verify %d: %+v, want the last good generation, stale", i, v)
		}
	}
	if n := ks.hits("/keys"); n != 2 {
		t.Errorf("%d fetches: within the backoff nobody asks again", n)
	}
	if !f.Current(v0.Generation) {
		t.Error("the last good generation is not current during the outage")
	}
	_, err = f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k9", rsaKeys[1], nil))
	if !keyfetch.Undecided(err) {
		t.Fatalf("unknown kid during the outage: %v, want undecided", err)
	}
	if u := as[*keyfetch.UnavailableError](t, err); u.Status != http.StatusBadGateway || u.RetryAfter() < time.Second {
		t.Errorf("undecided error %v, retry after %s", u, u.RetryAfter())
	}
	// Later attempts run in the background while the last good keys answer.
	unknown := sign(t, jwt.SigningMethodRS256, "k9", rsaKeys[1], nil)
	for i := range 3 {
		clk.Advance(time.Minute)
		if v, err := f.Verify(context.Background(), tok); err != nil || !v.Stale {
			t.Fatalf("verify after %d more minutes: %v %+v", i+1, err, v)
		}
		ks.waitHits(t, "/keys", 3+i)
		// An unknown kid waits for the attempt in flight: when it returns, the attempt
		// has failed and set the next one's time.
		if _, err := f.Verify(context.Background(), unknown); !keyfetch.Undecided(err) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := logs.Count("level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage:\n%s", n, logs.String())
	}

	// The endpoint is back: the next attempt replaces the keys.
	ks.set(good)
	clk.Advance(time.Minute)
	f.Current(v0.Generation) // starts the due attempt
	ks.waitHits(t, "/keys", 6)
	deadline := time.Now().Add(5 * time.Second)
	for f.Current(v0.Generation) {
		if time.Now().After(deadline) {
			t.Fatal("the old generation stayed current after the endpoint answered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	v, err := f.Verify(context.Background(), tok)
	if err != nil || v.Stale || v.Generation == v0.Generation {
		t.Fatalf("after recovery: %v %+v", err, v)
	}
	// The background attempt logs after it has replaced the keys.
	for logs.Count("key endpoint answers again") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if logs.Count("key endpoint answers again") != 1 {
		t.Errorf("recovery not logged once:\n%s", logs.String())
	}
}

func TestKeySetThatChangedIsDecided(t *testing.T) {
	testKeys()
	ks := newKeyServer(t, serveJSON(jwkSet(jwk(t, "k1", "RS256", rsaKeys[0]))))
	clk := &providertest.Clock{}
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Now: clk.Now})
	tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)
	if _, err := f.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	ks.set(serveJSON(jwkSet(jwk(t, "k2", "RS256", rsaKeys[1]))))
	clk.Advance(keyfetch.DefaultMaxAge)
	_, err := f.Verify(context.Background(), tok)
	if u := as[*keyfetch.UnknownKeyError](t, err); u.RateLimited || keyfetch.Undecided(err) {
		t.Errorf("withdrawn key: %v", err)
	}
}

func TestNoKeysYetIsUndecided(t *testing.T) {
	testKeys()
	ks := newKeyServer(t, serve(http.StatusServiceUnavailable, "down"))
	clk := &providertest.Clock{}
	var logs providertest.LogBuffer
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Now: clk.Now, Logger: logs.Logger()})
	tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)
	for range 3 {
		_, err := f.Verify(context.Background(), tok)
		if u := as[*keyfetch.UnavailableError](t, err); u.Status != http.StatusServiceUnavailable || u.RetryAfter() < time.Second {
			t.Fatalf("err %v retry %s", err, u.RetryAfter())
		}
	}
	if n := ks.hits("/keys"); n != 1 {
		t.Errorf("%d fetches within the backoff", n)
	}
	clk.Advance(2 * time.Second)
	_, _ = f.Verify(context.Background(), tok)
	if n := ks.hits("/keys"); n != 2 {
		t.Errorf("%d fetches after the backoff", n)
	}
	if n := logs.Count("level=WARN"); n != 1 || logs.Count("no keys fetched yet") != 1 {
		t.Errorf("%d warnings:\n%s", n, logs.String())
	}
}

// A caller whose deadline ends while a refetch is slow gets the last good keys, like
// one whose refetch failed.
func TestCallerDeadlineDuringRefetchFallsBack(t *testing.T) {
	testKeys()
	good := serveJSON(jwkSet(jwk(t, "k1", "RS256", rsaKeys[0])))
	ks := newKeyServer(t, good)
	clk := &providertest.Clock{}
	f := newJWKS(t, ks.srv.URL+"/keys", keyfetch.Options{Now: clk.Now, Timeout: 300 * time.Millisecond})
	tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKeys[0], nil)
	if _, err := f.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	ks.set(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	clk.Advance(keyfetch.DefaultMaxAge)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	v, err := f.Verify(ctx, tok)
	if err != nil || !v.Stale {
		t.Fatalf("%v %+v", err, v)
	}
	// Without last good keys, the deadline is undecided.
	_, err = f.Verify(ctx, sign(t, jwt.SigningMethodRS256, "k2", rsaKeys[1], nil))
	if !keyfetch.Undecided(err) {
		t.Fatalf("unknown kid at the deadline: %v", err)
	}
}

func TestPEMPerKID(t *testing.T) {
	testKeys()
	pems := map[string]string{"/kid-1": pemOf(t, ecP256), "/kid-2": pemOf(t, rsaKeys[0]), "/kid-weak": pemOf(t, rsaWeak), "/kid-junk": "hello"}
	ks := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
		p, ok := pems[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(p))
	})
	clk := &providertest.Clock{}
	newPEM := func(o keyfetch.Options) *keyfetch.Fetcher {
		o.Now = clk.Now
		f, err := keyfetch.NewPEMPerKID(func(kid string) string { return ks.srv.URL + "/" + kid }, o)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := newPEM(keyfetch.Options{RefetchBurst: 20})
	es := sign(t, jwt.SigningMethodES256, "kid-1", ecP256, map[string]any{"sub": "alb"})
	for range 3 {
		if _, err := f.Verify(context.Background(), es); err != nil {
			t.Fatal(err)
		}
	}
	if n := ks.hits("/kid-1"); n != 1 {
		t.Errorf("%d fetches of one kid", n)
	}
	// AWS pads its segments; the signature covers them as sent.
	parts := strings.Split(es, ".")
	pad := func(s string) string { return s + strings.Repeat("=", (4-len(s)%4)%4) }
	if _, err := f.Verify(context.Background(), pad(parts[0])+"."+pad(parts[1])+"."+pad(parts[2])); err == nil {
		t.Error("padding added after signing verified")
	}
	albInput := pad(base64.URLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"kid-1","signer":"arn:aws:elasticloadbalancing:x"}`))) + "." +
		base64.URLEncoding.EncodeToString([]byte(`{"sub":"alb-user"}`))
	sig, err := jwt.SigningMethodES256.Sign(albInput, ecP256)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Verify(context.Background(), albInput+"."+base64.URLEncoding.EncodeToString(sig)); err != nil || string(v.Payload) != `{"sub":"alb-user"}` {
		t.Errorf("padded token signed as sent: %v %q", err, v.Payload)
	}

	_, err = f.Verify(context.Background(), sign(t, jwt.SigningMethodES256, "kid-404", ecP256, nil))
	as[*keyfetch.UnknownKeyError](t, err)
	// The 404 is remembered: with no refetch left, a repeat is still refused (not
	// undecided), and asks nothing.
	lim := newPEM(keyfetch.Options{RefetchBurst: 1})
	hits404 := ks.hits("/kid-404")
	for range 3 {
		_, err = lim.Verify(context.Background(), sign(t, jwt.SigningMethodES256, "kid-404", ecP256, nil))
		as[*keyfetch.UnknownKeyError](t, err)
	}
	if n := ks.hits("/kid-404") - hits404; n != 1 {
		t.Errorf("%d fetches of an unknown kid asked 3 times with one refetch allowed", n)
	}
	_, err = f.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "kid-weak", rsaWeak, nil))
	as[*keyfetch.UnusableKeyError](t, err)
	_, err = f.Verify(context.Background(), sign(t, jwt.SigningMethodES256, "kid-2", ecP256, nil))
	as[*keyfetch.UnusableKeyError](t, err)
	_, err = f.Verify(context.Background(), sign(t, jwt.SigningMethodES256, "kid-junk", ecP256, nil))
	as[*keyfetch.MalformedError](t, err)
	_, err = f.Verify(context.Background(), sign(t, jwt.SigningMethodES256, "", ecP256, nil))
	as[*keyfetch.TokenError](t, err)
	for _, kid := range []string{"../kid-1", "..", "a/b", "kid?x=1", strings.Repeat("a", 129)} {
		_, err = f.Verify(context.Background(), sign(t, jwt.SigningMethodES256, kid, ecP256, nil))
		as[*keyfetch.UnknownKeyError](t, err)
	}
	if ks.hits("/") != 0 || ks.hits("/a/b") != 0 {
		t.Error("an unsafe kid reached the endpoint")
	}

	// Made-up kids cannot make us hammer the endpoint.
	g := newPEM(keyfetch.Options{})
	var limited int
	for i := range 10 {
		_, err := g.Verify(context.Background(), sign(t, jwt.SigningMethodES256, fmt.Sprintf("fake-%d", i), ecP256, nil))
		if errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if keyfetch.Undecided(err) {
			limited++
		}
	}
	asked := 0
	for i := range 10 {
		asked += ks.hits(fmt.Sprintf("/fake-%d", i))
	}
	if asked != keyfetch.DefaultRefetchBurst || limited != 10-keyfetch.DefaultRefetchBurst {
		t.Errorf("%d fetches and %d undecided answers for 10 made-up kids", asked, limited)
	}

	// At most MaxKeys kids are cached.
	h := newPEM(keyfetch.Options{MaxKeys: 1, RefetchBurst: 10})
	rs := sign(t, jwt.SigningMethodRS256, "kid-2", rsaKeys[0], nil)
	before1, before2 := ks.hits("/kid-1"), ks.hits("/kid-2")
	for _, tok := range []string{es, rs, es} {
		if _, err := h.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if ks.hits("/kid-1")-before1 != 2 || ks.hits("/kid-2")-before2 != 1 {
		t.Error("the cache holds more kids than MaxKeys")
	}
}
