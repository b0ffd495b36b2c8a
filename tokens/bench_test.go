package tokens

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// benchKeySet uses the real clock so keys never expire mid-benchmark.
func benchKeySet(b *testing.B) *signingkeys.KeySet {
	b.Helper()
	ks := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: signingkeys.NewMemoryKeyStore(), KeyDuration: time.Hour})
	if _, err := ks.SigningKey(context.Background()); err != nil {
		b.Fatal(err)
	}
	return ks
}

// BenchmarkIssueUserToken: two ES256 signatures, serialisation and a skipped
// (unchanged) user_info write.
func BenchmarkIssueUserToken(b *testing.B) {
	ks := benchKeySet(b)
	is := NewIssuer(IssuerOptions{Issuer: testIss, Keys: ks, Expiration: time.Hour, OmitOwnershipClaim: true, UserInfo: newCountingUserInfo()})
	claims := UserClaims{Sub: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := is.IssueUserToken(ctx, claims); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyUserToken(b *testing.B) {
	ks := benchKeySet(b)
	is := NewIssuer(IssuerOptions{Issuer: testIss, Keys: ks, Expiration: time.Hour, OmitOwnershipClaim: true})
	ctx := context.Background()
	const n = 512
	toks := make([]string, n)
	for i := range toks {
		it, err := is.IssueUserToken(ctx, UserClaims{Sub: "user:default/u" + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = it.Token
	}
	b.Run("cache hit", func(b *testing.B) {
		v := NewVerifier(ks, nil)
		for _, tok := range toks {
			if _, err := v.VerifyUserToken(ctx, tok, false); err != nil {
				b.Fatal(err)
			}
		}
		var i atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.VerifyUserToken(ctx, toks[i.Add(1)%n], true); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	// The uncached path on one goroutine: steadier figures than the parallel run,
	// whose Purge calls contend on the cache lock.
	b.Run("cache miss serial", func(b *testing.B) {
		v := NewVerifier(ks, nil)
		b.ReportAllocs()
		for b.Loop() {
			v.cache.Purge()
			if _, err := v.VerifyUserToken(ctx, toks[0], true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cache miss", func(b *testing.B) {
		v := NewVerifier(ks, nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v.cache.Purge() // force the full verification path
				if _, err := v.VerifyUserToken(ctx, toks[0], true); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkPluginToken(b *testing.B) {
	ks := benchKeySet(b)
	pt := NewPluginTokenIssuer(ks, "auth", nil)
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := pt.PluginToken(ctx, "catalog"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
