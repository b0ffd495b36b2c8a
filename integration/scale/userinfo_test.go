package scale

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// TestUserInfoCurve: user_info with 1k…1M rows on PostgreSQL. /v1/userinfo's lookup
// (Issuer.UserInfo) with a cold cache reads the row; warm, it is served from memory.
// A sign-in writes the row; a refresh that changes nothing writes nothing.
func TestUserInfoCurve(t *testing.T) {
	db, conn := pgDatabase(t)
	ctx := context.Background()
	header := []string{"rows", "insert (setup)", "userinfo cold mean / p99", "userinfo warm mean / p99", "DB reads per cold / warm lookup",
		"sign-in (token + write) mean", "writes per sign-in / per refresh"}
	var rows [][]string
	have := 0
	keys := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: signingkeys.NewMemoryKeyStore(), KeyDuration: time.Hour})
	for _, n := range sizes(1000, 100_000, 1_000_000) {
		start := time.Now()
		if _, err := conn.Exec(ctx, `INSERT INTO user_info (user_entity_ref, user_info, updated_at)
SELECT 'user:default/user-' || g, '{"claims":{"sub":"user:default/user-' || g || '","ent":["user:default/user-' || g || '","group:default/team-' || (g % 1000) || '"]}}', now()
FROM generate_series($1::int, $2::int - 1) g`, have, n); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `ANALYZE user_info`); err != nil {
			t.Fatal(err)
		}
		insert := time.Since(start)
		have = n
		store := &countingUserInfo{UserInfoStore: db.UserInfo()}
		is := tokens.NewIssuer(tokens.IssuerOptions{Issuer: "http://127.0.0.1/api/auth", Keys: keys, Expiration: time.Hour, UserInfo: store})
		const lookups = 1000
		sub := func(k int) string { return fmt.Sprintf("user:default/user-%d", (k*7919)%n) }
		measure := func() latencies {
			lat := make(latencies, 0, lookups)
			for k := range lookups {
				s := time.Now()
				info, err := is.UserInfo(ctx, sub(k))
				lat = append(lat, time.Since(s))
				if err != nil || len(info) == 0 {
					t.Fatalf("userinfo %s: %v", sub(k), err)
				}
			}
			return lat
		}
		cold := measure()
		coldReads := float64(store.reads.Swap(0)) / lookups
		warm := measure()
		warmReads := float64(store.reads.Swap(0)) / lookups

		// Sign-ins of users that have no row yet, then their refreshes.
		const signIns = 300
		var signLat latencies
		for k := range signIns {
			s := time.Now()
			if _, err := is.IssueUserToken(ctx, tokens.UserClaims{Sub: fmt.Sprintf("user:default/new-%d-%d", n, k)}); err != nil {
				t.Fatal(err)
			}
			signLat = append(signLat, time.Since(s))
		}
		signWrites := float64(store.writes.Swap(0)) / signIns
		for k := range signIns {
			if _, err := is.IssueUserToken(ctx, tokens.UserClaims{Sub: fmt.Sprintf("user:default/new-%d-%d", n, k)}); err != nil {
				t.Fatal(err)
			}
		}
		refreshWrites := float64(store.writes.Swap(0)) / signIns
		if warmReads != 0 || refreshWrites != 0 || signWrites != 1 {
			t.Errorf("%d rows: %.2f reads per warm lookup, %.2f writes per sign-in, %.2f per refresh; want 0, 1, 0", n, warmReads, signWrites, refreshWrites)
		}
		rows = append(rows, []string{count(n), dur(insert), dur(cold.mean()) + " / " + dur(cold.p99()), dur(warm.mean()) + " / " + dur(warm.p99()),
			fmt.Sprintf("%.1f / %.1f", coldReads, warmReads), dur(signLat.mean()), fmt.Sprintf("%.1f / %.1f", signWrites, refreshWrites)})
	}
	table("user_info on PostgreSQL", header, rows)
}
