package onelogin

import (
	"context"
	"fmt"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Scope is the only scope the module ever sends.
const Scope = "openid"

// Config is one environment of auth.providers.onelogin.
type Config struct {
	oauth2engine.ClientConfig
	// Issuer is the OneLogin OpenID Connect issuer, e.g. https://acme.onelogin.com/oidc/2.
	Issuer string `config:"issuer,required"`
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the OneLogin provider.
var Module = providers.Module{
	ID:        "onelogin",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{UsernameMatchingUserEntityName()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	iss, p := oauth2engine.CheckBaseURL(sec, "issuer", c.Issuer, "must not have a query or fragment")
	if p != nil {
		return append(ps, p...)
	}
	c.Issuer = iss
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one OneLogin environment: the OAuth2 engine with OneLogin's steps.
type Provider struct {
	*oauth2engine.Engine
}

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.Issuer == "" {
		return nil, fmt.Errorf("onelogin: config has no issuer")
	}
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.Issuer+"/auth", cfg.Issuer+"/token"
	// OneLogin supports S256 PKCE and echoes the nonce.
	ec.PKCE, ec.Nonce = true, true
	v, err := oidc.NewIDTokenVerifierFor(cfg.Issuer, cfg.ClientID, nil, cfg.Timeout, deps)
	if err != nil {
		return nil, fmt.Errorf("onelogin: %w", err)
	}
	me := cfg.Issuer + "/me"
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{
		FetchProfile: func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
			raw, _, err := c.GetJSON(ctx, me, tok.AccessToken)
			if err != nil {
				return nil, err
			}
			return ProfileFromMe(raw), nil
		},
		IDTokenVerifier: v,
		RefreshScope:    func(string) string { return Scope },
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("onelogin: %w", err)
	}
	return &Provider{Engine: e}, nil
}

// Start implements providers.OAuthProvider: the module replaces the scope with openid.
func (p *Provider) Start(ctx context.Context, req providers.StartRequest) (providers.StartResult, error) {
	req.Scope = Scope
	return p.Engine.Start(ctx, req)
}

// ProfileFromMe maps /me as the strategy does: id String(sub), username
// preferred_username, displayName name, emails [email].
func ProfileFromMe(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{Username: str("preferred_username"), DisplayName: str("name"), Raw: raw}
	switch sub := raw["sub"].(type) {
	case string:
		fp.ID = sub
	case int64:
		fp.ID = fmt.Sprint(sub)
	case float64:
		fp.ID = fmt.Sprint(int64(sub))
	}
	if email := str("email"); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	return fp
}
