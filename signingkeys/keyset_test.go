package signingkeys

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func storedKIDs(t *testing.T, s KeyStore) []string {
	t.Helper()
	keys, err := s.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.KID)
	}
	return out
}

func jwksKIDs(t *testing.T, ks KeySource) []string {
	t.Helper()
	doc, err := ks.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kid string }
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWKS %s: %v", doc, err)
	}
	out := []string{}
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

func TestKeySetJWKSShape(t *testing.T) {
	clock := newFakeClock()
	store := NewMemoryKeyStore()
	ks := newTestKeySet(t, clock, store)
	if doc, _ := ks.JWKS(ctxT(t)); string(doc) != `{"keys":[]}` {
		t.Fatalf("empty JWKS = %s", doc)
	}
	k, err := ks.SigningKey(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := ks.JWKS(ctxT(t))
	var set struct{ Keys []map[string]string }
	if err := json.Unmarshal(doc, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s %v", doc, err)
	}
	j := set.Keys[0]
	if len(j) != 6 || j["kty"] != "EC" || j["crv"] != "P-256" || j["alg"] != "ES256" || j["kid"] != k.KID || len(j["x"]) != 43 || len(j["y"]) != 43 {
		t.Errorf("JWK %v", j)
	}
	if !strings.HasPrefix(string(doc), `{"keys":[{"kty":"EC","x":"`) || !strings.Contains(string(doc), `","crv":"P-256","kid":"`+k.KID+`","alg":"ES256"}]}`) {
		t.Errorf("member order: %s", doc)
	}
	// The store row: public JWK only, CreatedAt, ExpiresAt = created + 3h.
	rows, _ := store.ListKeys(ctxT(t))
	if len(rows) != 1 || string(rows[0].JWK) != strings.TrimSuffix(strings.TrimPrefix(string(doc), `{"keys":[`), `]}`) ||
		!rows[0].CreatedAt.Equal(clock.Now()) || !rows[0].ExpiresAt.Equal(clock.Now().Add(3*time.Hour)) {
		t.Errorf("row %+v", rows)
	}
	if strings.Contains(string(rows[0].JWK), `"d"`) {
		t.Error("private key stored")
	}
	p, _ := ks.PublicKeys(ctxT(t))
	if p.Key(k.KID) == nil || !p.Key(k.KID).Equal(k.Public()) || p.ETag() == "" {
		t.Error("PublicKeys does not hold the signing key")
	}
}

func TestKeySetRotationAndPruning(t *testing.T) {
	clock := newFakeClock()
	store := newPruneWatch(NewMemoryKeyStore())
	ks := newTestKeySet(t, clock, store)
	ctx := ctxT(t)
	k1, err := ks.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Minute)
	if k, _ := ks.SigningKey(ctx); k != k1 {
		t.Fatal("key rotated before KeyDuration")
	}
	clock.Advance(time.Minute) // exactly KeyDuration: a new key
	k2, err := ks.SigningKey(ctx)
	if err != nil || k2.KID == k1.KID {
		t.Fatalf("no rotation: %v", err)
	}
	if got := jwksKIDs(t, ks); !slices.Equal(got, []string{k1.KID, k2.KID}) {
		t.Fatalf("JWKS after rotation %v", got)
	}
	v1 := mustPublicKeys(t, ks).Version()
	clock.Advance(2*time.Hour - time.Second) // k1 listed until created+3h
	if got := jwksKIDs(t, ks); !slices.Equal(got, []string{k1.KID, k2.KID}) {
		t.Fatalf("k1 dropped early: %v", got)
	}
	clock.Advance(time.Second)
	if got := jwksKIDs(t, ks); !slices.Equal(got, []string{k2.KID}) {
		t.Fatalf("JWKS after ListDuration %v", got)
	}
	if mustPublicKeys(t, ks).Version() == v1 {
		t.Error("version did not change")
	}
	store.waitPrune(t, k1.KID)
	if got := storedKIDs(t, store); !slices.Equal(got, []string{k2.KID}) {
		t.Fatalf("store after pruning %v", got)
	}
	// Another process's key, expired by its own ExpiresAt, is pruned on reload.
	_ = store.AddKey(ctx, StoredKey{KID: "other", JWK: []byte(`{"kty":"RSA","kid":"other"}`), CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Minute)})
	if err := ks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, ks); !slices.Equal(got, []string{k2.KID, "other"}) {
		t.Fatalf("JWKS %v", got)
	}
	clock.Advance(time.Minute)
	if got := jwksKIDs(t, ks); !slices.Equal(got, []string{k2.KID}) {
		t.Fatalf("JWKS %v", got)
	}
	store.waitPrune(t, "other")
	if got := storedKIDs(t, store); !slices.Equal(got, []string{k2.KID}) {
		t.Fatalf("store %v", got)
	}
}

