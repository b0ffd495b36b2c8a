package okta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// DefaultAudience is the module's audience when none (or "") is configured.
const DefaultAudience = "https://okta.com"

// RequiredScopes are always requested (Backstage's okta module).
var RequiredScopes = []string{"openid", "email", "profile", "offline_access"}

// authServerRE is one URL path segment: Okta's server ids are "default" or aus... ids.
var authServerRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Config is one environment of auth.providers.okta.
type Config struct {
	oauth2engine.ClientConfig
	// Audience is the Okta org URL (default DefaultAudience, also when "").
	Audience string `config:"audience"`
	// AuthServerID selects a custom authorization server.
	AuthServerID string `config:"authServerId"`
	// IDP is sent as idp on the authorize request (Okta's IdP routing).
	IDP string `config:"idp"`

	// Derived by Validate: the authorization server's base URL and issuer.
	Base, Issuer string
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the Okta provider.
var Module = providers.Module{
	ID:        "okta",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{EmailMatchingUserEntityAnnotation()},
}

// Validate implements providers.Config and derives the endpoints.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if !strings.HasPrefix(c.Audience, "https://") && !strings.HasPrefix(c.Audience, "http://") {
		return append(ps, sec.Problem("audience", `The provided audience %q is not a valid URL. It must start with "https://" or "http://".`, c.Audience))
	}
	const orgOnly = "must be the Okta org URL (scheme and host only)"
	base, p := oauth2engine.CheckBaseURL(sec, "audience", c.Audience, orgOnly)
	if p != nil {
		return append(ps, p...)
	}
	if u, _ := url.Parse(base); u.Path != "" {
		return append(ps, sec.Problem("audience", "%s, got %q", orgOnly, base))
	}
	c.Audience = base
	if c.AuthServerID != "" && !authServerRE.MatchString(c.AuthServerID) {
		return append(ps, sec.Problem("authServerId", "must be an authorization server id (letters, digits, - and _), got %q", c.AuthServerID))
	}
	c.Base, c.Issuer = c.Audience+"/oauth2/v1", c.Audience
	if c.AuthServerID != "" {
		c.Issuer = c.Audience + "/oauth2/" + c.AuthServerID
		c.Base = c.Issuer + "/v1"
	}
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Okta environment: the OAuth2 engine with Okta's steps.
type Provider struct {
	*oauth2engine.Engine
}

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.Base == "" {
		return nil, fmt.Errorf("okta: config has no endpoints (use Validate)")
	}
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.Base+"/authorize", cfg.Base+"/token"
	ec.ClientAuth = oauth2engine.AuthBasic
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes}
	// Okta accepts S256 PKCE from web apps and echoes the nonce in the ID token.
	ec.PKCE, ec.Nonce = true, true
	v, err := oidc.NewIDTokenVerifierFor(cfg.Issuer, cfg.ClientID, nil, cfg.Timeout, deps)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	idp := cfg.IDP
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{
		// The strategy's authorizationParams: idp, then the scope (which keeps its place
		// before response_type).
		AuthorizeParams: func(req providers.StartRequest) oauth2engine.Params {
			var ps oauth2engine.Params
			if idp != "" {
				ps = append(ps, oauth2engine.Param{Key: "idp", Value: idp})
			}
			if req.Scope != "" {
				ps = append(ps, oauth2engine.Param{Key: "scope", Value: req.Scope})
			}
			return ps
		},
		FetchProfile:    fetchProfile(cfg.Base + "/userinfo"),
		IDTokenVerifier: v,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	return &Provider{Engine: e}, nil
}

// fetchProfile POSTs to userinfo with the access token in the Authorization header and
// an empty body, as the strategy does.
func fetchProfile(userinfo string) func(context.Context, *oauth2engine.Client, *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	return func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
		req, err := http.NewRequest(http.MethodPost, userinfo, http.NoBody)
		if err != nil {
			return nil, &oauth2engine.AnswerError{Reason: "the userinfo URL is invalid"}
		}
		raw, _, err := c.JSON(ctx, req, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		return ProfileFromUserInfo(raw), nil
	}
}

// ProfileFromUserInfo maps a userinfo object as the strategy does: id (sub),
// displayName (name), username (preferred_username), emails [email]. userinfo's
// picture is not mapped (the default transform takes the ID token's).
func ProfileFromUserInfo(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{ID: str("sub"), DisplayName: str("name"), Username: str("preferred_username"), Raw: raw}
	if email := str("email"); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	return fp
}
