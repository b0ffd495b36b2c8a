package sessions

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPayloadRoundTrip(t *testing.T) {
	exp := time.Unix(1796410000, 0)
	revs := []Revoked{{ID: strings.Repeat("a", 32), ExpiresAt: exp}, {ID: strings.Repeat("0", 32), ExpiresAt: exp.Add(time.Hour)}}
	p := EncodePayload(revs)
	got, ok := decodePayload(p)
	if !ok || len(got) != 2 || got[0] != revs[0] || !got[1].ExpiresAt.Equal(revs[1].ExpiresAt) {
		t.Fatalf("decode(%q) = %v, %v", p, got, ok)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 32), strings.Repeat("A", 32) + ":1", strings.Repeat("a", 31) + ":1", strings.Repeat("a", 32) + ":z"} {
		if _, ok := decodePayload(bad); ok {
			t.Errorf("decodePayload(%q) accepted", bad)
		}
	}
	// Too many for one notification: "" (listeners reload instead).
	many := make([]Revoked, 400)
	for i := range many {
		many[i] = Revoked{ID: strings.Repeat("b", 32), ExpiresAt: exp}
	}
	if p := EncodePayload(many); p != "" {
		t.Errorf("oversized payload %d bytes", len(p))
	}
}

func TestRegistry(t *testing.T) {
	now := time.Unix(1796410000, 0)
	clock := func() time.Time { return now }
	store := NewMemoryStore()
	r := New(Options{Store: store, Now: clock}) // not started: the test drives reloads
	if err := r.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := r.Begin(ctx, "user:default/alice", "p", now.Add(time.Hour))
	if err != nil || !ValidID(id) {
		t.Fatalf("Begin = %q, %v", id, err)
	}
	if r.Revoked(id) {
		t.Fatal("new session revoked")
	}
	if _, _, err := r.End(ctx, "not-an-id", now); err == nil {
		t.Fatal("End accepted a malformed id")
	}
	// The store down: End still refuses the session in this process at once.
	store.SetErr(errors.New("down"))
	if _, _, err := r.End(ctx, id, now.Add(time.Hour)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("End with the store down = %v", err)
	}
	if !r.Revoked(id) {
		t.Fatal("End did not revoke locally")
	}
	// ... and it is handed to the store again once that is back.
	r.RetryPending(ctx)
	if r.Pending() != 1 {
		t.Fatalf("pending = %d while the store is down", r.Pending())
	}
	if _, err := r.Begin(ctx, "user:default/bob", "p", now.Add(time.Hour)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Begin with the store down = %v", err)
	}
	// A failed reload keeps the set.
	if err := r.Reload(ctx); err == nil || !r.Revoked(id) {
		t.Fatalf("Reload with the store down = %v, revoked %v", err, r.Revoked(id))
	}
	store.SetErr(nil)
	r.RetryPending(ctx)
	if r.Pending() != 0 {
		t.Fatal("the pending revocation was not retried")
	}
	if revs, _ := store.ListRevoked(ctx, now); len(revs) != 1 || revs[0].ID != id {
		t.Fatalf("store tombstones after the retry: %v", revs)
	}
	// Expired revocations leave the set at the next reload.
	short, _ := r.Begin(ctx, "user:default/carol", "p", now.Add(time.Minute))
	if _, _, err := r.End(ctx, short, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if r.Revoked(short) {
		t.Fatal("an expired revocation stayed in the set")
	}
	// A notification from another process adds to the set without a store read; a
	// malformed one asks for a reload.
	other := strings.Repeat("c", 32)
	r.onNotify(EncodePayload([]Revoked{{ID: other, ExpiresAt: now.Add(time.Hour)}}), false)
	if !r.Revoked(other) {
		t.Fatal("notified revocation not applied")
	}
	r.onNotify("garbage", false)
	select {
	case <-r.reloads:
	default:
		t.Fatal("a malformed notification did not ask for a reload")
	}
}

func BenchmarkRevoked(b *testing.B) {
	r := New(Options{Store: NewMemoryStore()})
	revs := make([]Revoked, 100000)
	for i := range revs {
		revs[i] = Revoked{ID: strings.Repeat("0", 24) + string(rune('a'+i%6)) + strings.Repeat("1", 7), ExpiresAt: time.Now().Add(time.Hour)}
	}
	r.add(revs)
	id := strings.Repeat("f", 32)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r.Revoked(id) {
				b.Fatal("revoked")
			}
		}
	})
}
