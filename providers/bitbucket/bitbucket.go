package bitbucket

import (
	"context"
	"fmt"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Bitbucket Cloud's endpoints (hard-coded in Backstage's module and the strategy).
const (
	AuthorizationURL = "https://bitbucket.org/site/oauth2/authorize"
	TokenURL         = "https://bitbucket.org/site/oauth2/access_token"
	UserURL          = "https://api.bitbucket.org/2.0/user"
	EmailsURL        = "https://api.bitbucket.org/2.0/user/emails"
)

// RequiredScopes are always requested (Backstage's bitbucket module).
var RequiredScopes = []string{"account"}

// EmailScope is the scope that lets us read /2.0/user/emails.
const EmailScope = "email"

// Config is one environment of auth.providers.bitbucket: only the common keys.
type Config struct {
	oauth2engine.ClientConfig
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the Bitbucket Cloud provider.
var Module = providers.Module{
	ID:        "bitbucket",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{UserIDMatchingUserEntityAnnotation(), UsernameMatchingUserEntityAnnotation()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems { return c.Check(sec) }

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Bitbucket Cloud environment: the OAuth2 engine with Bitbucket's steps.
type Provider struct {
	*oauth2engine.Engine
}

// New returns the provider for cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = AuthorizationURL, TokenURL
	// passport-bitbucket-oauth2 adds HTTP Basic to the oauth library's body credentials.
	ec.ClientAuth = oauth2engine.AuthPostAndBasic
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes, Persist: true}
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{FetchProfile: fetchProfile}, deps)
	if err != nil {
		return nil, fmt.Errorf("bitbucket: %w", err)
	}
	return &Provider{Engine: e}, nil
}

// fetchProfile reads /2.0/user, and /2.0/user/emails when the email scope was granted.
func fetchProfile(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	raw, _, err := c.GetJSON(ctx, UserURL, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	fp := ProfileFromUser(raw)
	if !Granted(tok, EmailScope) {
		return fp, nil
	}
	emails, _, err := c.GetJSON(ctx, EmailsURL, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	if email := PrimaryConfirmedEmail(emails); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	return fp, nil
}

// Granted reports whether the token answer's scopes (Bitbucket's "scopes", else the
// standard "scope") include scope.
func Granted(tok *oauth2engine.Token, scope string) bool {
	granted, _ := tok.Params["scopes"].(string)
	if granted == "" {
		granted = tok.Scope
	}
	for _, s := range strings.FieldsFunc(granted, func(r rune) bool { return r == ' ' || r == ',' }) {
		if s == scope {
			return true
		}
	}
	return false
}

// PrimaryConfirmedEmail is the address of the /2.0/user/emails page whose is_primary
// and is_confirmed are both true ("" when there is none).
func PrimaryConfirmedEmail(page map[string]any) string {
	values, _ := page["values"].([]any)
	for _, v := range values {
		e, _ := v.(map[string]any)
		primary, _ := e["is_primary"].(bool)
		confirmed, _ := e["is_confirmed"].(bool)
		if addr, _ := e["email"].(string); primary && confirmed && addr != "" {
			return addr
		}
	}
	return ""
}

// ProfileFromUser maps a /2.0/user object as passport-bitbucket-oauth2's Profile.parse
// does: id (uuid), displayName (display_name), username, profileUrl (links.html.href).
func ProfileFromUser(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{ID: str("uuid"), DisplayName: str("display_name"), Username: str("username"), Raw: raw}
	links, _ := raw["links"].(map[string]any)
	html, _ := links["html"].(map[string]any)
	fp.ProfileURL, _ = html["href"].(string)
	return fp
}
