package oauth2engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// Defaults of Config.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBodyBytes = 1 << 20
	DefaultUserAgent    = "backstage-auth-go"
)

// ClientAuth is how the client authenticates at the token endpoint.
type ClientAuth int

const (
	// AuthPost sends client_id and client_secret in the body (client_secret_post), as
	// the oauth library does for every passport strategy.
	AuthPost ClientAuth = iota
	// AuthPostAndBasic sends them in the body and as HTTP Basic (Bitbucket, and the
	// oauth2 module with includeBasicAuth).
	AuthPostAndBasic
	// AuthBasic sends HTTP Basic only (client_secret_basic).
	AuthBasic
)

// Config is one vendor environment, as the vendor package derives it from its config.
type Config struct {
	ClientID     string
	ClientSecret string
	// AuthorizationURL is the authorize endpoint; its own query is kept (before the
	// parameters the engine adds) and its fragment too.
	AuthorizationURL string
	TokenURL         string
	ClientAuth       ClientAuth
	// TokenHeaders are added to every token request (passport's customHeaders).
	TokenHeaders http.Header
	// UserAgent is sent on every call (default DefaultUserAgent).
	UserAgent string
	// Scopes are the required, additional and persisted scopes (providers.Scoper).
	Scopes providers.ScopeSpec
	// PKCE sends an S256 code challenge derived from the router's per-sign-in verifier
	// (for vendors that support it; Backstage sends none).
	PKCE bool
	// Nonce sends the router's per-sign-in OIDC nonce and requires it in the ID token
	// (needs Hooks.IDTokenVerifier).
	Nonce bool
	// Timeout bounds every upstream call (default DefaultTimeout); MaxBodyBytes every
	// answer (default DefaultMaxBodyBytes).
	Timeout      time.Duration
	MaxBodyBytes int64
}

// IDTokenVerifier verifies an ID token from the vendor's token endpoint and returns its
// claims; *oidc.IDTokenVerifier implements it. nonce "" (refresh) skips the nonce
// check. Its errors must be safe to show (they become "Authentication rejected, ...").
type IDTokenVerifier interface {
	VerifyIDToken(ctx context.Context, raw, nonce, accessToken string) (map[string]any, error)
}

// Hooks are a vendor's steps, as a passport strategy overrides them. A nil hook keeps
// the passport-oauth2 default.
type Hooks struct {
	// AuthorizeParams are the vendor's authorize parameters (passport's
	// authorizationParams), placed before response_type. Default: none.
	AuthorizeParams func(req providers.StartRequest) Params
	// FetchProfile loads the user's profile with the access token (passport's
	// userProfile). Default: none, an empty profile (the generic oauth2 module). Use
	// c.GetJSON; return a Backstage error to choose the message, anything else is
	// reported as "Failed to fetch user profile (<Reason>)".
	FetchProfile func(ctx context.Context, c *Client, tok *Token) (*FullProfile, error)
	// IDTokenVerifier verifies the token answer's id_token. Default: none, in which
	// case an id_token is passed on in providerInfo.idToken but none of its claims is
	// used (Backstage decodes it without verification and trusts its email).
	IDTokenVerifier IDTokenVerifier
	// ProfileTransform maps the full profile and verified ID token claims to the
	// Backstage profile. Default DefaultProfileTransform.
	ProfileTransform func(fp *FullProfile, idClaims map[string]any) providers.Profile
	// KeepAccessToken reports whether the sign-in's access token is the session's
	// long-lived credential, kept in the sealed session and re-validated with
	// FetchProfile on refresh instead of a refresh grant (GitHub OAuth apps:
	// Backstage's access-token-v2 cookie). Default: never.
	KeepAccessToken func(tok *Token) bool
	// RefreshScope is the scope sent with the refresh grant, given the session's scope.
	// Default: the scope as it is (sent even when empty, as Backstage does).
	RefreshScope func(scope string) string
	// Scope is providerInfo.scope for a token answer (non-persisting providers).
	// Default: the answer's scope parameter.
	Scope func(tok *Token) string
}

// Engine is Backstage's createOAuthProviderFactory + PassportOAuthAuthenticatorHelper
// for one vendor environment: authorize URL, code exchange, refresh grant, profile and
// the providerInfo. It implements providers.OAuthProvider, Refresher and Scoper; a
// vendor package wraps it (embedding) to add or replace steps.
type Engine struct {
	cfg    Config
	hooks  Hooks
	client *Client
	log    *slog.Logger
}

var (
	_ providers.OAuthProvider = (*Engine)(nil)
	_ providers.Refresher     = (*Engine)(nil)
	_ providers.Scoper        = (*Engine)(nil)
)

