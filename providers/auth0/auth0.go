package auth0

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
)

// ProfileCacheTTL is how long a refresh reuses a user's profile (the module's cache).
const ProfileCacheTTL = time.Minute

// clientHeader is the Auth0-Client telemetry header passport-auth0 sends, naming us.
var clientHeader = base64.StdEncoding.EncodeToString([]byte(`{"name":"backstage-auth-go","version":"1","env":{"go":"1"}}`))

// hostRE is a DNS host name (Auth0 tenant domains and custom domains).
var hostRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

// Config is one environment of auth.providers.auth0.
type Config struct {
	oauth2engine.ClientConfig
	// Domain is the tenant's host, e.g. acme.eu.auth0.com (no scheme).
	Domain string `config:"domain,required"`
	// Audience, Connection and ConnectionScope (sent only with Connection) go on the
	// authorize request.
	Audience        string `config:"audience"`
	Connection      string `config:"connection"`
	ConnectionScope string `config:"connectionScope"`
	// Prompt (default consent; "auto" or "" sends none).
	Prompt string `config:"prompt"`
	// Organization is sent as organization.
	Organization string `config:"organization"`
	// FederatedLogout adds federated to the logout URL (also signs out of the
	// upstream IdP).
	FederatedLogout bool `config:"federatedLogout"`
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config {
	return &Config{ClientConfig: oauth2engine.NewClientConfig(), Prompt: "consent"}
}

// Module registers the Auth0 provider (the common resolvers only, as in Backstage).
var Module = providers.Module{
	ID:        "auth0",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	if c.Domain != "" && !hostRE.MatchString(c.Domain) {
		ps = append(ps, sec.Problem("domain", "must be the tenant's host name without a scheme or path (e.g. acme.eu.auth0.com), got %q", c.Domain))
	}
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Auth0 environment: the OAuth2 engine with Auth0's steps, the refresh
// profile cache and the logout URL.
type Provider struct {
	*oauth2engine.Engine
	cfg   Config
	now   func() time.Time
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	fp      *oauth2engine.FullProfile
	expires time.Time
}

var _ providers.LogoutURLer = (*Provider)(nil)

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.Domain == "" {
		return nil, fmt.Errorf("auth0: config has no domain")
	}
	origin := "https://" + cfg.Domain
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = origin+"/authorize", origin+"/oauth/token"
	ec.TokenHeaders = http.Header{"Auth0-Client": {clientHeader}}
	ec.Scopes = providers.ScopeSpec{Additional: cfg.AdditionalScopes}
	// Auth0 echoes the nonce; passport-auth0 sends one, and we verify it.
	ec.Nonce = true
	v, err := oidc.NewIDTokenVerifierFor(origin, cfg.ClientID, nil, cfg.Timeout, deps)
	if err != nil {
		return nil, fmt.Errorf("auth0: %w", err)
	}
	// Auth0's issuer is the origin with a trailing slash.
	iss := origin + "/"
	v.WithIssuers(oidc.IssuerOptions{Announced: func(a string) bool { return a == iss }})
	p := &Provider{cfg: cfg, now: deps.Now, cache: map[string]cached{}}
	if p.now == nil {
		p.now = time.Now
	}
	p.Engine, err = oauth2engine.New(ec, oauth2engine.Hooks{
		AuthorizeParams: p.authorizeParams,
		FetchProfile:    p.fetchProfile(origin + "/userinfo"),
		IDTokenVerifier: v,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("auth0: %w", err)
	}
	return p, nil
}

// MsgOrganizationMismatch is the module's answer to a /start whose organization is not
// the configured one.
const MsgOrganizationMismatch = "Organization mismatch. The organization provided in the request does not match the organization configured in the strategy."

// Start implements providers.OAuthProvider: a /start organization other than the
// configured one is refused (400), as the module refuses it.
func (p *Provider) Start(ctx context.Context, req providers.StartRequest) (providers.StartResult, error) {
	if org := req.Query.Get("organization"); org != "" && p.cfg.Organization != "" && org != p.cfg.Organization {
		return providers.StartResult{}, backstageerr.Input("%s", MsgOrganizationMismatch)
	}
	return p.Engine.Start(ctx, req)
}

// authorizeParams are passport-auth0's, in its order: the start options it copies
// (scope, state, accessType, and the organization, invitation and screen_hint of the
// /start query), then connection (+ connection_scope), audience, prompt, the query's
// login_hint, the nonce, and the configured organization. The engine keeps scope,
// state and nonce in these places.
func (p *Provider) authorizeParams(req providers.StartRequest) oauth2engine.Params {
	var ps oauth2engine.Params
	add := func(k, v string) {
		if v != "" {
			ps.Set(k, v)
		}
	}
	add("scope", req.Scope)
	add("state", req.State)
	add("accessType", "offline")
	for _, k := range []string{"organization", "invitation", "screen_hint"} {
		add(k, req.Query.Get(k))
	}
	if p.cfg.Connection != "" {
		add("connection", p.cfg.Connection)
		add("connection_scope", p.cfg.ConnectionScope)
	}
	add("audience", p.cfg.Audience)
	// "auto" (and "", which passport-auth0 drops) sends no prompt.
	if p.cfg.Prompt != "auto" {
		add("prompt", p.cfg.Prompt)
	}
	add("login_hint", req.Query.Get("login_hint"))
	add("nonce", req.Secrets.Nonce)
	if req.Query.Get("organization") == "" {
		add("organization", p.cfg.Organization)
	}
	return ps
}

// refreshing marks a refresh's context: only refreshes read and fill the profile
// cache, as in the module.
type refreshing struct{}

// Refresh implements providers.Refresher (the engine's, with the profile cache).
func (p *Provider) Refresh(ctx context.Context, req providers.RefreshRequest) (providers.Result, error) {
	return p.Engine.Refresh(context.WithValue(ctx, refreshing{}, true), req)
}

// fetchProfile reads userinfo (the token in the Authorization header, with the
// Auth0-Client header) and maps it as passport-auth0's Profile does. On refresh the
// profile is cached under the ID token's sub for ProfileCacheTTL.
func (p *Provider) fetchProfile(userinfo string) func(context.Context, *oauth2engine.Client, *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	return func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
		sub := ""
		if ctx.Value(refreshing{}) != nil {
			sub = subjectOf(tok.IDToken)
			if fp := p.cached(sub); fp != nil {
				return fp, nil
			}
		}
		req, err := http.NewRequest(http.MethodGet, userinfo, nil)
		if err != nil {
			return nil, &oauth2engine.AnswerError{Reason: "the userinfo URL is invalid"}
		}
		req.Header.Set("Auth0-Client", clientHeader)
		raw, _, err := c.JSON(ctx, req, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		fp := ProfileFromUserInfo(raw)
		if sub != "" {
			p.store(sub, fp)
		}
		return fp, nil
	}
}

// subjectOf is an ID token's sub. The engine has verified the token before it asks
// for the profile (signature, issuer, audience, expiry), so its claims can be read
// here without checking again.
func subjectOf(idToken string) string {
	if idToken == "" {
		return ""
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(idToken, claims); err != nil {
		return ""
	}
	sub, _ := claims["sub"].(string)
	return sub
}

func (p *Provider) cached(sub string) *oauth2engine.FullProfile {
	if sub == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.cache[sub]; ok && p.now().Before(e.expires) {
		return e.fp
	}
	return nil
}

func (p *Provider) store(sub string, fp *oauth2engine.FullProfile) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	// Drop the expired entries, so that the cache holds only the last minute's users.
	for k, e := range p.cache {
		if !now.Before(e.expires) {
			delete(p.cache, k)
		}
	}
	p.cache[sub] = cached{fp: fp, expires: now.Add(ProfileCacheTTL)}
}

// ProfileFromUserInfo maps a userinfo object as passport-auth0's Profile: id (user_id,
// else sub), displayName (name), emails (emails[], else email); picture is not read
// by the transform (the ID token's is used).
func ProfileFromUserInfo(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{ID: str("user_id"), DisplayName: str("name"), Raw: raw}
	if fp.ID == "" {
		fp.ID = str("sub")
	}
	if list, ok := raw["emails"].([]any); ok {
		for _, e := range list {
			if s, ok := e.(string); ok && s != "" {
				fp.Emails = append(fp.Emails, oauth2engine.Email{Value: s})
			}
		}
	} else if email := str("email"); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	return fp
}

// LogoutURL implements providers.LogoutURLer: Auth0's logout page, which ends the
// Auth0 session (and the upstream IdP's with federatedLogout) and sends the browser
// back to the request's Origin (which Auth0 checks against the application's allowed
// logout URLs). Asked with or without a session, as in Backstage.
func (p *Provider) LogoutURL(ctx context.Context, _ []byte) (string, error) {
	// In Backstage's order and URLSearchParams' encoding: federated, client_id,
	// returnTo.
	u := "https://" + p.cfg.Domain + "/v2/logout?"
	if p.cfg.FederatedLogout {
		u += "federated=&"
	}
	u += "client_id=" + url.QueryEscape(p.cfg.ClientID)
	if o := providers.RequestOrigin(ctx); o != "" {
		u += "&returnTo=" + url.QueryEscape(o)
	}
	return u, nil
}
