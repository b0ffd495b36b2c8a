package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned by stores when a row does not exist.
var ErrNotFound = errors.New("not found")

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

// KeyStore persists public keys (never private ones). Implementations: memory, static,
// and the database tables signing_keys and backstage_backend_public_keys__keys.
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

// UserInfoStore is the user_info table: the claims of the latest token issued to each
// user, read by /v1/userinfo.
type UserInfoStore interface {
	// UpsertUserInfo writes {"claims":{...}} for the user (ON CONFLICT MERGE).
	UpsertUserInfo(ctx context.Context, userEntityRef string, userInfo json.RawMessage, updatedAt time.Time) error
	// GetUserInfo returns the stored JSON, or ErrNotFound.
	GetUserInfo(ctx context.Context, userEntityRef string) (json.RawMessage, error)
}

// UserClaims is what a sign-in resolver asks to be issued.
type UserClaims struct {
	// Sub is the user entity ref; it is canonicalised to lower-case kind:namespace/name.
	Sub string
	// Ent are ownership refs; canonicalised and de-duplicated; nil means [Sub].
	Ent []string
	// Extra claims from a custom resolver; they cannot override the standard ones.
	Extra map[string]any
}

// IssuedToken is a freshly issued Backstage user token.
type IssuedToken struct {
	Token string
	// Sub and Ent are the canonical values (Ent always holds the full ownership list,
	// even when the token omits the claim).
	Sub       string
	Ent       []string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Principal is a verified Backstage user token (full or limited).
type Principal struct {
	Sub       string
	Limited   bool
	ExpiresAt time.Time
}
