package oauth2

import (
	"context"
	"fmt"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Config is one environment of auth.providers.oauth2.
type Config struct {
	oauth2engine.ClientConfig
	AuthorizationURL string `config:"authorizationUrl,required"`
	TokenURL         string `config:"tokenUrl,required"`
	// IncludeBasicAuth adds HTTP Basic to token requests (the body credentials stay).
	IncludeBasicAuth bool `config:"includeBasicAuth"`
	// DisableRefresh keeps no session, so /refresh answers 401 (Backstage's schema has
	// the key; its code ignores it).
	DisableRefresh bool `config:"disableRefresh"`
	// PKCE sends an S256 code challenge (ours; off by default, as Backstage sends none
	// and an IdP of unknown make may refuse unknown parameters).
	PKCE bool `config:"pkce"`
	// IDTokenMetadataURL (ours) is the issuer, or its discovery URL, whose keys verify
	// the token answer's id_token; "" leaves the id_token unused.
	IDTokenMetadataURL string `config:"idTokenMetadataUrl"`
	// IDTokenSignedResponseAlg (ours) lists the accepted ID token algorithms (RS256).
	IDTokenSignedResponseAlg config.StringOrList `config:"idTokenSignedResponseAlg"`

	// Derived by Validate.
	idTokenAlgs []string
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the generic OAuth 2.0 provider.
var Module = providers.Module{
	ID:        "oauth2",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{UsernameMatchingUserEntityName()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	ps = append(ps, oauth2engine.CheckHTTPURL(sec, "authorizationUrl", c.AuthorizationURL)...)
	ps = append(ps, oauth2engine.CheckHTTPURL(sec, "tokenUrl", c.TokenURL)...)
	if sec.Has("scope") {
		ps = append(ps, sec.Problem("scope", "%s", oauth2engine.ScopeOptionRemoved("oauth2")))
	}
	algs, aps := oidc.CheckIDTokenAlgs(sec, "idTokenSignedResponseAlg", c.IDTokenSignedResponseAlg)
	ps = append(ps, aps...)
	c.idTokenAlgs = algs
	switch {
	case c.IDTokenMetadataURL != "":
		if _, _, err := oidc.DiscoveryURL(c.IDTokenMetadataURL); err != nil {
			ps = append(ps, sec.Problem("idTokenMetadataUrl", "%v", err))
		}
	case sec.Has("idTokenSignedResponseAlg"):
		ps = append(ps, sec.Problem("idTokenSignedResponseAlg", "has no effect without idTokenMetadataUrl"))
	}
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one generic OAuth 2.0 environment.
type Provider struct {
	*oauth2engine.Engine
	disableRefresh bool
}

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.AuthorizationURL, cfg.TokenURL
	ec.Scopes = providers.ScopeSpec{Additional: cfg.AdditionalScopes}
	ec.PKCE = cfg.PKCE
	if cfg.IncludeBasicAuth {
		ec.ClientAuth = oauth2engine.AuthPostAndBasic
	}
	var hooks oauth2engine.Hooks
	if cfg.IDTokenMetadataURL != "" {
		v, err := oidc.NewIDTokenVerifierFor(cfg.IDTokenMetadataURL, cfg.ClientID, cfg.idTokenAlgs, cfg.Timeout, deps)
		if err != nil {
			return nil, fmt.Errorf("oauth2: %w", err)
		}
		hooks.IDTokenVerifier = v
		ec.Nonce = true
	}
	e, err := oauth2engine.New(ec, hooks, deps)
	if err != nil {
		return nil, fmt.Errorf("oauth2: %w", err)
	}
	return &Provider{Engine: e, disableRefresh: cfg.DisableRefresh}, nil
}

// Authenticate implements providers.OAuthProvider; with disableRefresh nothing is kept
// for a later refresh.
func (p *Provider) Authenticate(ctx context.Context, req providers.CallbackRequest) (providers.Result, error) {
	res, err := p.Engine.Authenticate(ctx, req)
	if p.disableRefresh {
		res.Session = nil
	}
	return res, err
}

// UsernameMatchingUserEntityName signs in as the User entity named like the verified
// ID token's preferred_username (Backstage's reads a username the module never sets,
// so it always fails there with this message).
func UsernameMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver("usernameMatchingUserEntityName", func(info resolvers.SignInInfo) string {
		// Claims hold only verified ID token claims (the engine never adds others).
		if u := oauth2engine.FullProfileOf(info).Username; u != "" {
			return u
		}
		u, _ := info.Claims["preferred_username"].(string)
		return u
	}, "Oauth2 user profile does not contain a username")
}
