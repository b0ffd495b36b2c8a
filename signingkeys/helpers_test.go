package signingkeys

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/fakeclock"
)

type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New() }

// countingReader is a deterministic "random" source for kids.
type countingReader struct{ n atomic.Uint32 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.n.Add(1))
	}
	return len(p), nil
}

// flakyStore fails the next failAdds AddKey and failLists ListKeys calls and
// counts calls.
type flakyStore struct {
	KeyStore
	mu        sync.Mutex
	failAdds  int
	failLists int
	adds      int
	lists     atomic.Int32
}

func (s *flakyStore) AddKey(ctx context.Context, k StoredKey) error {
	s.mu.Lock()
	s.adds++
	fail := s.failAdds > 0
	if fail {
		s.failAdds--
	}
	s.mu.Unlock()
	if fail {
		return errors.New("database is down")
	}
	return s.KeyStore.AddKey(ctx, k)
}

func (s *flakyStore) ListKeys(ctx context.Context) ([]StoredKey, error) {
	s.lists.Add(1)
	s.mu.Lock()
	fail := s.failLists > 0
	if fail {
		s.failLists--
	}
	s.mu.Unlock()
	if fail {
		return nil, errors.New("database is down")
	}
	return s.KeyStore.ListKeys(ctx)
}

// pruneWatch signals every completed RemoveKeys, so tests can wait for the
// KeySet's background prunes.
type pruneWatch struct {
	KeyStore
	removed chan []string
}

func newPruneWatch(s KeyStore) *pruneWatch {
	return &pruneWatch{KeyStore: s, removed: make(chan []string, 16)}
}

func (p *pruneWatch) RemoveKeys(ctx context.Context, kids []string) error {
	err := p.KeyStore.RemoveKeys(ctx, kids)
	p.removed <- kids
	return err
}

// waitPrune waits for the next prune and checks which kids it removed.
func (p *pruneWatch) waitPrune(t *testing.T, want ...string) {
	t.Helper()
	select {
	case got := <-p.removed:
		if !slices.Equal(got, want) {
			t.Fatalf("pruned %v, want %v", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no prune of %v within 5s", want)
	}
}

// notifyHub is an in-process stand-in for PostgreSQL LISTEN/NOTIFY.
type notifyHub struct {
	mu        sync.Mutex
	listeners map[int]func()
	next      int
	listens   int // Listen calls, to catch a caller that re-listens
	deliver   atomic.Bool
	notifies  atomic.Int32
}

func newNotifyHub(deliver bool) *notifyHub {
	h := &notifyHub{listeners: make(map[int]func())}
	h.deliver.Store(deliver)
	return h
}

// notifyingStore is one process's view of a shared store plus the hub.
type notifyingStore struct {
	KeyStore
	hub *notifyHub
}

var _ ChangeNotifier = (*notifyingStore)(nil)

func (s *notifyingStore) Notify(context.Context) error {
	s.hub.notifies.Add(1)
	if !s.hub.deliver.Load() {
		return nil
	}
	s.hub.mu.Lock()
	ls := make([]func(), 0, len(s.hub.listeners))
	for _, l := range s.hub.listeners {
		ls = append(ls, l)
	}
	s.hub.mu.Unlock()
	for _, l := range ls {
		l()
	}
	return nil
}

func (s *notifyingStore) Listen(ctx context.Context, onChange func()) error {
	s.hub.mu.Lock()
	id := s.hub.next
	s.hub.next++
	s.hub.listeners[id] = onChange
	s.hub.listens++
	s.hub.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.hub.mu.Lock()
		delete(s.hub.listeners, id)
		s.hub.mu.Unlock()
	}()
	return nil
}

// newTestKeySet returns a KeySet over a fresh memory store with a fake clock.
func newTestKeySet(t testing.TB, clock *fakeClock, store KeyStore) *KeySet {
	t.Helper()
	if store == nil {
		store = NewMemoryKeyStore()
	}
	return NewKeySet(KeySetOptions{Store: store, KeyDuration: time.Hour, Now: clock.Now, Rand: &countingReader{}})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
