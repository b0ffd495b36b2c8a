package mockkit

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// keyCache shares generated RSA keys between the mocks of one process (the n-th key of
// every mock is the same), because generating them dominates test time.
var keyCache struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

// Key returns the process's i-th 2048-bit RSA key, generating it on first use.
func Key(i int) *rsa.PrivateKey {
	keyCache.mu.Lock()
	defer keyCache.mu.Unlock()
	for len(keyCache.keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("mockkit: generate RSA key: %v", err))
		}
		keyCache.keys = append(keyCache.keys, k)
	}
	return keyCache.keys[i]
}

// SignRS256 signs claims as an RS256 JWT with kid in its header.
func SignRS256(key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = kid
	signed, err := t.SignedString(key)
	if err != nil {
		panic(fmt.Sprintf("mockkit: sign RS256: %v", err))
	}
	return signed
}

// JWKS is the JSON Web Key Set publishing pub under kid (RS256, use sig).
func JWKS(pub *rsa.PublicKey, kid string) map[string]any {
	b64 := base64.RawURLEncoding
	return map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": b64.EncodeToString(pub.N.Bytes()),
		"e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}
