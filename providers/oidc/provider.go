package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/outage"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// RequiredScopes are always requested (Backstage's oidc module).
var RequiredScopes = []string{"openid", "profile", "email"}

// Overrides change IdP-specific steps for a vendor provider built on this one (such as
// spectrocloud), so that this package holds no vendor's rules. A nil field keeps the
// generic OpenID Connect behaviour.
type Overrides struct {
	// UseRefreshGrant decides whether a session's refresh token is redeemed with the
	// refresh_token grant, given the discovery document's grant_types_supported.
	// Default: when the grant is listed, or when the document lists no grant types.
	UseRefreshGrant func(grantTypesSupported []string) bool
	// SplitRefreshToken decides what the token response's refresh_token is when the
	// refresh grant is not in use: an OAuth refresh token (kept for revocation at
	// logout; the default) or an IdP session token, kept in the session and reported
	// as providerInfo.accessToken.
	SplitRefreshToken func(refreshToken string, grantInUse bool) (oauthRefreshToken, sessionToken string)
	// Expiry picks what providerInfo.expiresInSeconds counts down to. Default: the
	// access token's expiry when known and the session does not end with the ID token,
	// else the ID token's.
	Expiry func(accessTokenExpiry, idTokenExpiry time.Time, sessionEndsWithIDToken bool) time.Time
}

func defaultUseRefreshGrant(grantTypes []string) bool {
	return len(grantTypes) == 0 || slices.Contains(grantTypes, "refresh_token")
}

func defaultSplitRefreshToken(rt string, _ bool) (string, string) { return rt, "" }

func defaultExpiry(access, id time.Time, endsWithIDToken bool) time.Time {
	if !endsWithIDToken && !access.IsZero() {
		return access
	}
	return id
}

// Provider is one environment of a generic OpenID Connect IdP.
type Provider struct {
	cfg    Config
	ov     Overrides
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	disc   discoveryState
	// reverified remembers sealed ID tokens re-verified on refresh (see reverifyCache).
	reverified *reverifyCache
	// tokenOutage logs the token endpoint's outages once each.
	tokenOutage outage.Log
	// issuers relaxes the issuer checks for a vendor's verifier (IDTokenVerifier.WithIssuers).
	issuers *IssuerOptions
}

var (
	_ providers.OAuthProvider = (*Provider)(nil)
	_ providers.Refresher     = (*Provider)(nil)
	_ providers.Logouter      = (*Provider)(nil)
	_ providers.Scoper        = (*Provider)(nil)
)

// New returns a provider for cfg (validated by Check). It does not touch the network:
// discovery is loaded on first use and retried after failures, so the server starts
// while the IdP is down.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	return NewWithOverrides(cfg, deps, Overrides{})
}

