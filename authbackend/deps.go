package authbackend

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
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

// CachedUserInfo is implemented by UserInfoReaders that can tell whether a user's info
// is answered from memory (rate limits count only requests that read the database).
type CachedUserInfo interface {
	HasCachedUserInfo(userEntityRef string) bool
}

// JWKSSource serves a JWKS document ({"keys":[...]}) from memory.
type JWKSSource interface {
	JWKS(ctx context.Context) ([]byte, error)
}

// Pinger reports whether a dependency (the database) is reachable, for readiness.
type Pinger interface {
	Ping(ctx context.Context) error
}

// AuthorizationServer is the OAuth 2 authorization server for MCP clients and the
// Backstage CLI (package authserver), mounted under /api/auth. The router knows only
// this: Mount adds its routes (gin paths relative to /api/auth; parameters reach the
// handler through r.PathValue; limited routes get the sign-in rate limit; an error a
// handler returns is answered as Backstage's error JSON), and DiscoveryFields gives
// the parts of the discovery document that depend on it (metadata: also serve it as
// RFC 8414's /.well-known/oauth-authorization-server).
type AuthorizationServer interface {
	Mount(add func(method, path string, limited bool, h func(http.ResponseWriter, *http.Request) error))
	DiscoveryFields() (scopes, authMethods, grantTypes []string, revocation, cimd, metadata bool)
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
	// Sessions records a session per sign-in and answers refreshes whether it was
	// revoked (nil: no server-side sessions; logout then only clears the cookie).
	Sessions SessionRegistry
	// PluginTokens verifies other plugins' tokens for service-only routes (nil: only
	// backend.auth.externalAccess credentials are service credentials).
	PluginTokens PluginTokenVerifier
	// Health is pinged by /.backstage/health/v1/readiness; nil means always ready.
	Health Pinger

	// Providers are the configured providers, built by the provider registry.
	Providers []providers.Configured
	// RegisteredIDs are every provider id the registry knows: a request for one that
	// is not configured answers "No auth provider registered for '<id>'", as Backstage
	// does for a module without config; any other id is "Unknown auth provider".
	RegisteredIDs []string

	// AuthorizationServer serves /v1/authorize, /v1/token and the rest of the OIDC
	// provider routes (nil: none, as Backstage without clients).
	AuthorizationServer AuthorizationServer

	// Metrics counts sign-ins, refreshes and rate-limit refusals (nil: nothing).
	Metrics Metrics
	// Auditor receives the audit events (nil: none are written).
	Auditor audit.Auditor
	// Middleware runs before everything else on every request (request metrics and
	// tracing spans, which time the whole chain and read gin's route template).
	Middleware []gin.HandlerFunc

	// Now and Rand are injected for tests; nil means time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}
