package keystoretest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// Run runs the key store conformance suite. newStore must return an empty store; it is
// called once per subtest. Cases follow Backstage's DatabaseKeyStore.test.ts and dex's
// testKeysCRUD / requireSigningKeyRoundTripUsable.
func Run(t *testing.T, newStore func(t *testing.T) signingkeys.KeyStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(*testing.T, signingkeys.KeyStore)
	}{
		{"EmptyList", testEmpty},
		{"AddThenList", testAddList},
		{"DuplicateKID", testDuplicate},
		{"RemoveSubset", testRemoveSubset},
		{"RemoveUnknownAndEmptyAreNoops", testRemoveNoop},
		{"ReAddAfterRemove", testReAdd},
		{"LargeKeyFits", testLargeKey},
		{"ES256RoundTrip", testSignVerifyRoundTrip},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// baseTime has a sub-second part and a non-UTC zone, so stores must normalise.
var baseTime = time.Date(2026, 11, 27, 12, 6, 48, 839_000_000, time.FixedZone("CET", 3600))

// key builds a StoredKey with both times set; a store keeps the one its table has.
func key(kid string, i int) signingkeys.StoredKey {
	jwk := fmt.Sprintf(`{"kty":"EC","x":"x-%s","y":"y-%s","crv":"P-256","kid":%q,"alg":"ES256"}`, kid, kid, kid)
	at := baseTime.Add(time.Duration(i) * time.Minute)
	return signingkeys.StoredKey{KID: kid, JWK: json.RawMessage(jwk), CreatedAt: at, ExpiresAt: at.Add(3 * time.Hour)}
}

func list(t *testing.T, s signingkeys.KeyStore) []signingkeys.StoredKey {
	t.Helper()
	keys, err := s.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	return keys
}

func kids(keys []signingkeys.StoredKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.KID)
	}
	sort.Strings(out)
	return out
}

func add(t *testing.T, s signingkeys.KeyStore, keys ...signingkeys.StoredKey) {
	t.Helper()
	for _, k := range keys {
		if err := s.AddKey(t.Context(), k); err != nil {
			t.Fatalf("AddKey(%s): %v", k.KID, err)
		}
	}
}

func remove(t *testing.T, s signingkeys.KeyStore, ids ...string) {
	t.Helper()
	if err := s.RemoveKeys(t.Context(), ids); err != nil {
		t.Fatalf("RemoveKeys(%q): %v", ids, err)
	}
}

func wantKIDs(t *testing.T, s signingkeys.KeyStore, want ...string) {
	t.Helper()
	got := kids(list(t, s))
	sort.Strings(want)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("stored kids = %q, want %q", got, want)
	}
}

func testEmpty(t *testing.T, s signingkeys.KeyStore) {
	if keys := list(t, s); len(keys) != 0 {
		t.Fatalf("new store lists %d keys, want 0", len(keys))
	}
}

// checkTime accepts a time the store did not keep (zero) or the same instant as want
// to the second. want is in a non-UTC zone, so a store that saves the wall clock as if
// it were UTC (or the reverse) is off by an hour and fails. (Which *time.Location the
// store hands back is not checked: the database stores return UTC, the memory store
// what it was given.)
func checkTime(t *testing.T, what, kid string, got, want time.Time) bool {
	t.Helper()
	if got.IsZero() {
		return false
	}
	if d := got.Sub(want); d <= -time.Second || d >= time.Second {
		t.Errorf("%s %s = %s, want %s (to the second)", kid, what, got, want.UTC())
	}
	return true
}

