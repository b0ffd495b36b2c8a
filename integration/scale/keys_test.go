package scale

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// TestSigningKeysCurve: signing_keys on PostgreSQL with the keys of 1, 10 and 50
// replicas (each started replica inserts its own key, as a big Deployment does).
// JWKS: its size and the cost of serving it (bytes built once per key change).
// Verification of a token signed by a replica that started a moment ago: the
// verifying replica has not listed the key yet unless its LISTEN notification
// arrived first; an unknown kid reloads the store once.
func TestSigningKeysCurve(t *testing.T) {
	db, _ := pgDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	newReplica := func() *signingkeys.KeySet {
		ks := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: db.SigningKeys(), KeyDuration: time.Hour, PollInterval: time.Minute})
		if err := ks.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.SigningKey(ctx); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	verifierKeys := newReplica()
	verifier := tokens.NewVerifier(verifierKeys, nil)
	replicas := 1
	header := []string{"replicas' keys", "JWKS size", "JWKS (cached bytes) per request", "verify, key created a moment ago: mean / max", "verify, known key (cache miss)"}
	var rows [][]string
	for _, n := range sizes(1, 10, 50) {
		for ; replicas < n; replicas++ {
			newReplica()
		}
		if err := verifierKeys.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		jwks, err := verifierKeys.JWKS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const jwksCalls = 100_000
		start := time.Now()
		for range jwksCalls {
			if _, err := verifierKeys.JWKS(ctx); err != nil {
				t.Fatal(err)
			}
		}
		jwksLat := time.Since(start) / jwksCalls

		// A replica that just started signs; the verifier sees its token at once.
		const fresh = 5
		var freshLat latencies
		var token string
		for k := range fresh {
			time.Sleep(250 * time.Millisecond) // past the unknown-kid reload pacing
			ks := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: db.SigningKeys(), KeyDuration: time.Hour})
			is := tokens.NewIssuer(tokens.IssuerOptions{Issuer: "http://127.0.0.1/api/auth", Keys: ks, Expiration: time.Hour})
			tok, err := is.IssueUserToken(ctx, tokens.UserClaims{Sub: fmt.Sprintf("user:default/fresh-%d-%d", n, k)})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := verifier.VerifyUserToken(ctx, tok.Token, false); err != nil {
				t.Fatalf("token of a replica that just started: %v", err)
			}
			freshLat = append(freshLat, time.Since(start))
			token = tok.Token
		}
		replicas += fresh
		_ = token
		// A known key, a token not seen before (the verified-token cache misses).
		is := tokens.NewIssuer(tokens.IssuerOptions{Issuer: "http://127.0.0.1/api/auth", Keys: verifierKeys, Expiration: time.Hour})
		var known latencies
		for k := range 200 {
			tok, err := is.IssueUserToken(ctx, tokens.UserClaims{Sub: fmt.Sprintf("user:default/known-%d-%d", n, k)})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := verifier.VerifyUserToken(ctx, tok.Token, false); err != nil {
				t.Fatal(err)
			}
			known = append(known, time.Since(start))
		}
		rows = append(rows, []string{fmt.Sprint(n), fmt.Sprintf("%d B", len(jwks)), dur(jwksLat), dur(freshLat.mean()) + " / " + dur(maxOf(freshLat)), dur(known.mean())})
	}
	table("signing_keys on PostgreSQL", header, rows)
}

func maxOf(l latencies) time.Duration {
	var m time.Duration
	for _, d := range l {
		m = max(m, d)
	}
	return m
}
