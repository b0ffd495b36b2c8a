package github

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// github.com's endpoints (passport-github2's defaults).
const (
	AuthorizationURL = "https://github.com/login/oauth/authorize"
	TokenURL         = "https://github.com/login/oauth/access_token"
	UserProfileURL   = "https://api.github.com/user"
)

// RequiredScopes are always requested (Backstage's github module).
var RequiredScopes = []string{"read:user"}

// Config is one environment of auth.providers.github.
type Config struct {
	oauth2engine.ClientConfig
	// EnterpriseInstanceURL is a GitHub Enterprise Server base URL (one trailing "/"
	// is dropped, as Backstage does); "" means github.com.
	EnterpriseInstanceURL string `config:"enterpriseInstanceUrl"`

	// Derived by Validate.
	AuthorizationURL, TokenURL, UserProfileURL string
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the GitHub provider.
var Module = providers.Module{
	ID:        "github",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{UsernameMatchingUserEntityName(), UserIDMatchingUserEntityAnnotation()},
}

// Validate implements providers.Config and derives the endpoints.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	c.AuthorizationURL, c.TokenURL, c.UserProfileURL = AuthorizationURL, TokenURL, UserProfileURL
	if c.EnterpriseInstanceURL == "" {
		return ps
	}
	base := strings.TrimSuffix(strings.TrimSpace(c.EnterpriseInstanceURL), "/")
	if p := oauth2engine.CheckHTTPURL(sec, "enterpriseInstanceUrl", base); p != nil {
		return append(ps, p...)
	}
	if u, _ := url.Parse(base); u.RawQuery != "" || u.Fragment != "" {
		return append(ps, sec.Problem("enterpriseInstanceUrl", "must be the instance's base URL without a query or fragment, got %q", c.EnterpriseInstanceURL))
	}
	c.AuthorizationURL = base + "/login/oauth/authorize"
	c.TokenURL = base + "/login/oauth/access_token"
	c.UserProfileURL = base + "/api/v3/user"
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one GitHub environment: the OAuth2 engine with GitHub's steps.
type Provider struct {
	*oauth2engine.Engine
}

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.AuthorizationURL == "" {
		return nil, fmt.Errorf("github: config has no endpoints (use Validate)")
	}
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.AuthorizationURL, cfg.TokenURL
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes, Persist: true}
	// GitHub accepts S256 PKCE (and requires nothing else to use it); Backstage sends none.
	ec.PKCE = true
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{
		FetchProfile:    fetchProfile(cfg.UserProfileURL),
		KeepAccessToken: keepAccessToken,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return &Provider{Engine: e}, nil
}

// keepAccessToken is Backstage's rule for its access-token-v2. cookie: a token answer
// with neither refresh_token nor expires_in (an OAuth app) makes the access token the
// session.
func keepAccessToken(tok *oauth2engine.Token) bool {
	return tok.RefreshToken == "" && tok.ExpiresIn == 0
}

// fetchProfile reads /user and maps it as passport-github2's Profile.parse does.
func fetchProfile(profileURL string) func(context.Context, *oauth2engine.Client, *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	return func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
		raw, _, err := c.GetJSON(ctx, profileURL, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		return ProfileFromUser(raw), nil
	}
}

// ProfileFromUser maps a /user object to the full profile.
func ProfileFromUser(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{
		Username:    str("login"),
		DisplayName: str("name"),
		ProfileURL:  str("html_url"),
		Raw:         raw,
	}
	switch id := raw["id"].(type) {
	case int64:
		fp.ID = strconv.FormatInt(id, 10)
	case string:
		fp.ID = id
	}
	if email := str("email"); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	if avatar := str("avatar_url"); avatar != "" {
		fp.Photos = []string{avatar}
	}
	return fp
}

// NodeID is the user's GraphQL node id (passport-github2's profile.nodeId), which the
// github.com/user-id annotation holds.
func NodeID(fp *oauth2engine.FullProfile) string {
	s, _ := fp.Raw["node_id"].(string)
	return s
}
