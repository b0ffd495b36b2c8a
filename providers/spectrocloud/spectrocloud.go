package spectrocloud

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// TeraSky's default `scope` ("openid profile email") equals oidc.RequiredScopes, which
// are always requested, so an absent scope adds nothing.

// Config is one environment of auth.providers.spectrocloud: TeraSky's keys
// (authorizationUrl, clientId, clientSecret, callbackUrl, scope, prompt, signIn,
// sessionDuration) plus every oidc key.
type Config struct {
	oidc.Config
	// AuthorizationURL is TeraSky's authorizationUrl ("" when only metadataUrl is set).
	AuthorizationURL string `config:"authorizationUrl"`
	// Scope is TeraSky's `scope`; its scopes are added to additionalScopes.
	Scope config.StringOrList `config:"scope"`
	// TenantID is the tenant taken from authorizationUrl ("" when metadataUrl is used).
	TenantID string
}

// NewConfig returns a Config with Palette's defaults: client_secret_post at the token
// endpoint, and the email used without an email_verified claim (Palette may omit it;
// an explicit false still drops the email).
func NewConfig() *Config {
	c := &Config{Config: *oidc.NewConfig()}
	c.TokenEndpointAuthMethod = oidc.AuthMethodClientSecretPost
	c.AllowEmailWithoutVerifiedClaim = true
	return c
}

// Module registers the SpectroCloud Palette provider.
var Module = providers.Module{
	ID:        "spectrocloud",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{resolvers.EmailAnnotation()},
}

// Validate implements providers.Config. metadataUrl wins over authorizationUrl;
// otherwise the issuer is derived from authorizationUrl by path
// (.../v1/oidc/tenant/{id}/auth -> .../v1/oidc/tenant/{id}).
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec, oidc.CheckOptions{MetadataURLOptional: true, ScopeKeyAllowed: true})
	for _, s := range c.Scope {
		if !slices.Contains(c.AdditionalScopes, s) {
			c.AdditionalScopes = append(c.AdditionalScopes, s)
		}
	}
	switch {
	case c.MetadataURL != "":
		// Discovery from metadataUrl; authorizationUrl (if any) is informational.
	case c.AuthorizationURL == "":
		ps = append(ps, sec.Problem("authorizationUrl", "missing required config value (or set metadataUrl to the issuer or its discovery URL)"))
	default:
		issuer, tenant, err := IssuerFromAuthorizationURL(c.AuthorizationURL)
		if err != nil {
			ps = append(ps, sec.Problem("authorizationUrl", "%v", err))
			break
		}
		disc, iss, err := oidc.DiscoveryURL(issuer)
		if err != nil {
			ps = append(ps, sec.Problem("authorizationUrl", "%v", err))
			break
		}
		c.TenantID, c.MetadataURL, c.DiscoveryURL, c.ExpectedIssuer = tenant, issuer, disc, iss
	}
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is Palette as an OIDC IdP: the generic oidc provider with Palette's
// overrides.
type Provider struct {
	*oidc.Provider
	cfg Config
}

// Overrides are Palette's differences from generic OpenID Connect:
//   - the refresh_token grant is used only when discovery advertises it (Palette's
//     discovery lists no grant types, and its token endpoint refuses the grant);
//   - without the grant, the token response's refresh_token is Palette's HS256 session
//     token: kept in the session and reported as providerInfo.accessToken, never sent
//     back as a refresh token;
//   - providerInfo.expiresInSeconds counts down to the ID token's expiry, which is
//     when the session ends.
var Overrides = oidc.Overrides{
	UseRefreshGrant: func(grantTypes []string) bool { return slices.Contains(grantTypes, "refresh_token") },
	SplitRefreshToken: func(rt string, grantInUse bool) (string, string) {
		if grantInUse {
			return rt, ""
		}
		return "", rt
	},
	Expiry: func(_, idTokenExpiry time.Time, _ bool) time.Time { return idTokenExpiry },
}

var tenantID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// IssuerFromAuthorizationURL derives Palette's issuer from the authorization endpoint
// by parsing its path (never a string replace, which breaks on hosts such as
// auth.example.com): https://host/v1/oidc/tenant/{id}/auth -> https://host/v1/oidc/tenant/{id}.
func IssuerFromAuthorizationURL(raw string) (issuer, tenant string, err error) {
	const shape = "expected https://<palette-host>/v1/oidc/tenant/<tenantUid>/auth; for any other layout set metadataUrl to the issuer or its /.well-known/openid-configuration URL"
	u, perr := url.Parse(strings.TrimSpace(raw))
	if perr != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", fmt.Errorf("%q is not an absolute http(s) URL; %s", raw, shape)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("%q must not have a query, fragment or user info; %s", raw, shape)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 5 || parts[0] != "v1" || parts[1] != "oidc" || parts[2] != "tenant" || parts[4] != "auth" || !tenantID.MatchString(parts[3]) {
		return "", "", fmt.Errorf("cannot derive the issuer from %q; %s", raw, shape)
	}
	return u.Scheme + "://" + u.Host + "/v1/oidc/tenant/" + parts[3], parts[3], nil
}

// New returns a SpectroCloud provider. Like oidc.New it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	p, err := oidc.NewWithOverrides(cfg.Config, deps, Overrides)
	if err != nil {
		return nil, fmt.Errorf("spectrocloud: %w", err)
	}
	return &Provider{Provider: p, cfg: cfg}, nil
}

// SpectroCloudConfig returns the provider's configuration.
func (p *Provider) SpectroCloudConfig() Config { return p.cfg }
