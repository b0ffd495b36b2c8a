package signingkeys

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrKeyExists is returned by KeyStore.AddKey for a duplicate kid.
var ErrKeyExists = errors.New("key id already exists")

// StoredKey is one public key as a key store holds it.
type StoredKey struct {
	KID string
	// JWK is the public JWK JSON exactly as stored, e.g.
	// {"kty":"EC","x":"…","y":"…","crv":"P-256","kid":"<uuid>","alg":"ES256"}.
	JWK json.RawMessage
	// CreatedAt is set for user-token signing keys (signing_keys.created_at).
	CreatedAt time.Time
	// ExpiresAt is set for plugin service keys (backstage_backend_public_keys__keys.expires_at);
	// for signing keys it is zero and the expiry is derived from CreatedAt.
	ExpiresAt time.Time
}

// KeyStore persists public keys (never private ones). Implementations: the memory
// store here, and the database tables signing_keys and
// backstage_backend_public_keys__keys (package authdb).
type KeyStore interface {
	AddKey(ctx context.Context, key StoredKey) error
	ListKeys(ctx context.Context) ([]StoredKey, error)
	// RemoveKeys deletes the given kids; unknown kids and an empty list are no-ops.
	RemoveKeys(ctx context.Context, kids []string) error
}

// ChangeNotifier is implemented by key stores shared between processes. Notify tells
// every other process that the key set changed. Listen returns once it is listening
// (or with an error when it cannot start); from then on it calls onChange from a
// background goroutine whenever some process notified, and after every reconnection,
// until ctx ends. Reconnecting is the implementation's job.
type ChangeNotifier interface {
	Notify(ctx context.Context) error
	Listen(ctx context.Context, onChange func()) error
}