func mustPublicKeys(t *testing.T, ks KeySource) *PublicKeySet {
	t.Helper()
	p, err := ks.PublicKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeySetFailedInsertIsRetriedAndNeverUsed(t *testing.T) {
	clock := newFakeClock()
	mem := NewMemoryKeyStore()
	store := &flakyStore{KeyStore: mem, failAdds: 1}
	ks := newTestKeySet(t, clock, store)
	if _, err := ks.SigningKey(ctxT(t)); err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Fatalf("err = %v", err)
	}
	if got := jwksKIDs(t, ks); len(got) != 0 {
		t.Fatalf("a key that was never stored is listed: %v", got)
	}
	k, err := ks.SigningKey(ctxT(t))
	if err != nil {
		t.Fatalf("retry failed: %v", err)
	}
	if got := storedKIDs(t, mem); !slices.Equal(got, []string{k.KID}) {
		t.Fatalf("store %v, signing kid %s", got, k.KID)
	}
	if store.adds != 2 {
		t.Errorf("%d inserts, want 2", store.adds)
	}
}

func TestKeySetJWKSDoesNotReadStore(t *testing.T) {
	clock := newFakeClock()
	store := &flakyStore{KeyStore: NewMemoryKeyStore()}
	ks := newTestKeySet(t, clock, store)
	if _, err := ks.SigningKey(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	before := store.lists.Load()
	for range 100 {
		if _, err := ks.JWKS(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.lists.Load() - before; n != 0 {
		t.Fatalf("JWKS read the store %d times", n)
	}
}

func TestKeySetConcurrentFirstUseCreatesOneKey(t *testing.T) {
	clock := newFakeClock()
	store := &flakyStore{KeyStore: NewMemoryKeyStore()}
	ks := newTestKeySet(t, clock, store)
	var wg sync.WaitGroup
	kids := make([]string, 32)
	for i := range kids {
		wg.Go(func() {
			k, err := ks.SigningKey(ctxT(t))
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = k.KID
		})
	}
	wg.Wait()
	for _, k := range kids {
		if k != kids[0] {
			t.Fatalf("different keys: %v", kids)
		}
	}
	if store.adds != 1 {
		t.Errorf("%d keys inserted", store.adds)
	}
}

// TestKeySetCreatesNextKeyAheadOfRotation: with a publish delay the successor is
// inserted early enough that no caller ever waits at rotation. SigningKey calls
// use a short deadline: with the frozen fake clock, any wait would never end.
func TestKeySetCreatesNextKeyAheadOfRotation(t *testing.T) {
	clock := newFakeClock()
	store := NewMemoryKeyStore()
	ks := NewKeySet(KeySetOptions{Store: store, KeyDuration: time.Hour, PublishDelay: 10 * time.Second, Now: clock.Now})
	noWait := func() *SigningKey {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		k, err := ks.SigningKey(ctx)
		if err != nil {
			t.Fatalf("SigningKey waited: %v", err)
		}
		return k
	}
	if err := ks.ensureKeyCreated(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// Not published yet: a caller waits (and gives up at its deadline).
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := ks.SigningKey(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unpublished key used: %v", err)
	}
	clock.Advance(10 * time.Second)
	k1 := noWait()
	clock.Advance(time.Hour - 20*time.Second) // prepareAt = activeUntil - 2*PublishDelay
	if k := noWait(); k != k1 {
		t.Fatal("rotated too early")
	}
	waitFor(t, func() bool { return len(storedKIDs(t, store)) == 2 })
	if k := noWait(); k != k1 {
		t.Fatal("successor used before it was published")
	}
	clock.Advance(10 * time.Second) // successor published; k1 still valid for 10s
	k2 := noWait()
	if k2 == k1 {
		t.Fatal("successor not used once published")
	}
	clock.Advance(10 * time.Second)
	if k := noWait(); k != k2 {
		t.Fatal("unexpected key")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMultiReplica: two processes share one store. The key A signs with must be in
// B's in-memory JWKS as soon as A hands it out, with notifications delivered and,
// separately, with only polling.
func TestMultiReplica(t *testing.T) {
	for _, tc := range []struct {
		name    string
		deliver bool
		poll    time.Duration
		delay   time.Duration
	}{
		{"notifications", true, 0, 50 * time.Millisecond},
		{"polling only", false, 20 * time.Millisecond, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			shared := NewMemoryKeyStore()
			hub := newNotifyHub(tc.deliver)
			newReplica := func() *KeySet {
				return NewKeySet(KeySetOptions{Store: &notifyingStore{KeyStore: shared, hub: hub}, KeyDuration: time.Hour,
					PublishDelay: tc.delay, PollInterval: tc.poll})
			}
			a, b := newReplica(), newReplica()
			if err := b.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.deliver {
				// Listen registers asynchronously; the poll-less setup relies on it.
				waitFor(t, func() bool { hub.mu.Lock(); defer hub.mu.Unlock(); return len(hub.listeners) == 1 })
			}
			if err := a.Start(ctx); err != nil {
				t.Fatal(err)
			}
			aKey, err := a.SigningKey(ctx)
			if err != nil {
				t.Fatal(err)
			}
			reloads := b.lastReload.Load()
			if pub := mustPublicKeys(t, b).Key(aKey.KID); pub == nil || !pub.Equal(aKey.Public()) {
				t.Fatalf("B does not list A's key %s when A signs with it", aKey.KID)
			}
			if b.lastReload.Load() != reloads {
				t.Error("B needed a reload to find A's key")
			}
			if got := hub.notifies.Load(); got < 2 {
				t.Errorf("%d notifications, want one per inserted key", got)
			}
			// Listen keeps itself connected: each replica calls it once, never again
			// (a caller that re-listened did so after its 1 s retry backoff).
			time.Sleep(1500 * time.Millisecond)
			hub.mu.Lock()
			listens := hub.listens
			hub.mu.Unlock()
			if listens != 2 {
				t.Errorf("Listen called %d times by 2 replicas, want 2", listens)
			}
		})
	}
}

// TestRefreshUnknownKID covers a replica that missed a key (publish delay
// misconfigured): one paced reload, not one per token.
func TestRefreshUnknownKID(t *testing.T) {
	shared := NewMemoryKeyStore()
	a := NewKeySet(KeySetOptions{Store: shared, KeyDuration: time.Hour})
	store := &flakyStore{KeyStore: shared}
	b := NewKeySet(KeySetOptions{Store: store, KeyDuration: time.Hour})
	if _, err := b.JWKS(ctxT(t)); err != nil { // b loads (no keys yet)
		t.Fatal(err)
	}
	aKey, err := a.SigningKey(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	b.lastReload.Store(0)
	if !b.RefreshUnknownKID(ctxT(t)) || mustPublicKeys(t, b).Key(aKey.KID) == nil {
		t.Fatal("A's key not found after a refresh")
	}
	lists := store.lists.Load()
	for range 20 {
		b.RefreshUnknownKID(ctxT(t))
	}
	if n := store.lists.Load() - lists; n > 1 {
		t.Errorf("%d reloads for 20 back-to-back unknown-kid refreshes", n)
	}
}

func TestMemoryKeyStore(t *testing.T) {
	ctx := ctxT(t)
	s := NewMemoryKeyStore()
	for _, kid := range []string{"1", "2", "3"} {
		if err := s.AddKey(ctx, StoredKey{KID: kid, JWK: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddKey(ctx, StoredKey{KID: "2"}); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, step := range []struct {
		remove []string
		want   []string
	}{{[]string{"1"}, []string{"2", "3"}}, {nil, []string{"2", "3"}}, {[]string{"3", "4"}, []string{"2"}}} {
		if err := s.RemoveKeys(ctx, step.remove); err != nil {
			t.Fatal(err)
		}
		if got := storedKIDs(t, s); !slices.Equal(got, step.want) {
			t.Fatalf("after removing %v: %v", step.remove, got)
		}
	}
	if err := s.AddKey(ctx, StoredKey{KID: "1"}); err != nil {
		t.Fatalf("re-add: %v", err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				kid := string(rune('a'+i)) + strings.Repeat("x", j)
				_ = s.AddKey(ctx, StoredKey{KID: kid})
				_, _ = s.ListKeys(ctx)
				_ = s.RemoveKeys(ctx, []string{kid})
			}
		})
	}
	wg.Wait()
	if got := storedKIDs(t, s); !slices.Equal(got, []string{"2", "1"}) {
		t.Fatalf("after concurrent use: %v", got)
	}
}

// TestKeySetStartSurvivesFailedFirstLoad: the first ListKeys (and AddKey) of a
// replica fail at start-up. Start still succeeds, and the replica goes on to list the
// keys another replica creates afterwards: by polling, by notification, and (with
// neither) by the start-up retry, which also inserts its own key.
func TestKeySetStartSurvivesFailedFirstLoad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		poll    time.Duration
		notify  bool
		backoff time.Duration
	}{
		{"polling", 20 * time.Millisecond, false, time.Hour},
		{"notifications", 0, true, time.Hour},
		{"start-up retry", 0, false, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			shared := NewMemoryKeyStore()
			hub := newNotifyHub(true)
			flaky := &flakyStore{KeyStore: shared, failLists: 1, failAdds: 1}
			var bStore KeyStore = flaky
			aStore := KeyStore(shared)
			if tc.notify {
				bStore = &notifyingStore{KeyStore: flaky, hub: hub}
				aStore = &notifyingStore{KeyStore: shared, hub: hub}
			}
			b := NewKeySet(KeySetOptions{Store: bStore, KeyDuration: time.Hour, PollInterval: tc.poll, RetryBackoff: tc.backoff})
			if err := b.Start(ctx); err != nil {
				t.Fatalf("Start after a failed first load: %v", err)
			}
			if n := flaky.lists.Load(); n != 1 {
				t.Fatalf("Start listed the store %d times, want 1 (failing)", n)
			}
			if tc.notify {
				waitFor(t, func() bool { hub.mu.Lock(); defer hub.mu.Unlock(); return len(hub.listeners) == 1 })
			}
			if tc.backoff == time.Hour {
				// A lazy load now (JWKS on a set that never loaded) must not be what
				// finds the other replica's key below.
				if got := jwksKIDs(t, b); len(got) != 0 {
					t.Fatalf("B lists %v before A exists", got)
				}
			}
			a := NewKeySet(KeySetOptions{Store: aStore, KeyDuration: time.Hour})
			if err := a.Start(ctx); err != nil {
				t.Fatal(err)
			}
			aKey, err := a.SigningKey(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.backoff != time.Hour {
				// B's own key is inserted by the retry, with nobody asking B for one.
				waitFor(t, func() bool { return len(storedKIDs(t, shared)) == 2 })
			}
			waitFor(t, func() bool { return mustPublicKeys(t, b).Key(aKey.KID) != nil })
		})
	}
}
