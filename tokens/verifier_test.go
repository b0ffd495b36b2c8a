package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v5"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// signRaw builds a compact ES256 JWS from literal header and payload JSON, signed by
// a listed key.
func signRaw(t testing.TB, key *signingkeys.SigningKey, header, payload string) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	out, err := key.AppendSignature([]byte(in+"."), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// signForeign signs with a key no key set lists, using golang-jwt's ES256.
func signForeign(t testing.TB, priv *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := jwt.SigningMethodES256.Sign(in, priv)
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func tokenWithKID(t testing.TB, kid string) string {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return signForeign(t, priv, `{"typ":"vnd.backstage.user","alg":"ES256","kid":"`+kid+`"}`,
		`{"sub":"user:default/a","iat":1,"exp":`+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`}`)
}

func TestVerifyUserToken(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	key, err := ks.SigningKey(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	is := newTestIssuer(t, clock, ks, true, nil)
	good, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	limited := rebuildLimitedToken(t, good.Token)
	now := clock.Now().Unix()
	iat, exp := strconv.FormatInt(now, 10), strconv.FormatInt(now+3600, 10)
	hdr := func(typ, alg, kid string) string {
		return `{"typ":"` + typ + `","alg":"` + alg + `","kid":"` + kid + `"}`
	}
	userHdr := hdr(signingkeys.TypUser, "ES256", key.KID)
	claims := `{"sub":"user:default/alice","iat":` + iat + `,"exp":` + exp + `}`
	mine := func(header, payload string) string { return signRaw(t, key, header, payload) }
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := decodeToken(t, good.Token)
	tampered := d.h64 + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(d.payload), "alice", "admin", 1))) + "." + d.s64
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Public())
	hsInput := base64.RawURLEncoding.EncodeToString([]byte(hdr(signingkeys.TypUser, "HS256", key.KID))) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, pubDER)
	mac.Write([]byte(hsInput))
	hs256 := hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	none := base64.RawURLEncoding.EncodeToString([]byte(hdr(signingkeys.TypUser, "none", key.KID))) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "."

	for _, tc := range []struct {
		name         string
		token        string
		allowLimited bool
		wantMsg      string // "" = valid
		wantSub      string
		wantLimited  bool
	}{
		{"valid", good.Token, false, "", "user:default/alice", false},
		{"limited allowed", limited, true, "", "user:default/alice", true},
		{"limited not allowed", limited, false, MsgIllegalLimitedUserToken, "", false},
		{"typ case and application/ prefix", mine(hdr("application/VND.Backstage.User", "ES256", key.KID), claims), false, "", "user:default/alice", false},
		{"legacy token without typ, aud backstage", mine(`{"alg":"ES256","kid":"`+key.KID+`"}`, `{"sub":"user:default/l","aud":"backstage","iat":`+iat+`,"exp":`+exp+`}`), false, "", "user:default/l", false},
		{"garbage", "garbage", false, MsgIllegalToken, "", false},
		{"empty", "", false, MsgIllegalToken, "", false},
		{"four parts", good.Token + ".x", false, MsgIllegalToken, "", false},
		{"header not base64", "%%%." + d.p64 + "." + d.s64, false, MsgIllegalToken, "", false},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + d.p64 + "." + d.s64, false, MsgIllegalToken, "", false},
		{"plugin typ", mine(hdr(signingkeys.TypPlugin, "ES256", key.KID), `{"sub":"catalog","aud":"auth","iat":`+iat+`,"exp":`+exp+`}`), true, MsgIllegalToken, "", false},
		{"no typ, no aud", mine(`{"alg":"ES256","kid":"`+key.KID+`"}`, claims), false, MsgIllegalToken, "", false},
		{"expired (exp == now)", mine(userHdr, `{"sub":"user:default/alice","iat":`+iat+`,"exp":`+iat+`}`), false, MsgFailedUserTokenVerify, "", false},
		{"not yet valid", mine(userHdr, `{"sub":"user:default/alice","iat":`+iat+`,"exp":`+exp+`,"nbf":`+exp+`}`), false, MsgFailedUserTokenVerify, "", false},
		{"unknown kid", signForeign(t, other, hdr(signingkeys.TypUser, "ES256", "not-listed"), claims), false, MsgFailedUserTokenVerify, "", false},
		{"listed kid, other key", signForeign(t, other, userHdr, claims), false, MsgFailedUserTokenVerify, "", false},
		{"tampered payload", tampered, false, MsgFailedUserTokenVerify, "", false},
		{"alg none", none, false, MsgFailedUserTokenVerify, "", false},
		{"HS256 with the public key", hs256, false, MsgFailedUserTokenVerify, "", false},
		{"ES384 header", mine(hdr(signingkeys.TypUser, "ES384", key.KID), claims), false, MsgFailedUserTokenVerify, "", false},
		{"missing sub", mine(userHdr, `{"iat":`+iat+`,"exp":`+exp+`}`), false, MsgFailedUserTokenVerify, "", false},
		{"missing iat", mine(userHdr, `{"sub":"user:default/alice","exp":`+exp+`}`), false, MsgFailedUserTokenVerify, "", false},
		{"missing exp", mine(userHdr, `{"sub":"user:default/alice","iat":`+iat+`}`), false, MsgFailedUserTokenVerify, "", false},
		{"exp not a number", mine(userHdr, `{"sub":"user:default/alice","iat":`+iat+`,"exp":"`+exp+`"}`), false, MsgFailedUserTokenVerify, "", false},
		{"payload not JSON", mine(userHdr, `not json`), false, MsgFailedUserTokenVerify, "", false},
		{"truncated signature", good.Token[:len(good.Token)-2], false, MsgFailedUserTokenVerify, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier(ks, clock.Now)
			for range 2 { // second round is served from the cache when valid
				p, err := v.VerifyUserToken(ctxT(t), tc.token, tc.allowLimited)
				if tc.wantMsg == "" {
					if err != nil {
						t.Fatalf("unexpected error: %v (%v)", err, errorsCause(err))
					}
					if p.Sub != tc.wantSub || p.Limited != tc.wantLimited {
						t.Fatalf("principal %+v", p)
					}
					continue
				}
				if err == nil {
					t.Fatalf("accepted: %+v", p)
				}
				if err.Error() != tc.wantMsg || errClass(err) != backstageerr.NameAuthentication {
					t.Fatalf("error %s: %q, want AuthenticationError %q", errClass(err), err, tc.wantMsg)
				}
			}
		})
	}
}