// New returns an engine for cfg. It does not touch the network.
func New(cfg Config, hooks Hooks, deps providers.Deps) (*Engine, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("oauth2engine: no client id")
	}
	for name, raw := range map[string]string{"authorization": cfg.AuthorizationURL, "token": cfg.TokenURL} {
		if u, err := url.Parse(raw); err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("oauth2engine: the %s URL %q is not an absolute http(s) URL", name, raw)
		}
	}
	if cfg.Nonce && hooks.IDTokenVerifier == nil {
		return nil, errors.New("oauth2engine: a nonce needs an ID token verifier")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if hooks.ProfileTransform == nil {
		hooks.ProfileTransform = DefaultProfileTransform
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := &http.Client{}
	if deps.HTTPClient != nil {
		c := *deps.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Engine{
		cfg:    cfg,
		hooks:  hooks,
		client: &Client{http: hc, timeout: cfg.Timeout, maxBody: cfg.MaxBodyBytes, userAgent: cfg.UserAgent, log: log},
		log:    log,
	}, nil
}

// Config returns the engine's configuration (with defaults applied).
func (e *Engine) Config() Config { return e.cfg }

// Client is the engine's IdP client, for vendor steps.
func (e *Engine) Client() *Client { return e.client }

// Scopes implements providers.Scoper.
func (e *Engine) Scopes() providers.ScopeSpec {
	s := e.cfg.Scopes
	return providers.ScopeSpec{
		Required:   append([]string(nil), s.Required...),
		Additional: append([]string(nil), s.Additional...),
		Persist:    s.Persist,
	}
}

// Start implements providers.OAuthProvider: the authorize URL is the configured one
// with the vendor's parameters, then response_type, redirect_uri, scope (omitted when
// empty), the PKCE challenge, state, nonce and client_id, in passport's order and
// Node's querystring encoding.
func (e *Engine) Start(_ context.Context, req providers.StartRequest) (providers.StartResult, error) {
	if req.CallbackURL == "" {
		return providers.StartResult{}, errors.New("oauth2engine: start request has no callback URL")
	}
	var ps Params
	if e.hooks.AuthorizeParams != nil {
		for _, p := range e.hooks.AuthorizeParams(req) {
			ps.Set(p.Key, p.Value)
		}
	}
	ps.Set("response_type", "code")
	ps.Set("redirect_uri", req.CallbackURL)
	if req.Scope != "" {
		ps.Set("scope", req.Scope)
	}
	if e.cfg.PKCE {
		if len(req.Secrets.PKCEVerifier) < 43 {
			return providers.StartResult{}, errors.New("oauth2engine: start request has no usable PKCE verifier")
		}
		ps.Set("code_challenge", oauth2.S256ChallengeFromVerifier(req.Secrets.PKCEVerifier))
		ps.Set("code_challenge_method", "S256")
	}
	ps.Set("state", req.State)
	if e.cfg.Nonce {
		if req.Secrets.Nonce == "" {
			return providers.StartResult{}, errors.New("oauth2engine: start request has no nonce")
		}
		ps.Set("nonce", req.Secrets.Nonce)
	}
	ps.Set("client_id", e.cfg.ClientID)
	return providers.StartResult{URL: authorizeURL(e.cfg.AuthorizationURL, ps)}, nil
}

// Authenticate implements providers.OAuthProvider: the callback's error or code, the
// code exchange, the ID token (verified, or not used), the profile, and the session
// to seal (the refresh token, or the access token for KeepAccessToken vendors).
func (e *Engine) Authenticate(ctx context.Context, req providers.CallbackRequest) (providers.Result, error) {
	if code := req.Params.Get("error"); code != "" {
		return providers.Result{}, callbackError(code, req.Params.Get("error_description"))
	}
	code := req.Params.Get("code")
	if code == "" {
		return providers.Result{}, backstageerr.Plain(MsgUnexpectedRedirect)
	}
	tok, err := e.Exchange(ctx, code, req.CallbackURL, req.Secrets.PKCEVerifier)
	if err != nil {
		return providers.Result{}, err
	}
	nonce := ""
	if e.cfg.Nonce {
		nonce = req.Secrets.Nonce
	}
	idClaims, err := e.verifyIDToken(ctx, tok, nonce, "Authentication rejected, ")
	if err != nil {
		return providers.Result{}, err
	}
	fp, err := e.Profile(ctx, tok)
	if err != nil {
		return providers.Result{}, wrapUpstream(err, "Authentication failed, ", MsgFailedToFetchUserProfile, e.cfg.Timeout)
	}
	res := e.Result(tok, fp, idClaims)
	var s *Session
	switch {
	case tok.RefreshToken != "":
		s = &Session{RefreshToken: tok.RefreshToken, Subject: subjectOf(fp, idClaims)}
	case e.hooks.KeepAccessToken != nil && e.hooks.KeepAccessToken(tok):
		s = &Session{AccessToken: tok.AccessToken, Subject: subjectOf(fp, idClaims)}
	}
	if s != nil {
		if res.Session, err = s.Encode(); err != nil {
			return providers.Result{}, fmt.Errorf("oauth2engine: encode session: %w", err)
		}
	}
	return res, nil
}

// Exchange redeems an authorization code: grant_type, redirect_uri and the PKCE
// verifier (when PKCE is on), then the client credentials and the code, as passport
// posts them. Failures are sign-in errors ("Authentication failed, Failed to obtain
// access token (<Reason>)").
func (e *Engine) Exchange(ctx context.Context, code, callbackURL, verifier string) (*Token, error) {
	grant := Params{{"grant_type", "authorization_code"}, {"redirect_uri", callbackURL}}
	if e.cfg.PKCE {
		if verifier == "" {
			return nil, errors.New("oauth2engine: callback request has no PKCE verifier")
		}
		grant.Set("code_verifier", verifier)
	}
	tok, err := e.tokenRequest(ctx, grant, Param{"code", code})
	if err != nil {
		e.log.Warn("oauth2 code exchange failed", "reason", Reason(err, e.cfg.Timeout), "err", err)
		var ae *AnswerError
		if errors.As(err, &ae) {
			return nil, Failed(ae.Error())
		}
		return nil, backstageerr.Plain("Authentication failed, %s (%s)", MsgFailedToObtainAccessToken, Reason(err, e.cfg.Timeout))
	}
	return tok, nil
}

// RefreshGrant runs the refresh_token grant: scope (sent even when empty), grant_type,
// client credentials and the refresh token, as Backstage's helper posts them. An
// invalid_grant is an AuthenticationError (the session has ended); other failures are
// plain errors naming the status and code.
func (e *Engine) RefreshGrant(ctx context.Context, refreshToken, scope string) (*Token, error) {
	if e.hooks.RefreshScope != nil {
		scope = e.hooks.RefreshScope(scope)
	}
	grant := Params{{"scope", scope}, {"grant_type", "refresh_token"}}
	tok, err := e.tokenRequest(ctx, grant, Param{"refresh_token", refreshToken})
	if err != nil {
		e.log.Warn("oauth2 refresh grant failed", "reason", Reason(err, e.cfg.Timeout), "err", err)
		var se *StatusError
		var ae *AnswerError
		switch {
		case errors.As(err, &se) && se.Code == "invalid_grant":
			return nil, backstageerr.Authentication("The identity provider session has ended, please sign in again (invalid_grant)")
		case errors.As(err, &ae) && ae.Code == "":
			return nil, backstageerr.Plain(MsgNoAccessTokenOnRefresh)
		case errors.As(err, &ae) && (ae.Code == "bad_refresh_token" || ae.Code == "invalid_grant"):
			// GitHub answers an expired or revoked refresh token with 200 and
			// error=bad_refresh_token.
			return nil, backstageerr.Authentication("The identity provider session has ended, please sign in again (%s)", ae.Code)
		}
		return nil, backstageerr.Plain("%s (%s)", MsgFailedToRefresh, Reason(err, e.cfg.Timeout))
	}
	return tok, nil
}

// Profile runs the FetchProfile hook (an empty profile without one).
func (e *Engine) Profile(ctx context.Context, tok *Token) (*FullProfile, error) {
	if e.hooks.FetchProfile == nil {
		return &FullProfile{}, nil
	}
	fp, err := e.hooks.FetchProfile(ctx, e.client, tok)
	if err != nil {
		e.log.Warn("oauth2 profile request failed", "reason", Reason(err, e.cfg.Timeout), "err", err)
		return nil, err
	}
	if fp == nil {
		fp = &FullProfile{}
	}
	return fp, nil
}

// verifyIDToken returns the verified claims of the answer's id_token, nil when there
// is none or no verifier. A refused token fails with prefix + the verifier's reason.
func (e *Engine) verifyIDToken(ctx context.Context, tok *Token, nonce, prefix string) (map[string]any, error) {
	if tok.IDToken == "" || e.hooks.IDTokenVerifier == nil {
		return nil, nil
	}
	claims, err := e.hooks.IDTokenVerifier.VerifyIDToken(ctx, tok.IDToken, nonce, tok.AccessToken)
	if err != nil {
		e.log.Warn("oauth2 id token refused", "err", err)
		if _, ok := backstageerr.As(err); ok {
			return nil, err
		}
		return nil, backstageerr.Plain("%s%s", prefix, err.Error())
	}
	return claims, nil
}

// Result builds the sign-in or refresh result of a token answer and profile:
// providerInfo {idToken, accessToken, scope, expiresInSeconds}, the transformed
// profile, and the claims resolvers see: the verified ID token's, the raw profile's
// where the ID token has none, and the full profile (FullProfileOf).
func (e *Engine) Result(tok *Token, fp *FullProfile, idClaims map[string]any) providers.Result {
	scope := tok.Scope
	if e.hooks.Scope != nil {
		scope = e.hooks.Scope(tok)
	}
	claims := make(map[string]any, len(idClaims)+len(fp.Raw)+1)
	for k, v := range fp.Raw {
		claims[k] = v
	}
	for k, v := range idClaims {
		claims[k] = v
	}
	claims[fullProfileClaim] = fp
	return providers.Result{
		Profile: e.hooks.ProfileTransform(fp, idClaims),
		ProviderInfo: providers.ProviderInfo{
			IDToken:          tok.IDToken,
			AccessToken:      tok.AccessToken,
			Scope:            scope,
			ExpiresInSeconds: tok.ExpiresIn,
		},
		Claims: claims,
	}
}

// Refresh implements providers.Refresher. A session with a refresh token runs the
// refresh grant (a rotated refresh token is sealed again); a KeepAccessToken session
// re-validates its access token at the profile endpoint (401: "Invalid access token")
// and reports it without an expiry, as Backstage's GitHub module does. Either way the
// profile must still be the signed-in user's.
func (e *Engine) Refresh(ctx context.Context, req providers.RefreshRequest) (providers.Result, error) {
	s, err := DecodeSession(req.Session)
	if err != nil {
		e.log.Warn("oauth2 refresh: unreadable session", "err", err)
		return providers.Result{}, backstageerr.Authentication("The session could not be read, please sign in again")
	}
	if s.RefreshToken == "" {
		return e.revalidate(ctx, s, req.Scope)
	}
	tok, err := e.RefreshGrant(ctx, s.RefreshToken, req.Scope)
	if err != nil {
		return providers.Result{}, err
	}
	idClaims, err := e.verifyIDToken(ctx, tok, "", "The identity provider returned an invalid ID token on refresh: ")
	if err != nil {
		return providers.Result{}, err
	}
	fp, err := e.refreshProfile(ctx, tok, s)
	if err != nil {
		return providers.Result{}, err
	}
	if err := sameSubject(s, subjectOf(fp, idClaims)); err != nil {
		return providers.Result{}, err
	}
	res := e.Result(tok, fp, idClaims)
	if tok.RefreshToken != "" && tok.RefreshToken != s.RefreshToken {
		s.RefreshToken = tok.RefreshToken
		if res.Session, err = s.Encode(); err != nil {
			return providers.Result{}, fmt.Errorf("oauth2engine: encode session: %w", err)
		}
	}
	return res, nil
}

// revalidate is refresh for a KeepAccessToken session. No token answer names a scope,
// so the session reports the scope being refreshed, as Backstage's GitHub and
// OpenShift modules do (scope: input.scope).
func (e *Engine) revalidate(ctx context.Context, s Session, scope string) (providers.Result, error) {
	tok := &Token{AccessToken: s.AccessToken, TokenType: "bearer", Scope: scope}
	fp, err := e.refreshProfile(ctx, tok, s)
	if err != nil {
		return providers.Result{}, err
	}
	if err := sameSubject(s, subjectOf(fp, nil)); err != nil {
		return providers.Result{}, err
	}
	return e.Result(tok, fp, nil), nil
}

func (e *Engine) refreshProfile(ctx context.Context, tok *Token, s Session) (*FullProfile, error) {
	fp, err := e.Profile(ctx, tok)
	switch {
	case err != nil && HasStatus(err, http.StatusUnauthorized):
		return nil, backstageerr.Plain(MsgInvalidAccessToken)
	case err != nil:
		return nil, wrapUpstream(err, "", MsgFailedToFetchUserProfile, e.cfg.Timeout)
	}
	return fp, nil
}

// subjectOf is the user's id at the vendor: the profile's id, else the verified ID
// token's sub.
func subjectOf(fp *FullProfile, idClaims map[string]any) string {
	if fp.ID != "" {
		return fp.ID
	}
	sub, _ := idClaims["sub"].(string)
	return sub
}

// sameSubject refuses a refresh whose answer names another user than the sign-in did.
func sameSubject(s Session, sub string) error {
	if s.Subject != "" && sub != "" && sub != s.Subject {
		return backstageerr.Authentication("The identity provider returned another user's profile on refresh, please sign in again")
	}
	return nil
}
