package keyfetch_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// keyServer is a key endpoint whose answer a test replaces; it counts requests.
type keyServer struct {
	srv *httptest.Server
	mu  sync.Mutex
	h   http.HandlerFunc
	n   map[string]int
}

func newKeyServer(t testing.TB, h http.HandlerFunc) *keyServer {
	ks := &keyServer{h: h, n: map[string]int{}}
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.mu.Lock()
		ks.n[r.URL.Path]++
		h := ks.h
		ks.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *keyServer) set(h http.HandlerFunc) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.h = h
}

func (ks *keyServer) hits(path string) int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.n[path]
}

// waitHits waits (bounded) until path was asked n times: background retries.
func (ks *keyServer) waitHits(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ks.hits(path) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s asked %d times, want %d", path, ks.hits(path), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func serveJSON(body any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
}

func serve(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

var (
	keysOnce sync.Once
	rsaKeys  [3]*rsa.PrivateKey
	rsaWeak  *rsa.PrivateKey
	ecP256   *ecdsa.PrivateKey
	ecP384   *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func testKeys() {
	keysOnce.Do(func() {
		for i := range rsaKeys {
			rsaKeys[i], _ = rsa.GenerateKey(rand.Reader, 2048)
		}
		rsaWeak, _ = rsa.GenerateKey(rand.Reader, 1024)
		ecP256, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ecP384, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		_, edKey, _ = ed25519.GenerateKey(rand.Reader)
	})
}

// jwk is the public JWK of priv.
func jwk(t testing.TB, kid, alg string, priv crypto.Signer) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func jwkSet(keys ...map[string]any) map[string]any { return map[string]any{"keys": keys} }

func pemOf(t testing.TB, priv crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sign returns a compact JWS of claims; kid "" leaves the header without one.
func sign(t testing.TB, method jwt.SigningMethod, kid string, key any, claims map[string]any) string {
	t.Helper()
	if claims == nil {
		claims = map[string]any{"sub": "u-1"}
	}
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newJWKS(t testing.TB, url string, o keyfetch.Options) *keyfetch.Fetcher {
	t.Helper()
	f, err := keyfetch.NewJWKS(url, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
