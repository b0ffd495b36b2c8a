package providers

import (
	"context"
	"net/http"
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
	// Scope is the IdP's answer (the token response's scope parameter). The route
	// handlers report it as it is for a provider that does not persist scopes and
	// replace it with the scope asked for when scopes persist, as Backstage does.
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
	// Query is the /start request's query, read-only, for a provider's own start
	// options (pinniped's audience; the parameters Auth0's strategy copies: organization,
	// invitation, screen_hint, login_hint). The router's parameters (env, scope, origin,
	// flow, redirectUrl) are in it too and are the router's alone. nil in tests that
	// have none.
	Query url.Values
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

// Kind is how a provider signs users in; it decides the provider's config layout and
// its routes.
type Kind int

const (
	// KindOAuth providers send the browser to an IdP and back. Every key under
	// auth.providers.<id> is an environment with its own provider; routes: /start,
	// /handler/frame, /refresh (X-Requested-With and env required) and /logout.
	KindOAuth Kind = iota + 1
	// KindProxy providers authenticate each request on its own (headers an
	// authenticating proxy set, or nothing for guest). auth.providers.<id> is the one
	// config section; routes: /refresh (GET and POST, no header check); /start and
	// /handler/frame answer 501.
	KindProxy
)

func (k Kind) String() string {
	switch k {
	case KindOAuth:
		return "oauth"
	case KindProxy:
		return "proxy"
	}
	return "unknown"
}

// Provider is a built provider: an OAuthProvider or a ProxyProvider (as its module's
// Kind says), optionally implementing the capability interfaces below.
type Provider any

// OAuthProvider is the smallest interface an OAuth provider implements. The route
// handlers in authbackend own state, cookies, origins and sign-in resolution; an
// OAuthProvider only talks to its IdP.
type OAuthProvider interface {
	// Start returns the authorization URL.
	Start(ctx context.Context, req StartRequest) (StartResult, error)
	// Authenticate exchanges the callback's code and verifies what the IdP returned.
	Authenticate(ctx context.Context, req CallbackRequest) (Result, error)
}

// Refresher is implemented by OAuth providers that can renew a session. Refresh must
// fail with an AuthenticationError-class error when the session has ended
// (invalid_grant, expired ID token, ...). When the IdP cannot be reached and nothing
// can be decided, it fails with a ServiceUnavailableError whose chain holds an error
// with a `RetryAfter() time.Duration` method: /refresh then answers 503 with that
// Retry-After instead of its 401 "Refresh failed". Without it, /refresh answers 401.
type Refresher interface {
	Refresh(ctx context.Context, req RefreshRequest) (Result, error)
}

// Logouter is implemented by providers that end the session at the IdP on logout
// (e.g. token revocation). An error is logged; the user is signed out regardless.
type Logouter interface {
	Logout(ctx context.Context, session []byte) error
}

// LogoutURLer is implemented by providers with an IdP logout page the frontend should
// visit after logout (only https: or localhost URLs are passed on). It is asked on every
// logout, as Backstage asks its authenticators: session is nil when the browser had no
// session cookie. RequestOrigin(ctx) is the request's Origin (already checked against
// the allowed origins), where the IdP should send the browser back (Auth0's returnTo).
type LogoutURLer interface {
	LogoutURL(ctx context.Context, session []byte) (string, error)
}

type requestOriginKey struct{}

// WithRequestOrigin returns ctx carrying the request's allowed Origin header (the
// router sets it for LogoutURLer).
func WithRequestOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, requestOriginKey{}, origin)
}

// RequestOrigin is the Origin WithRequestOrigin put in ctx ("" when none).
func RequestOrigin(ctx context.Context) string {
	o, _ := ctx.Value(requestOriginKey{}).(string)
	return o
}

// Scoper is implemented by OAuth providers with required, additional or persisted
// scopes; without it, no scope is added and none is persisted.
type Scoper interface {
	Scopes() ScopeSpec
}

// ProxyProvider is the interface of KindProxy providers: it authenticates one request
// (/refresh), every time it is called. Nothing is stored and no cookie is set.
type ProxyProvider interface {
	AuthenticateRequest(ctx context.Context, r *http.Request) (ProxyResult, error)
}

// ProxyResult is a verified proxy sign-in.
type ProxyResult struct {
	Profile Profile
	// ProviderInfo is the provider-specific providerInfo object; nil omits it.
	ProviderInfo any
	// Claims are verified claims about the user, for sign-in resolvers.
	Claims map[string]any
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
