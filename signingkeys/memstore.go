package signingkeys

import (
	"context"
	"slices"
	"sync"
)

// MemoryKeyStore is the auth.keyStore.provider "memory" store: a process-local map.
// Like Backstage's, it is only correct with a single replica.
type MemoryKeyStore struct {
	mu   sync.RWMutex
	keys map[string]StoredKey
	// order keeps insertion order so ListKeys is stable.
	order []string
}

var _ KeyStore = (*MemoryKeyStore)(nil)

// NewMemoryKeyStore returns an empty store, safe for concurrent use.
func NewMemoryKeyStore() *MemoryKeyStore {
	return &MemoryKeyStore{keys: make(map[string]StoredKey)}
}

// AddKey stores key; a duplicate kid is ErrKeyExists.
func (s *MemoryKeyStore) AddKey(ctx context.Context, key StoredKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key.KID]; ok {
		return ErrKeyExists
	}
	key.JWK = slices.Clone(key.JWK)
	s.keys[key.KID] = key
	s.order = append(s.order, key.KID)
	return nil
}

// ListKeys returns every stored key in insertion order.
func (s *MemoryKeyStore) ListKeys(ctx context.Context) ([]StoredKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]StoredKey, 0, len(s.order))
	for _, kid := range s.order {
		k := s.keys[kid]
		k.JWK = slices.Clone(k.JWK)
		out = append(out, k)
	}
	return out, nil
}

// RemoveKeys deletes the given kids; unknown kids and an empty list are no-ops.
func (s *MemoryKeyStore) RemoveKeys(ctx context.Context, kids []string) error {
	if len(kids) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := false
	for _, kid := range kids {
		if _, ok := s.keys[kid]; ok {
			delete(s.keys, kid)
			removed = true
		}
	}
	if removed {
		s.order = slices.DeleteFunc(s.order, func(kid string) bool { _, ok := s.keys[kid]; return !ok })
	}
	return nil
}
