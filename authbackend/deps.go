package authbackend

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// TokenIssuer issues Backstage user tokens and records user_info (tokens.Issuer).
type TokenIssuer interface {
	IssueUserToken(ctx context.Context, claims tokens.UserClaims) (tokens.IssuedToken, error)
}

// UserTokenVerifier verifies Backstage user tokens (full, and limited when allowLimited)
// against this server's published keys. Errors are backstageerr AuthenticationErrors.
type UserTokenVerifier interface {
	VerifyUserToken(ctx context.Context, token string, allowLimited bool) (tokens.Principal, error)
}

// UserInfoReader returns the stored {"claims":{...}} for a user, or tokens.ErrNotFound.
type UserInfoReader interface {
	UserInfo(ctx context.Context, userEntityRef string) (json.RawMessage, error)
}

// JWKSSource serves a JWKS document ({"keys":[...]}) from memory.
type JWKSSource interface {
	JWKS(ctx context.Context) ([]byte, error)
}

// Pinger reports whether a dependency (the database) is reachable, for readiness.
type Pinger interface {
	Ping(ctx context.Context) error
}

// ProviderEnv is one configured environment of one OAuth provider
// (auth.providers.<id>.<env>).
type ProviderEnv struct {
	Provider providers.Provider
	// CallbackURL is the configured callbackUrl or AUTH/<id>/handler/frame.
	CallbackURL string
	// SessionDuration is the refresh-cookie lifetime (0 = default, capped at 400 days).
	SessionDuration time.Duration
	// Resolver resolves sign-ins; nil means no backstageIdentity in responses.
	Resolver resolvers.Resolver
}

// Options wires the router. cmd/authbackend builds the concrete implementations.
type Options struct {
	Logger *slog.Logger
	Config *config.Config

	Issuer     TokenIssuer
	Verifier   UserTokenVerifier
	UserInfo   UserInfoReader
	UserKeys   JWKSSource // /.well-known/jwks.json
	PluginKeys JWKSSource // /.backstage/auth/v1/jwks.json
	// Health is pinged by /.backstage/health/v1/readiness; nil means always ready.
	Health Pinger

	// Providers maps provider id -> env name -> environment.
	Providers map[string]map[string]ProviderEnv
	// Catalog, when set, is tried by the guest provider before falling back to
	// issuing a token for its configured user.
	Catalog resolvers.Catalog

	// Now and Rand are injected for tests; nil means time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}
