package sessions

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a Store for one process (tests, and a server without a shared
// database). Err, when set, fails every call, as an unreachable database would.
type MemoryStore struct {
	mu      sync.Mutex
	live    map[string]Record
	revoked map[string]time.Time
	err     error
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{live: map[string]Record{}, revoked: map[string]time.Time{}}
}

// SetErr makes every later call fail with err (nil: work again).
func (m *MemoryStore) SetErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// Live returns the records of live sessions.
func (m *MemoryStore) Live() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Record, 0, len(m.live))
	for _, r := range m.live {
		out = append(out, r)
	}
	return out
}

// Insert implements Store.
func (m *MemoryStore) Insert(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.live[r.ID] = r
	return nil
}

// Revoke implements Store.
func (m *MemoryStore) Revoke(_ context.Context, id string, expiresAt, _ time.Time) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return "", false, m.err
	}
	r, ok := m.live[id]
	if ok {
		expiresAt = r.ExpiresAt
		delete(m.live, id)
	}
	if _, done := m.revoked[id]; !done {
		m.revoked[id] = expiresAt
	}
	return r.UserEntityRef, ok, nil
}

// RevokeUser implements Store.
func (m *MemoryStore) RevokeUser(_ context.Context, userRef string, at time.Time) ([]Revoked, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, 0, m.err
	}
	var out []Revoked
	for id, r := range m.live {
		if r.UserEntityRef == userRef && r.ExpiresAt.After(at) {
			delete(m.live, id)
			m.revoked[id] = r.ExpiresAt
			out = append(out, Revoked{ID: id, ExpiresAt: r.ExpiresAt})
		}
	}
	return out, 0, nil
}

// ListRevoked implements Store.
func (m *MemoryStore) ListRevoked(_ context.Context, now time.Time) ([]Revoked, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []Revoked
	for id, exp := range m.revoked {
		if exp.After(now) {
			out = append(out, Revoked{ID: id, ExpiresAt: exp})
		}
	}
	return out, nil
}

// Prune implements Store.
func (m *MemoryStore) Prune(_ context.Context, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	n := 0
	for id, r := range m.live {
		if r.ExpiresAt.Before(before) {
			delete(m.live, id)
			n++
		}
	}
	for id, exp := range m.revoked {
		if exp.Before(before) {
			delete(m.revoked, id)
			n++
		}
	}
	return n, nil
}