func testAddList(t *testing.T, s signingkeys.KeyStore) {
	in := []signingkeys.StoredKey{key("k1", 1), key("k2", 2), key("k3", 3)}
	add(t, s, in...)
	got := list(t, s)
	if len(got) != len(in) {
		t.Fatalf("listed %d keys, want %d", len(got), len(in))
	}
	for _, want := range in {
		i := slices.IndexFunc(got, func(k signingkeys.StoredKey) bool { return k.KID == want.KID })
		if i < 0 {
			t.Fatalf("key %s missing from %q", want.KID, kids(got))
		}
		k := got[i]
		if !bytes.Equal(k.JWK, want.JWK) {
			t.Errorf("%s JWK = %s, want byte-exact %s", k.KID, k.JWK, want.JWK)
		}
		hasCreated := checkTime(t, "CreatedAt", k.KID, k.CreatedAt, want.CreatedAt)
		hasExpires := checkTime(t, "ExpiresAt", k.KID, k.ExpiresAt, want.ExpiresAt)
		if !hasCreated && !hasExpires {
			t.Errorf("%s: store kept neither CreatedAt nor ExpiresAt", k.KID)
		}
	}
}

func testDuplicate(t *testing.T, s signingkeys.KeyStore) {
	first := key("dup", 1)
	add(t, s, first)
	second := key("dup", 2)
	second.JWK = json.RawMessage(`{"kty":"EC","kid":"dup","other":true}`)
	err := s.AddKey(t.Context(), second)
	if !errors.Is(err, signingkeys.ErrKeyExists) {
		t.Fatalf("second AddKey(dup) = %v, want ErrKeyExists", err)
	}
	got := list(t, s)
	if len(got) != 1 || !bytes.Equal(got[0].JWK, first.JWK) {
		t.Fatalf("after duplicate AddKey the store holds %+v, want only the first key", got)
	}
}

// testRemoveSubset is Backstage's DatabaseKeyStore.test.ts sequence.
func testRemoveSubset(t *testing.T, s signingkeys.KeyStore) {
	add(t, s, key("1", 1), key("2", 2), key("3", 3))
	remove(t, s, "1")
	wantKIDs(t, s, "2", "3")
	remove(t, s)
	wantKIDs(t, s, "2", "3")
	remove(t, s, "3", "4")
	wantKIDs(t, s, "2")
}

func testRemoveNoop(t *testing.T, s signingkeys.KeyStore) {
	add(t, s, key("a", 1), key("b", 2))
	for _, ids := range [][]string{nil, {}, {"unknown"}, {"unknown", "also-unknown"}} {
		remove(t, s, ids...)
		wantKIDs(t, s, "a", "b")
	}
	// Many ids at once (stores may batch them).
	many := make([]string, 0, 1200)
	for i := range 1200 {
		many = append(many, fmt.Sprintf("none-%d", i))
	}
	remove(t, s, append(many, "a")...)
	wantKIDs(t, s, "b")
}

