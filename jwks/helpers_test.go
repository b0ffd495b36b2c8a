package jwks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 27, 11, 6, 48, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

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

// decodedToken is a compact JWS split into its decoded parts.
type decodedToken struct {
	header, payload []byte
	h64, p64, s64   string
}

func decodeToken(t *testing.T, tok string) decodedToken {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	return decodedToken{header: h, payload: p, h64: parts[0], p64: parts[1], s64: parts[2]}
}

// rebuildLimitedToken rebuilds the limited user token from a full token the way
// Backstage's verifiers do: parse header and payload, re-serialise {typ,alg,kid}
// and {sub,iat,exp} with JSON.stringify, append uip.
func rebuildLimitedToken(t *testing.T, full string) string {
	t.Helper()
	d := decodeToken(t, full)
	var h struct{ Alg, Kid string }
	var p struct {
		Sub      string
		Iat, Exp json.Number
		Uip      string
	}
	if err := json.Unmarshal(d.header, &h); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(d.payload)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Uip == "" {
		t.Fatal("token has no uip")
	}
	hb := []byte(`{"typ":"vnd.backstage.limited-user","alg":`)
	hb = jsrules.AppendString(hb, h.Alg)
	if h.Kid != "" {
		hb = append(hb, `,"kid":`...)
		hb = jsrules.AppendString(hb, h.Kid)
	}
	hb = append(hb, '}')
	pb := []byte(`{"sub":`)
	pb = jsrules.AppendString(pb, p.Sub)
	pb = append(pb, `,"iat":`...)
	pb = append(pb, p.Iat.String()...)
	pb = append(pb, `,"exp":`...)
	pb = append(pb, p.Exp.String()...)
	pb = append(pb, '}')
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb) + "." + p.Uip
}

// countingUserInfo counts writes.
type countingUserInfo struct {
	mu     sync.Mutex
	rows   map[string]json.RawMessage
	writes int
	reads  int
}

func newCountingUserInfo() *countingUserInfo {
	return &countingUserInfo{rows: make(map[string]json.RawMessage)}
}

func (c *countingUserInfo) UpsertUserInfo(_ context.Context, ref string, info json.RawMessage, _ time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	c.rows[ref] = append(json.RawMessage(nil), info...)
	return nil
}

func (c *countingUserInfo) GetUserInfo(_ context.Context, ref string) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	r, ok := c.rows[ref]
	if !ok {
		return nil, ErrNotFound
	}
	return r, nil
}

func (c *countingUserInfo) counts() (writes, reads int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.reads
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

// errClass is the Backstage class of an error ("" for unclassed errors).
func errClass(err error) string {
	var be *backstageerr.Error
	if errors.As(err, &be) {
		return be.Name
	}
	return ""
}
