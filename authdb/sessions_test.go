package authdb

import (
	"context"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/sessions"
)

// The session store keeps Node's schema: rows go into the sessions table with our sid
// prefixes, and nothing else changes.
func TestSessionStoreSQLite(t *testing.T) {
	db := openT(t, sqliteFileOptions(t))
	testSessionStore(t, db, db)
}

func TestSessionStorePostgres(t *testing.T) {
	for _, mode := range pgModes {
		t.Run(mode.name, func(t *testing.T) {
			dsn, name := freshPGDatabase(t)
			a := openT(t, pgOptions(dsn, name, mode.schema))
			b := openT(t, pgOptions(dsn, name, mode.schema))
			testSessionStore(t, a, b)
		})
	}
}

// testSessionStore runs two registries, on a and b (the same database; two processes on
// PostgreSQL): what one revokes the other refuses.
func testSessionStore(t *testing.T, a, b *DB) {
	ctx := t.Context()
	now := time.Now()
	ra := sessions.New(sessions.Options{Store: a.Sessions()})
	rb := sessions.New(sessions.Options{Store: b.Sessions(), ReloadInterval: time.Hour})
	if err := ra.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Hour)
	alice1, err := ra.Begin(ctx, "user:default/alice", "spectrocloud", exp)
	if err != nil {
		t.Fatal(err)
	}
	alice2, err := rb.Begin(ctx, "user:default/alice", "spectrocloud", exp)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := ra.Begin(ctx, "user:default/bob", "spectrocloud", exp)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, a, "sessions"); got != 3 {
		t.Fatalf("sessions rows = %d, want 3", got)
	}
	for _, id := range []string{alice1, alice2, bob} {
		if ra.Revoked(id) || rb.Revoked(id) {
			t.Fatalf("new session %s is revoked", id)
		}
	}

	user, existed, err := ra.End(ctx, alice1, exp)
	if err != nil || !existed || user != "user:default/alice" {
		t.Fatalf("End = %q, %v, %v", user, existed, err)
	}
	if !ra.Revoked(alice1) {
		t.Fatal("the revoking registry does not refuse the session")
	}
	waitRevoked(t, rb, alice1, a.isPG())
	// A second End (a copied cookie logging out again) is no longer a live session.
	if _, existed, err := rb.End(ctx, alice1, exp); err != nil || existed {
		t.Fatalf("second End = %v, %v", existed, err)
	}

	n, err := rb.EndUser(ctx, "user:default/alice")
	if err != nil || n != 1 {
		t.Fatalf("EndUser = %d, %v; want 1 (alice2)", n, err)
	}
	waitRevoked(t, ra, alice2, a.isPG())
	if ra.Revoked(bob) || rb.Revoked(bob) {
		t.Fatal("bob's session was revoked with alice's")
	}
	if n, err := rb.EndUser(ctx, "user:default/alice"); err != nil || n != 0 {
		t.Fatalf("EndUser again = %d, %v; want 0", n, err)
	}

	// A fresh process loads the tombstones.
	rc := sessions.New(sessions.Options{Store: b.Sessions()})
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !rc.Revoked(alice1) || !rc.Revoked(alice2) || rc.Revoked(bob) {
		t.Fatal("a new registry did not load the revoked set")
	}

	// Expired rows are pruned; live ones stay.
	short, err := ra.Begin(ctx, "user:default/carol", "spectrocloud", now.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ra.End(ctx, short, now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	pruned, err := a.Sessions().Prune(ctx, now)
	if err != nil || pruned != 1 {
		t.Fatalf("Prune = %d, %v; want 1", pruned, err)
	}
	if revs, err := a.Sessions().ListRevoked(ctx, now); err != nil || len(revs) != 2 {
		t.Fatalf("ListRevoked = %v, %v; want alice's two", revs, err)
	}

	// Offboarding also deletes the user's offline sessions (Backstage's endpoint of the
	// same name does only that), and counts them.
	mustExec(t, a, `INSERT INTO offline_sessions (id, user_entity_ref, token_hash) VALUES ('o1', 'user:default/dave', 'h')`)
	if _, err := ra.Begin(ctx, "user:default/dave", "spectrocloud", exp); err != nil {
		t.Fatal(err)
	}
	if n, err := ra.EndUser(ctx, "user:default/dave"); err != nil || n != 2 {
		t.Fatalf("EndUser(dave) = %d, %v; want 2", n, err)
	}
	if got := count(t, a, "offline_sessions"); got != 0 {
		t.Fatalf("offline_sessions rows = %d after offboarding", got)
	}
}

func waitRevoked(t *testing.T, r *sessions.Registry, id string, notified bool) {
	t.Helper()
	if !notified {
		// SQLite: no notifications; the next reload brings it.
		if err := r.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for !r.Revoked(id) {
		if time.Now().After(deadline) {
			t.Fatalf("session %s not revoked at the other registry", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
