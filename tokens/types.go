package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned by UserInfoStore.GetUserInfo (possibly wrapped) and by
// Issuer.UserInfo when there is no row for the user.
var ErrNotFound = errors.New("not found")

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
	// NoUserInfo skips the user_info write: Backstage's TokenFactory.issueToken called
	// directly (the authorization server's tokens), not through a sign-in resolver.
	NoUserInfo bool
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
