package providers

import (
	"context"
	"net/url"
	"time"
)

// Profile is Backstage's ProfileInfo; JSON key order matches the Node backend.
type Profile struct {
	Email       string `json:"email,omitempty"`
	Picture     string `json:"picture,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// ProviderInfo is the providerInfo object of a sign-in or refresh response.
type ProviderInfo struct {
	// IDToken is always the IdP's ID token (the Kubernetes plugin sends it to clusters).
	IDToken string `json:"idToken,omitempty"`
	// AccessToken is the IdP access token (or Palette's session token).
	AccessToken string `json:"accessToken,omitempty"`
	// Scope is filled in by the route handlers (it must contain every requested scope).
	Scope string `json:"scope"`
	// ExpiresInSeconds is omitted when zero.
	ExpiresInSeconds int64 `json:"expiresInSeconds,omitempty"`
}

// FlowSecrets are per-sign-in secrets the server derives from the state nonce with a
// key only it holds, so a provider needs no server-side storage between start and
// callback and a callback cannot be completed with values an attacker chose.
type FlowSecrets struct {
	// Nonce is the OIDC nonce to send in the authorize request and to require in the ID token.
	Nonce string
	// PKCEVerifier is an RFC 7636 code verifier (43+ chars); the provider sends its S256
	// challenge when the IdP supports PKCE.
	PKCEVerifier string
}

// StartRequest asks for the IdP authorization URL.
type StartRequest struct {
	// Scope is the space-joined scope list to request (already merged with required and
	// additional scopes by the route handlers).
	Scope string
	// State is the encoded Backstage state, passed to the IdP verbatim.
	State string
	// CallbackURL is the redirect_uri.
	CallbackURL string
	Secrets     FlowSecrets
}

// StartResult is where to send the browser.
type StartResult struct {
	URL string
}

// CallbackRequest carries the IdP's answer to the callback URL.
type CallbackRequest struct {
	// Params are the callback's query parameters, plus form-body values on POST.
	Params      url.Values
	CallbackURL string
	Secrets     FlowSecrets
}

// RefreshRequest asks for a fresh session from one the server sealed earlier.
type RefreshRequest struct {
	// Session is exactly the bytes a previous Result.Session held (the server
	// authenticated and decrypted them; they are never browser-controlled).
	Session []byte
	// Scope is the space-joined scope being refreshed.
	Scope string
}

// Result is a verified sign-in or refresh.
type Result struct {
	Profile      Profile
	ProviderInfo ProviderInfo
	// Claims are verified claims about the user (ID token, merged with userinfo), for
	// sign-in resolvers that look at more than the email.
	Claims map[string]any
	// Session is provider-private state needed to refresh (e.g. the IdP refresh token,
	// or the ID token plus Palette's session token). The server seals it into the
	// refresh cookie. nil on Authenticate means the provider cannot refresh; nil on
	// Refresh means keep the previous session.
	Session []byte
	// SessionExpiresAt, when set, is when the sealed session stops being refreshable
	// (e.g. the ID token's exp for IdPs without a refresh grant).
	SessionExpiresAt time.Time
}

// LogoutResult may carry an IdP logout URL (only https: or localhost URLs are passed on).
type LogoutResult struct {
	LogoutURL string
}

// Provider is one configured environment of an OAuth/OIDC identity provider. The
// route handlers in authbackend own state, cookies, origins and sign-in resolution;
// a Provider only talks to its IdP.
type Provider interface {
	// Start returns the authorization URL.
	Start(ctx context.Context, req StartRequest) (StartResult, error)
	// Authenticate exchanges the callback's code and verifies the ID token.
	Authenticate(ctx context.Context, req CallbackRequest) (Result, error)
	// Refresh renews a session. It must fail with an AuthenticationError-class error
	// when the session has ended (invalid_grant, expired ID token, ...).
	Refresh(ctx context.Context, req RefreshRequest) (Result, error)
	// Logout ends the session at the IdP where possible (e.g. token revocation).
	Logout(ctx context.Context, session []byte) (LogoutResult, error)
	// Scopes describes scope handling.
	Scopes() ScopeSpec
}

// ScopeSpec mirrors Backstage's authenticator scope settings.
type ScopeSpec struct {
	// Required scopes are always requested (e.g. openid profile email).
	Required []string
	// Additional scopes come from config (additionalScopes / TeraSky's scope).
	Additional []string
	// Persist keeps granted scopes in the <p>-granted-scope cookie (Backstage's
	// persistScopes), so refresh reports every scope granted at sign-in.
	Persist bool
}
