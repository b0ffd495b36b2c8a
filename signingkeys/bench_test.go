package signingkeys

import (
	"context"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v5"
)

// benchKeySet uses the real clock so keys never expire mid-benchmark.
func benchKeySet(b *testing.B) *KeySet {
	b.Helper()
	ks := NewKeySet(KeySetOptions{Store: NewMemoryKeyStore(), KeyDuration: time.Hour})
	if _, err := ks.SigningKey(context.Background()); err != nil {
		b.Fatal(err)
	}
	return ks
}

func BenchmarkJWKS(b *testing.B) {
	ks := benchKeySet(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if doc, err := ks.JWKS(ctx); err != nil || len(doc) == 0 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSign is one plugin token's JWS (header, payload, ES256).
func BenchmarkSign(b *testing.B) {
	ks := benchKeySet(b)
	key, _ := ks.SigningKey(context.Background())
	payload := []byte(`{"sub":"auth","aud":"catalog","iat":1795777608,"exp":1795781208}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := key.Sign(TypPlugin, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkES256Sign compares our signer with golang-jwt's ES256 method.
func BenchmarkES256Sign(b *testing.B) {
	ks := benchKeySet(b)
	key, _ := ks.SigningKey(context.Background())
	input := []byte(key.userHeader + "eyJzdWIiOiJ1c2VyOmRlZmF1bHQvYWxpY2UiLCJpYXQiOjE3OTU3Nzc2MDgsImV4cCI6MTc5NTc4MTIwOH0")
	b.Run("own", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := key.AppendSignature(nil, input); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jwt.SigningMethodES256.Sign(string(input), key.priv); err != nil {
				b.Fatal(err)
			}
		}
	})
}
