package authdb

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/authserver/store"
)

func oauthDBs(t *testing.T) map[string]*DB {
	dbs := map[string]*DB{"SQLite": openT(t, sqliteFileOptions(t))}
	if pgDSNOrEmpty() != "" {
		dbs["Postgres"] = newPG(t, "")
	}
	return dbs
}

func TestOAuthStores(t *testing.T) {
	for name, db := range oauthDBs(t) {
		t.Run(name, func(t *testing.T) {
			runOAuthStoreSuite(t, db)
		})
	}
}

func runOAuthStoreSuite(t *testing.T, db *DB) {
	ctx := t.Context()
	sessions, codes, offline := db.OAuthSessions(), db.OIDCCodes(), db.OfflineSessions()
	exp := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)

	t.Run("SessionRoundTripAndDecide", func(t *testing.T) {
		in := store.Session{ID: "s1", ClientID: "cli", RedirectURI: "http://127.0.0.1:8055/callback", Scope: "openid offline_access",
			State: "st", ResponseType: "code", CodeChallenge: "cc", CodeChallengeMethod: "S256", ExpiresAt: exp}
		if err := sessions.CreateSession(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := sessions.GetSession(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		in.Status = store.StatusPending
		if got != in {
			t.Fatalf("GetSession = %+v, want %+v", got, in)
		}
		if _, err := sessions.GetSession(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing session: %v", err)
		}
		// Concurrent decisions: exactly one wins.
		if n := wins(t, 10, func(i int) (bool, error) {
			status := store.StatusApproved
			if i%2 == 1 {
				status = store.StatusRejected
			}
			return sessions.DecideSession(ctx, "s1", status, "user:default/jane")
		}); n != 1 {
			t.Fatalf("%d decisions won, want 1", n)
		}
		got, _ = sessions.GetSession(ctx, "s1")
		if got.Status == store.StatusPending || got.UserEntityRef != "user:default/jane" {
			t.Fatalf("after decision: %+v", got)
		}
	})

	t.Run("CodeRedeemedOnce", func(t *testing.T) {
		if err := sessions.CreateSession(ctx, store.Session{ID: "s2", ClientID: "cli", RedirectURI: "x:/", ResponseType: "code", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := codes.CreateCode(ctx, store.Code{Code: "c1", SessionID: "s2", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		c, err := codes.GetCode(ctx, "c1")
		if err != nil || c.Used || !c.ExpiresAt.Equal(exp) || c.SessionID != "s2" {
			t.Fatalf("GetCode = %+v, %v", c, err)
		}
		if n := wins(t, 20, func(int) (bool, error) { return codes.RedeemCode(ctx, "c1") }); n != 1 {
			t.Fatalf("code redeemed %d times, want 1", n)
		}
		if c, _ := codes.GetCode(ctx, "c1"); !c.Used {
			t.Fatal("code not marked used")
		}
		if ok, _ := codes.RedeemCode(ctx, "missing"); ok {
			t.Fatal("a missing code was redeemed")
		}
		// Node inserts used=false explicitly; a row relying on the column default
		// ('0') must redeem too.
		mustExec(t, db, `INSERT INTO oidc_authorization_codes (code, session_id, expires_at) VALUES ('c2', 's2', $1)`, (&oauthStore{db}).dateArg(exp))
		if ok, err := codes.RedeemCode(ctx, "c2"); !ok || err != nil {
			t.Fatalf("default-used code: %v %v", ok, err)
		}
		// Deleting expired sessions cascades to their codes.
		n, err := sessions.DeleteExpiredSessions(ctx, exp.Add(time.Second))
		if err != nil || n < 1 {
			t.Fatalf("DeleteExpiredSessions = %d, %v", n, err)
		}
		if _, err := codes.GetCode(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("code survived its session: %v", err)
		}
	})

	t.Run("OfflineSessions", func(t *testing.T) {
		mustExec(t, db, "DELETE FROM offline_sessions")
		base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		for i, id := range []string{"o1", "o2", "o3"} {
			err := offline.CreateOfflineSession(ctx, store.OfflineSession{ID: id, UserEntityRef: "user:default/jane",
				OIDCClientID: "client-" + id, TokenHash: "h-" + id, CreatedAt: base.Add(time.Duration(i) * time.Hour), LastUsedAt: base.Add(time.Duration(i) * time.Hour)}, 3)
			if err != nil {
				t.Fatal(err)
			}
		}
		// A fourth evicts the least recently used (o1); a new one for o2's client
		// replaces o2.
		if err := offline.CreateOfflineSession(ctx, store.OfflineSession{ID: "o4", UserEntityRef: "user:default/jane", OIDCClientID: "client-o2", TokenHash: "h4"}, 3); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"o1": true, "o2": false, "o3": true, "o4": true} {
			_, err := offline.GetOfflineSession(ctx, id)
			if (err == nil) != want {
				t.Errorf("session %s present=%v, want %v (%v)", id, err == nil, want, err)
			}
		}
		if err := offline.CreateOfflineSession(ctx, store.OfflineSession{ID: "o5", UserEntityRef: "user:default/jane", TokenHash: "h5"}, 3); err != nil {
			t.Fatal(err)
		}
		if _, err := offline.GetOfflineSession(ctx, "o1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("o1 not evicted: %v", err)
		}
		got, err := offline.GetOfflineSession(ctx, "o3")
		if err != nil || got.OIDCClientID != "client-o3" || got.TokenHash != "h-o3" || !got.CreatedAt.Equal(base.Add(2*time.Hour)) {
			t.Fatalf("GetOfflineSession = %+v, %v", got, err)
		}
		o5, _ := offline.GetOfflineSession(ctx, "o5")
		if o5.OIDCClientID != "" {
			t.Fatalf("NULL client read as %q", o5.OIDCClientID)
		}

		// Rotation is a compare and swap: of concurrent rotations from one hash,
		// exactly one wins.
		now := base.Add(48 * time.Hour)
		if n := wins(t, 10, func(i int) (bool, error) {
			return offline.RotateOfflineSession(ctx, "o3", "h-o3", "new"+string(rune('a'+i)), now)
		}); n != 1 {
			t.Fatalf("%d rotations won, want 1", n)
		}
		got, _ = offline.GetOfflineSession(ctx, "o3")
		if got.TokenHash == "h-o3" || !got.LastUsedAt.Equal(now) {
			t.Fatalf("after rotation: %+v", got)
		}

		// Cleanup by both windows.
		n, err := offline.DeleteExpiredOfflineSessions(ctx, base.Add(90*time.Minute), base.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			// o3 was just used; o4 and o5 were created now (db clock): nothing expired.
			t.Fatalf("cleanup removed %d, want 0", n)
		}
		n, err = offline.DeleteExpiredOfflineSessions(ctx, base, base.Add(49*time.Hour))
		if err != nil || n != 1 { // o3 was created before base+49h; o4/o5 were created by the clock now
			t.Fatalf("cleanup by created_at removed %d, %v; want 1", n, err)
		}
		if n, err := offline.DeleteClientUserOfflineSessions(ctx, "client-o2", "user:default/jane"); err != nil || n != 1 {
			t.Fatalf("DeleteClientUserOfflineSessions = %d, %v", n, err)
		}
		if n, err := offline.DeleteOfflineSession(ctx, "o5"); err != nil || n != 1 {
			t.Fatalf("DeleteOfflineSession = %d, %v", n, err)
		}
		if n, err := offline.DeleteOfflineSession(ctx, "o5"); err != nil || n != 0 {
			t.Fatalf("DeleteOfflineSession of a gone row = %d, %v", n, err)
		}
	})

	t.Run("ReadsNodeRows", func(t *testing.T) {
		// What knex writes: on SQLite, Dates as epoch ms and fn.now() as text.
		expMS := exp.UnixMilli()
		if db.isPG() {
			mustExec(t, db, `INSERT INTO oauth_authorization_sessions (id, client_id, redirect_uri, response_type, status, expires_at) VALUES ('n1', 'c', 'u', 'code', 'pending', $1)`, exp)
			mustExec(t, db, `INSERT INTO offline_sessions (id, user_entity_ref, token_hash) VALUES ('n1', 'user:default/x', 'h')`)
		} else {
			mustExec(t, db, `INSERT INTO oauth_authorization_sessions (id, client_id, redirect_uri, response_type, status, expires_at) VALUES ('n1', 'c', 'u', 'code', 'pending', $1)`, expMS)
			mustExec(t, db, `INSERT INTO offline_sessions (id, user_entity_ref, token_hash) VALUES ('n1', 'user:default/x', 'h')`)
		}
		s, err := sessions.GetSession(ctx, "n1")
		if err != nil || !s.ExpiresAt.Equal(exp) {
			t.Fatalf("Node session = %+v, %v", s, err)
		}
		o, err := offline.GetOfflineSession(ctx, "n1")
		if err != nil || o.CreatedAt.IsZero() || time.Since(o.CreatedAt) > time.Hour {
			t.Fatalf("Node offline session = %+v, %v", o, err)
		}
	})
}

// wins runs f n times concurrently and counts the calls that report ok.
func wins(t *testing.T, n int, f func(i int) (bool, error)) int {
	t.Helper()
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := f(i)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(won.Load())
}
