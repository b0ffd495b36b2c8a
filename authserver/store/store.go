package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) when the row does not exist.
var ErrNotFound = errors.New("not found")

// Session statuses, the values of the status column's check constraint.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusExpired  = "expired"
)

// Session is one row of oauth_authorization_sessions. Optional columns are "" when
// NULL.
type Session struct {
	ID                  string
	ClientID            string
	UserEntityRef       string
	RedirectURI         string
	Scope               string
	State               string
	ResponseType        string
	CodeChallenge       string
	CodeChallengeMethod string
	Nonce               string
	Status              string
	ExpiresAt           time.Time
}

// Code is one row of oidc_authorization_codes.
type Code struct {
	Code      string
	SessionID string
	ExpiresAt time.Time
	Used      bool
}

// OfflineSession is one row of offline_sessions: a refresh token's stable id and the
// hash of its current secret.
type OfflineSession struct {
	ID            string
	UserEntityRef string
	// OIDCClientID is "" when NULL.
	OIDCClientID string
	TokenHash    string
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

// Sessions is oauth_authorization_sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the row or an error wrapping ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// DecideSession sets status and user_entity_ref of a session that is still
	// pending, in one statement; ok is false when it is not pending (any more), so two
	// concurrent decisions cannot both win.
	DecideSession(ctx context.Context, id, status, userEntityRef string) (ok bool, err error)
	// DeleteExpiredSessions removes sessions (and, by the foreign key, their codes)
	// that expired before the given time.
	DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error)
}

// Codes is oidc_authorization_codes.
type Codes interface {
	CreateCode(ctx context.Context, c Code) error
	// GetCode returns the row or an error wrapping ErrNotFound.
	GetCode(ctx context.Context, code string) (Code, error)
	// RedeemCode marks an unused code used in one statement; ok is false when it was
	// already used (or does not exist), so a code is redeemed at most once even under
	// concurrent requests.
	RedeemCode(ctx context.Context, code string) (ok bool, err error)
}

// OfflineSessions is offline_sessions.
type OfflineSessions interface {
	// CreateOfflineSession inserts s after deleting the user's other sessions for the
	// same client and evicting the user's least recently used ones so that at most
	// maxPerUser remain, in one transaction (Backstage's createSession). CreatedAt and
	// LastUsedAt are set to now when zero.
	CreateOfflineSession(ctx context.Context, s OfflineSession, maxPerUser int) error
	// GetOfflineSession returns the row or an error wrapping ErrNotFound.
	GetOfflineSession(ctx context.Context, id string) (OfflineSession, error)
	// RotateOfflineSession replaces the hash and sets last_used_at, only if the
	// stored hash is still oldHash (compare and swap); ok reports whether it did.
	RotateOfflineSession(ctx context.Context, id, oldHash, newHash string, now time.Time) (ok bool, err error)
	// DeleteOfflineSession removes one session; n is 0 when it did not exist.
	DeleteOfflineSession(ctx context.Context, id string) (n int64, err error)
	// DeleteClientUserOfflineSessions removes a user's sessions of one client.
	DeleteClientUserOfflineSessions(ctx context.Context, clientID, userEntityRef string) (int64, error)
	// DeleteExpiredOfflineSessions removes sessions last used before idleBefore or
	// created before createdBefore.
	DeleteExpiredOfflineSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error)
}