func testReAdd(t *testing.T, s signingkeys.KeyStore) {
	k := key("again", 1)
	add(t, s, k)
	remove(t, s, "again")
	wantKIDs(t, s)
	k2 := key("again", 5)
	add(t, s, k2)
	got := list(t, s)
	if len(got) != 1 || !bytes.Equal(got[0].JWK, k2.JWK) {
		t.Fatalf("after re-add: %+v", got)
	}
	checkTime(t, "CreatedAt", "again", got[0].CreatedAt, k2.CreatedAt)
	checkTime(t, "ExpiresAt", "again", got[0].ExpiresAt, k2.ExpiresAt)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// testLargeKey stores an RSA-4096-sized public JWK with a certificate thumbprint
// (~0.8 KB, far over the varchar(255) the column started as).
func testLargeKey(t *testing.T, s signingkeys.KeyStore) {
	n := make([]byte, 512)
	if _, err := rand.Read(n); err != nil {
		t.Fatal(err)
	}
	n[0] |= 0x80
	sum := sha256.Sum256(n)
	jwk, err := json.Marshal(map[string]string{
		"kty": "RSA", "n": b64(n), "e": "AQAB", "kid": "rsa-4096", "alg": "RS256", "use": "sig",
		"x5t#S256": b64(sum[:]),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(jwk) < 700 {
		t.Fatalf("test JWK is only %d bytes", len(jwk))
	}
	k := key("rsa-4096", 1)
	k.JWK = jwk
	add(t, s, k)
	got := list(t, s)
	if len(got) != 1 || !bytes.Equal(got[0].JWK, jwk) {
		t.Fatalf("large JWK (%d bytes) did not round-trip", len(jwk))
	}
}

// testSignVerifyRoundTrip proves the stored JWK is usable, not merely equal.
func testSignVerifyRoundTrip(t *testing.T, s signingkeys.KeyStore) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	jwk := fmt.Sprintf(`{"kty":"EC","x":%q,"y":%q,"crv":"P-256","kid":"es256","alg":"ES256"}`,
		b64(pub[1:33]), b64(pub[33:]))
	k := key("es256", 1)
	k.JWK = json.RawMessage(jwk)
	add(t, s, k)

	got := list(t, s)
	if len(got) != 1 {
		t.Fatalf("listed %d keys, want 1", len(got))
	}
	var parsed struct{ Kty, Crv, X, Y, Kid, Alg string }
	if err := json.Unmarshal(got[0].JWK, &parsed); err != nil {
		t.Fatalf("stored JWK is not JSON: %v", err)
	}
	if parsed.Kty != "EC" || parsed.Crv != "P-256" || parsed.Alg != "ES256" || parsed.Kid != "es256" {
		t.Fatalf("stored JWK fields changed: %+v", parsed)
	}
	x, errX := base64.RawURLEncoding.DecodeString(parsed.X)
	y, errY := base64.RawURLEncoding.DecodeString(parsed.Y)
	if errX != nil || errY != nil {
		t.Fatalf("stored JWK coordinates: %v %v", errX, errY)
	}
	verifier, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("stored JWK is not a P-256 point: %v", err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(verifier, digest[:], sig) {
		t.Fatal("signature does not verify with the stored JWK")
	}
	other := sha256.Sum256([]byte("header.tampered"))
	if ecdsa.VerifyASN1(verifier, other[:], sig) {
		t.Fatal("stored JWK verified a signature over different data")
	}
}

// RunConcurrency hammers one store from several goroutines (run it with -race): each
// adds, lists and removes its own keys while all race to add one shared kid, of which
// exactly one AddKey may succeed.
func RunConcurrency(t *testing.T, newStore func(t *testing.T) signingkeys.KeyStore) {
	t.Helper()
	t.Run("ParallelAddListRemove", func(t *testing.T) {
		s := newStore(t)
		const workers, perWorker = 8, 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		var sharedWins, sharedDups int
		errs := make(chan error, workers*perWorker*3)
		for w := range workers {
			wg.Go(func() {
				ctx := t.Context()
				switch err := s.AddKey(ctx, key("shared", w)); {
				case err == nil:
					mu.Lock()
					sharedWins++
					mu.Unlock()
				case errors.Is(err, signingkeys.ErrKeyExists):
					mu.Lock()
					sharedDups++
					mu.Unlock()
				default:
					errs <- fmt.Errorf("worker %d AddKey(shared): %w", w, err)
				}
				for i := range perWorker {
					if err := s.AddKey(ctx, key(fmt.Sprintf("w%d-%d", w, i), i)); err != nil {
						errs <- fmt.Errorf("worker %d AddKey: %w", w, err)
					}
					if _, err := s.ListKeys(ctx); err != nil {
						errs <- fmt.Errorf("worker %d ListKeys: %w", w, err)
					}
					if i%2 == 1 { // remove the odd ones again
						if err := s.RemoveKeys(ctx, []string{fmt.Sprintf("w%d-%d", w, i)}); err != nil {
							errs <- fmt.Errorf("worker %d RemoveKeys: %w", w, err)
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if sharedWins != 1 || sharedDups != workers-1 {
			t.Errorf("shared kid: %d AddKey calls succeeded and %d got ErrKeyExists, want 1 and %d", sharedWins, sharedDups, workers-1)
		}
		want := []string{"shared"}
		for w := range workers {
			for i := 0; i < perWorker; i += 2 {
				want = append(want, fmt.Sprintf("w%d-%d", w, i))
			}
		}
		wantKIDs(t, s, want...)
	})
}
