package atlassian

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Atlassian's endpoints (passport-atlassian-oauth2's and the module's).
const (
	AuthorizationURL = "https://auth.atlassian.com/authorize"
	TokenURL         = "https://auth.atlassian.com/oauth/token"
	ProfileURL       = "https://api.atlassian.com/me"
	ResourcesURL     = "https://api.atlassian.com/oauth/token/accessible-resources"
	// Audience is the audience the strategy always sends.
	Audience = "api.atlassian.com"
)

// ResourcesClaim is the claim holding the accessible-resources list.
const ResourcesClaim = "accessibleResources"

// RequiredScopes are always requested (Backstage's atlassian module).
var RequiredScopes = []string{"offline_access", "read:me", "read:jira-work", "read:jira-user"}

// MsgScopeRemoved is Backstage's start-up error for the old scope and scopes keys.
const MsgScopeRemoved = `The atlassian provider no longer supports the "scope" or "scopes" configuration options. Please use the "additionalScopes" option instead.`

// Config is one environment of auth.providers.atlassian.
type Config struct {
	oauth2engine.ClientConfig
	// Audience is in Backstage's schema but its code never reads it: Atlassian's
	// audience is always api.atlassian.com. Accepted with a warning.
	Audience string `config:"audience"`
	// Scope and Scopes are refused (Backstage's message); declared so that they are
	// not also reported as unknown keys.
	Scope  any `config:"scope"`
	Scopes any `config:"scopes"`
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the Atlassian provider.
var Module = providers.Module{
	ID:        "atlassian",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{UsernameMatchingUserEntityName()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	for _, k := range []string{"scope", "scopes"} {
		if sec.Has(k) {
			ps = append(ps, sec.Problem(k, "%s", MsgScopeRemoved))
		}
	}
	if c.Audience != "" && c.Audience != Audience {
		ps = append(ps, sec.Warning("audience", "is not read (nor by Backstage's atlassian module): the audience is always %s", Audience))
	}
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Atlassian environment: the OAuth2 engine with Atlassian's steps.
type Provider struct {
	*oauth2engine.Engine
}

// New returns the provider for cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = AuthorizationURL, TokenURL
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes}
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{
		AuthorizeParams: func(providers.StartRequest) oauth2engine.Params {
			return oauth2engine.Params{{Key: "audience", Value: Audience}, {Key: "prompt", Value: "consent"}}
		},
		FetchProfile: fetchProfile,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("atlassian: %w", err)
	}
	return &Provider{Engine: e}, nil
}

// fetchProfile reads /me, then the accessible resources, as the strategy does.
func fetchProfile(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	raw, _, err := c.GetJSON(ctx, ProfileURL, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	resources, err := accessibleResources(ctx, c, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	fp := ProfileFromMe(raw)
	fp.Raw = maps.Clone(raw)
	fp.Raw[ResourcesClaim] = resources
	return fp, nil
}

// accessibleResources reads the JSON array of sites the token may use.
func accessibleResources(ctx context.Context, c *oauth2engine.Client, accessToken string) ([]any, error) {
	req, err := http.NewRequest(http.MethodGet, ResourcesURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+accessToken)
	a, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !a.OK() {
		return nil, &oauth2engine.StatusError{Status: a.Status}
	}
	var list []any
	dec := json.NewDecoder(bytes.NewReader(a.Body))
	dec.UseNumber()
	if err := dec.Decode(&list); err != nil || list == nil || dec.More() {
		return nil, backstageerr.Plain("Authentication failed, Failed to parse accessible resources")
	}
	return upstream.NormalizeNumbers(list).([]any), nil
}

// ProfileFromMe maps a /me object as passport-atlassian-oauth2's _convertProfileFields
// does: id (account_id), displayName (name), email, photo (picture). No username.
func ProfileFromMe(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	return &oauth2engine.FullProfile{ID: str("account_id"), DisplayName: str("name"), Email: str("email"), Photo: str("picture"), Raw: raw}
}