func errorsCause(err error) error {
	var be *backstageerr.Error
	if errors.As(err, &be) {
		return be.Cause
	}
	return nil
}

// TestVerifierCacheHonoursExpiryAndListing: a cached success stops counting once
// the token expires or its key leaves the JWKS.
func TestVerifierCacheHonoursExpiryAndListing(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	is := newTestIssuer(t, clock, ks, true, nil)
	v := NewVerifier(ks, clock.Now)
	ctx := ctxT(t)
	it, _ := is.IssueUserToken(ctx, UserClaims{Sub: "user:default/a"})
	if _, err := v.VerifyUserToken(ctx, it.Token, false); err != nil {
		t.Fatal(err)
	}
	// The cached entry still enforces allowLimited for limited tokens.
	lim := rebuildLimitedToken(t, it.Token)
	if _, err := v.VerifyUserToken(ctx, lim, true); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyUserToken(ctx, lim, false); err == nil || err.Error() != MsgIllegalLimitedUserToken {
		t.Fatalf("cached limited token accepted without allowLimited: %v", err)
	}
	clock.Advance(time.Hour)
	if _, err := v.VerifyUserToken(ctx, it.Token, false); err == nil {
		t.Fatal("expired token accepted from the cache")
	}

	// Listing: a token whose key is pruned is no longer accepted. (plainSource: no
	// unknown-kid reload, which could still find the row before the prune removes it.)
	clock2 := newFakeClock()
	ks2 := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: signingkeys.NewMemoryKeyStore(), KeyDuration: time.Hour, ListDuration: 2 * time.Hour, Now: clock2.Now})
	is2 := NewIssuer(IssuerOptions{Issuer: testIss, Keys: ks2, Expiration: 24 * time.Hour, Now: clock2.Now})
	v2 := NewVerifier(plainSource{ks2}, clock2.Now)
	long, err := is2.IssueUserToken(ctx, UserClaims{Sub: "user:default/a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v2.VerifyUserToken(ctx, long.Token, false); err != nil {
		t.Fatal(err)
	}
	clock2.Advance(2 * time.Hour)
	if _, err := v2.VerifyUserToken(ctx, long.Token, false); err == nil {
		t.Fatal("token accepted after its key left the JWKS")
	}
}

func TestVerifierRejectsOversizedInput(t *testing.T) {
	clock := newFakeClock()
	v := NewVerifier(newTestKeySet(t, clock), clock.Now)
	_, err := v.VerifyUserToken(context.Background(), strings.Repeat("a", maxVerifiableToken+1), true)
	if err == nil || err.Error() != MsgIllegalToken {
		t.Fatalf("err = %v", err)
	}
}

// refreshingSource is a key source other than *signingkeys.KeySet that can reload on
// an unknown kid: the Verifier must use it through the interface.
type refreshingSource struct {
	*signingkeys.KeySet
	refreshes int
}

func (r *refreshingSource) RefreshUnknownKID(ctx context.Context) bool {
	r.refreshes++
	return r.Reload(ctx) == nil
}

// plainSource hides every method but KeySource's.
type plainSource struct{ signingkeys.KeySource }

func TestVerifierRefreshesThroughInterface(t *testing.T) {
	shared := signingkeys.NewMemoryKeyStore()
	a := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: shared, KeyDuration: time.Hour})
	b := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: shared, KeyDuration: time.Hour})
	if _, err := b.JWKS(ctxT(t)); err != nil { // b loads before a has a key
		t.Fatal(err)
	}
	it, err := NewIssuer(IssuerOptions{Issuer: testIss, Keys: a, Expiration: time.Hour}).IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(plainSource{b}, nil).VerifyUserToken(ctxT(t), it.Token, false); err == nil || err.Error() != MsgFailedUserTokenVerify {
		t.Fatalf("a source that cannot refresh verified an unlisted kid: %v", err)
	}
	src := &refreshingSource{KeySet: b}
	if _, err := NewVerifier(src, nil).VerifyUserToken(ctxT(t), it.Token, false); err != nil {
		t.Fatalf("not verified after refresh: %v", err)
	}
	if src.refreshes != 1 {
		t.Errorf("%d refreshes, want 1", src.refreshes)
	}
}