// NewWithOverrides is New with a vendor's overrides.
func NewWithOverrides(cfg Config, deps providers.Deps, ov Overrides) (*Provider, error) {
	switch {
	case cfg.DiscoveryURL == "" || cfg.ExpectedIssuer == "":
		return nil, errors.New("oidc: config has no discovery URL (use Check)")
	case cfg.ClientID == "":
		return nil, errors.New("oidc: config has no clientId")
	case len(cfg.TokenSignedResponseAlgs) == 0:
		return nil, errors.New("oidc: config has no ID token algorithms (use Check)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > MaxClockSkew {
		return nil, fmt.Errorf("oidc: clock skew %s out of range [0, %s]", cfg.ClockSkew, MaxClockSkew)
	}
	if cfg.TokenEndpointAuthMethod == "" {
		cfg.TokenEndpointAuthMethod = AuthMethodClientSecretBasic
	}
	if ov.UseRefreshGrant == nil {
		ov.UseRefreshGrant = defaultUseRefreshGrant
	}
	if ov.SplitRefreshToken == nil {
		ov.SplitRefreshToken = defaultSplitRefreshToken
	}
	if ov.Expiry == nil {
		ov.Expiry = defaultExpiry
	}
	client := &http.Client{}
	if deps.HTTPClient != nil {
		c := *deps.HTTPClient
		client = &c
	}
	if client.Timeout == 0 || client.Timeout > cfg.Timeout {
		client.Timeout = cfg.Timeout
	}
	p := &Provider{cfg: cfg, ov: ov, client: client, log: deps.Logger, now: deps.Now, reverified: newReverifyCache()}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Config returns the provider's configuration.
func (p *Provider) Config() Config { return p.cfg }

// Scopes implements providers.Scoper: openid profile email are required, scopes persist.
func (p *Provider) Scopes() providers.ScopeSpec {
	return providers.ScopeSpec{
		Required:   append([]string(nil), RequiredScopes...),
		Additional: append([]string(nil), p.cfg.AdditionalScopes...),
		Persist:    true,
	}
}

// Start implements providers.OAuthProvider.
func (p *Provider) Start(ctx context.Context, req providers.StartRequest) (providers.StartResult, error) {
	if req.Secrets.Nonce == "" {
		return providers.StartResult{}, errors.New("oidc: start request has no nonce")
	}
	if req.CallbackURL == "" {
		return providers.StartResult{}, errors.New("oidc: start request has no callback URL")
	}
	d, err := p.discover(ctx)
	if err != nil {
		return providers.StartResult{}, err
	}
	u, err := url.Parse(d.meta.AuthorizationEndpoint)
	if err != nil {
		return providers.StartResult{}, p.failed("the identity provider's authorization_endpoint is not a URL")
	}
	q := u.Query()
	// Extra parameters first, so the protocol parameters below always win.
	for k, v := range p.cfg.StartURLSearchParams {
		q.Set(k, v)
	}
	q.Set("response_type", "code")
	q.Set("client_id", p.cfg.ClientID)
	q.Set("redirect_uri", req.CallbackURL)
	q.Set("scope", req.Scope)
	q.Set("state", req.State)
	q.Set("nonce", req.Secrets.Nonce)
	if p.cfg.Prompt != "" {
		q.Set("prompt", p.cfg.Prompt)
	}
	if d.pkce {
		if len(req.Secrets.PKCEVerifier) < 43 {
			return providers.StartResult{}, errors.New("oidc: start request has no usable PKCE verifier")
		}
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(req.Secrets.PKCEVerifier))
		q.Set("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	return providers.StartResult{URL: u.String()}, nil
}

// Authenticate implements providers.OAuthProvider: it exchanges the code (with the PKCE
// verifier when the IdP supports S256), verifies the ID token including the nonce, and
// merges userinfo claims.
func (p *Provider) Authenticate(ctx context.Context, req providers.CallbackRequest) (providers.Result, error) {
	params := req.Params
	if code := params.Get("error"); code != "" {
		return providers.Result{}, idpCallbackError(code, params.Get("error_description"))
	}
	code := params.Get("code")
	if code == "" {
		return providers.Result{}, p.failed("the identity provider's callback has no authorization code")
	}
	if req.Secrets.Nonce == "" {
		return providers.Result{}, errors.New("oidc: callback request has no nonce")
	}
	d, err := p.discover(ctx)
	if err != nil {
		return providers.Result{}, err
	}
	// RFC 9207: an iss parameter, when sent, must name our IdP (mix-up defence).
	if iss := params.Get("iss"); iss != "" && iss != d.meta.Issuer {
		return providers.Result{}, p.rejected("the callback came from another issuer")
	}
	var opts []oauth2.AuthCodeOption
	if d.pkce {
		if req.Secrets.PKCEVerifier == "" {
			return providers.Result{}, errors.New("oidc: callback request has no PKCE verifier")
		}
		opts = append(opts, oauth2.VerifierOption(req.Secrets.PKCEVerifier))
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	tctx, call := p.tokenCtx(ctx)
	tok, err := p.oauth2Config(d, req.CallbackURL).Exchange(tctx, code, opts...)
	if err != nil {
		return providers.Result{}, p.tokenEndpointErr("token exchange", err, call, p.log.Warn)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return providers.Result{}, p.failed("the identity provider returned no ID token")
	}
	vt, err := p.verifyIDToken(ctx, d, rawID, checks{nonce: req.Secrets.Nonce}, tok.AccessToken)
	if err != nil {
		return providers.Result{}, p.rejected(err.Error())
	}
	claims, err := p.withUserinfo(ctx, d, vt.claims, vt.subject, tok.AccessToken)
	if err != nil {
		return providers.Result{}, err
	}
	s := sessionData{
		V:           sessionVersion,
		IDToken:     rawID,
		AccessToken: tok.AccessToken,
		Scope:       scopeOf(tok),
	}
	if !tok.Expiry.IsZero() {
		s.Expiry = tok.Expiry.Unix()
	}
	useGrant := tok.RefreshToken != "" && p.ov.UseRefreshGrant(d.meta.GrantTypesSupported)
	if tok.RefreshToken != "" {
		s.RefreshToken, s.SessionToken = p.ov.SplitRefreshToken(tok.RefreshToken, useGrant)
	}
	return withSession(p.result(s, claims, vt.expiry, !useGrant), s)
}

// Refresh implements providers.Refresher. With a refresh grant it redeems the refresh
// token (rotation kept in Result.Session); otherwise, or when the IdP answers
// unsupported_grant_type, it re-verifies the sealed ID token against the IdP's current
// keys and its expiry.
//
// An IdP that cannot be reached does not end sessions (security finding 5, issue 12
// (d)): keys are the last good ones while the JWKS is down (keyfetch), a token endpoint
// that fails (5xx, timeout, unreachable; never invalid_grant) is answered from the
// session's still-valid ID token, and whatever cannot be decided (no discovery
// document, no keys, an expired ID token and no token endpoint) is a
// ServiceUnavailableError with a retry hint, never a 401.
func (p *Provider) Refresh(ctx context.Context, req providers.RefreshRequest) (providers.Result, error) {
	s, err := decodeSession(req.Session)
	if err != nil {
		p.log.Warn("oidc refresh: unreadable session", "err", err)
		return providers.Result{}, backstageerr.Authentication("The session could not be read, please sign in again")
	}
	d, err := p.discover(ctx)
	if err != nil {
		return providers.Result{}, p.unavailable(err, p.disc.retryIn(p.now()))
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if s.RefreshToken != "" && p.ov.UseRefreshGrant(d.meta.GrantTypesSupported) {
		res, err := p.refreshWithGrant(ctx, d, s)
		if !errors.Is(err, errUnsupportedGrant) {
			return res, err
		}
		p.log.Info("oidc refresh: refresh grant unsupported, re-verifying the ID token")
	}
	return p.reverify(ctx, d, s)
}

var errUnsupportedGrant = errors.New("unsupported_grant_type")

func (p *Provider) refreshWithGrant(ctx context.Context, d *idp, s sessionData) (providers.Result, error) {
	tctx, call := p.tokenCtx(ctx)
	src := p.oauth2Config(d, "").TokenSource(tctx, &oauth2.Token{RefreshToken: s.RefreshToken})
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			switch re.ErrorCode {
			case "invalid_grant":
				return providers.Result{}, backstageerr.Authentication("The identity provider session has ended, please sign in again (invalid_grant)")
			case "unsupported_grant_type":
				return providers.Result{}, errUnsupportedGrant
			}
		}
		if tokenEndpointDown(err, call) {
			logOnce := func(msg string, args ...any) { p.tokenOutage.Failed(p.log, p.now(), msg, args...) }
			return p.keepSession(ctx, d, s, p.tokenEndpointErr("token refresh", err, call, logOnce))
		}
		return providers.Result{}, p.tokenEndpointErr("token refresh", err, call, p.log.Warn)
	}
	p.tokenOutage.Recovered(p.log, p.now(), "oidc token endpoint answers again")
	ns := sessionData{
		V:            sessionVersion,
		RefreshToken: tok.RefreshToken, // oauth2 keeps the old one when none is returned
		IDToken:      s.IDToken,
		AccessToken:  tok.AccessToken,
		Scope:        scopeOf(tok),
	}
	if ns.Scope == "" {
		ns.Scope = s.Scope
	}
	if !tok.Expiry.IsZero() {
		ns.Expiry = tok.Expiry.Unix()
	}
	var claims map[string]any
	var idExp time.Time
	if rawID, _ := tok.Extra("id_token").(string); rawID != "" {
		vt, err := p.verifyIDToken(ctx, d, rawID, checks{}, tok.AccessToken)
		var te *idTokenError
		switch {
		case err == nil:
			// The stored token's sub is read unverified: it is only compared with the
			// verified one, so a mismatch refuses and a match changes nothing.
			if old := peek(s.IDToken).Sub; old != "" && vt.subject != old {
				return providers.Result{}, backstageerr.Authentication("The identity provider returned an ID token for another subject on refresh")
			}
			ns.IDToken, claims, idExp = rawID, vt.claims, vt.expiry
		case errors.As(err, &te) && te.undecided:
			// The new token's key cannot be fetched (a rotation during a JWKS outage).
			// The IdP has just honoured the refresh token, and the rotated one must not
			// be lost: go on as if it had sent no ID token.
			p.log.Debug("oidc refresh: the new ID token cannot be checked yet, keeping the previous one", "err", err)
		default:
			return providers.Result{}, backstageerr.Authentication("The identity provider returned an invalid ID token on refresh: %s", err.Error())
		}
	}
	if claims == nil {
		// No new ID token (OIDC Core 12.2 allows that): the identity is the previous ID
		// token's, verified again against the IdP's keys with the sign-in rules
		// (signature, iss, aud/azp, iat/nbf) except its expiry, because the IdP has just
		// honoured the refresh token that was issued with it. Never claims taken on
		// trust from the sealed session (security finding 8): a session that holds a
		// forged or altered ID token yields nothing. Userinfo, below, must then agree on
		// the verified sub.
		c, exp, err := p.reverifiedClaims(ctx, d, s.IDToken, true)
		if err != nil {
			return providers.Result{}, err
		}
		claims, idExp = c, exp
	}
	sub, _ := claims["sub"].(string)
	claims, err = p.withUserinfo(ctx, d, claims, sub, tok.AccessToken)
	if err != nil {
		return providers.Result{}, err
	}
	res := p.result(ns, claims, idExp, false)
	// providerInfo.scope is this answer's, as openid-client's tokenset.scope (none when
	// the IdP names none); the session keeps the last scope it named.
	res.ProviderInfo.Scope = scopeOf(tok)
	return withSession(res, ns)
}

// tokenEndpointDown reports whether a failed token request is the IdP's outage (an
// HTTP 5xx or 429, no answer, a timeout) rather than its answer.
func tokenEndpointDown(err error, call *tokenCall) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests
	}
	return !call.answered2xx
}

// keepSession answers a refresh whose token endpoint is down: while the session's ID
// token is valid (verified again, expiry included) the session goes on with the
// previous providerInfo and unchanged session; otherwise nothing can be decided
// (503). Userinfo is not asked: the IdP is down, and the ID token's claims are the
// verified identity.
func (p *Provider) keepSession(ctx context.Context, d *idp, s sessionData, cause error) (providers.Result, error) {
	claims, expiry, err := p.reverifiedClaims(ctx, d, s.IDToken, false)
	if err != nil {
		p.log.Debug("oidc refresh: token endpoint down and the session's ID token is not usable", "err", err)
		return providers.Result{}, p.unavailable(cause, outageRetryAfter)
	}
	return p.result(s, claims, expiry, false), nil
}

func (p *Provider) reverify(ctx context.Context, d *idp, s sessionData) (providers.Result, error) {
	claims, expiry, err := p.reverifiedClaims(ctx, d, s.IDToken, false)
	if err != nil {
		return providers.Result{}, err
	}
	return p.result(s, claims, expiry, true), nil // Session nil: unchanged
}

// reverifiedClaims verifies a sealed session's ID token again (signature with the IdP's
// current keys, iss, aud/azp, iat/nbf; expiry unless allowExpired), at most once per
// key-set generation: a cached verification is reused while the generation that did it
// is current, and the expiry is compared on every call. While the IdP's keys cannot be
// fetched, the last good ones verify (keyfetch); when they cannot decide, the answer is
// a ServiceUnavailableError.
func (p *Provider) reverifiedClaims(ctx context.Context, d *idp, idToken string, allowExpired bool) (map[string]any, time.Time, error) {
	if idToken == "" {
		return nil, time.Time{}, backstageerr.Authentication("The session holds no ID token, please sign in again")
	}
	expired := func(exp time.Time) bool { return !allowExpired && !p.now().Before(exp.Add(p.cfg.ClockSkew)) }
	errExpired := backstageerr.Authentication("Token has expired, please sign in again")
	hit, ok := p.reverified.get(idToken, d.keys)
	if !ok {
		// An expired token is refused without asking for keys, which may be down: a
		// refusal taken on the token's word gives nothing away.
		if exp, err := peek(idToken).Exp.Float64(); err == nil && expired(time.Unix(int64(exp), 0)) {
			return nil, time.Time{}, errExpired
		}
		vt, err := p.verifyIDToken(ctx, d, idToken, checks{allowExpired: true}, "")
		if err != nil {
			var te *idTokenError
			if errors.As(err, &te) && te.undecided {
				return nil, time.Time{}, p.unavailable(backstageerr.Plain("%s", te.reason), retryAfterOf(te.cause))
			}
			return nil, time.Time{}, backstageerr.Authentication("The session's ID token is no longer valid (%s), please sign in again", err.Error())
		}
		hit = reverified{generation: vt.generation, claims: vt.claims, expiry: vt.expiry}
		// Credit the verification only to the key set that did it: if the set was
		// replaced meanwhile, the next refresh verifies again.
		if d.keys.Current(vt.generation) {
			p.reverified.put(idToken, hit)
		}
	}
	if expired(hit.expiry) {
		return nil, time.Time{}, errExpired
	}
	return hit.claims, hit.expiry, nil
}

// result builds the Result shared by sign-in and refresh, without Result.Session
// (nil means "keep the sealed session"); withSession adds it where it changed.
func (p *Provider) result(s sessionData, claims map[string]any, idExp time.Time, sessionEndsWithIDToken bool) providers.Result {
	now := p.now()
	var accessExp time.Time
	if s.Expiry != 0 {
		accessExp = time.Unix(s.Expiry, 0)
	}
	expiry := p.ov.Expiry(accessExp, idExp, sessionEndsWithIDToken)
	info := providers.ProviderInfo{IDToken: s.IDToken, AccessToken: firstNonEmpty(s.SessionToken, s.AccessToken, s.IDToken), Scope: s.Scope}
	if !expiry.IsZero() {
		info.ExpiresInSeconds = max(int64(math.Round(expiry.Sub(now).Seconds())), 0)
	}
	res := providers.Result{
		Profile:      ProfileFromClaims(claims, p.cfg.AllowEmailWithoutVerifiedClaim),
		ProviderInfo: info,
		Claims:       claims,
	}
	if sessionEndsWithIDToken {
		res.SessionExpiresAt = idExp
	}
	return res
}

// withSession sets res.Session to the encoded s.
func withSession(res providers.Result, s sessionData) (providers.Result, error) {
	b, err := s.encode()
	if err != nil {
		return providers.Result{}, fmt.Errorf("oidc: encode session: %w", err)
	}
	res.Session = b
	return res, nil
}

// Logout implements providers.Logouter: it revokes the refresh token at the IdP's
// revocation_endpoint when there is one. Failures are logged, never returned: the user
// is signed out of Backstage either way (Backstage answers 500 here).
func (p *Provider) Logout(ctx context.Context, session []byte) error {
	if len(session) == 0 {
		return nil
	}
	s, err := decodeSession(session)
	if err != nil || s.RefreshToken == "" {
		return nil
	}
	d, err := p.discover(ctx)
	if err != nil {
		p.log.Warn("oidc logout: cannot revoke, discovery unavailable", "err", err)
		return nil
	}
	if d.meta.RevocationEndpoint == "" {
		return nil
	}
	if err := p.revoke(ctx, d, s.RefreshToken); err != nil {
		p.log.Warn("oidc logout: refresh token revocation failed", "err", err)
	}
	return nil
}

func (p *Provider) oauth2Config(d *idp, redirectURL string) *oauth2.Config {
	c := &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		RedirectURL:  redirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   d.meta.AuthorizationEndpoint,
			TokenURL:  d.meta.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
	switch p.cfg.TokenEndpointAuthMethod {
	case AuthMethodClientSecretPost:
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	case AuthMethodNone:
		// client_id in the body, no secret.
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		c.ClientSecret = ""
	}
	return c
}

func scopeOf(tok *oauth2.Token) string {
	s, _ := tok.Extra("scope").(string)
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
