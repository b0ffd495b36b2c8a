package gitlab

import (
	"fmt"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// DefaultAudience is gitlab.com, Backstage's default base URL.
const DefaultAudience = "https://gitlab.com"

// RequiredScopes are always requested (Backstage's gitlab module).
var RequiredScopes = []string{"read_user"}

// Config is one environment of auth.providers.gitlab.
type Config struct {
	oauth2engine.ClientConfig
	// Audience is the GitLab base URL ("" means gitlab.com, as in Backstage).
	Audience string `config:"audience"`

	// Derived by Validate: the endpoints, and the base URL, which is the issuer of
	// GitLab's ID tokens.
	AuthorizationURL, TokenURL, UserProfileURL, BaseURL string
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the GitLab provider.
var Module = providers.Module{
	ID:        "gitlab",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{UsernameMatchingUserEntityName(), UserIDMatchingUserEntityAnnotation()},
}

// Validate implements providers.Config and derives the endpoints.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	audience := c.Audience
	if strings.TrimSpace(audience) == "" {
		audience = DefaultAudience
	}
	// Backstage uses the value verbatim, so "https://gitlab.example.com/" gives
	// "//oauth/authorize"; one trailing slash is dropped here instead.
	base, p := oauth2engine.CheckBaseURL(sec, "audience", audience, "must be the GitLab base URL without a query or fragment")
	if p != nil {
		return append(ps, p...)
	}
	c.BaseURL = base
	c.AuthorizationURL = base + "/oauth/authorize"
	c.TokenURL = base + "/oauth/token"
	c.UserProfileURL = base + "/api/v4/user"
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one GitLab environment: the OAuth2 engine with GitLab's steps.
type Provider struct {
	*oauth2engine.Engine
}

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.AuthorizationURL == "" {
		return nil, fmt.Errorf("gitlab: config has no endpoints (use Validate)")
	}
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.AuthorizationURL, cfg.TokenURL
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes}
	// GitLab supports S256 PKCE for confidential applications too, and the nonce of
	// OpenID Connect; Backstage sends neither.
	ec.PKCE, ec.Nonce = true, true
	// GitLab is an OpenID Connect provider whose issuer is its base URL: the id_token it
	// adds for the openid scope is verified as providers/oidc verifies ID tokens (keys
	// from {audience}/.well-known/openid-configuration, fetched only when a token comes).
	v, err := oidc.NewIDTokenVerifierFor(cfg.BaseURL, cfg.ClientID, nil, cfg.Timeout, deps)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{
		FetchProfile:    oauth2engine.JSONProfile(cfg.UserProfileURL, ProfileFromUser),
		IDTokenVerifier: v,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	return &Provider{Engine: e}, nil
}

// ProfileFromUser maps an /api/v4/user object as passport-gitlab2's userProfile does.
func ProfileFromUser(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{
		Username:    str("username"),
		DisplayName: str("name"),
		AvatarURL:   str("avatar_url"),
		ProfileURL:  str("web_url"),
		Raw:         raw,
		ID:          oauth2engine.IDString(raw["id"]),
	}
	if email := str("email"); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	return fp
}
