package spectrocloud

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
)

// TeraSky's default `scope` ("openid profile email") equals oidc.RequiredScopes, which
// are always requested, so an absent scope adds nothing.

// Config is one environment of auth.providers.spectrocloud: TeraSky's keys
// (authorizationUrl, clientId, clientSecret, callbackUrl, scope, prompt, signIn,
// sessionDuration) plus every oidc key.
type Config struct {
	oidc.Config
	// AuthorizationURL is TeraSky's authorizationUrl ("" when only metadataUrl is set).
	AuthorizationURL string
	// TenantID is the tenant taken from authorizationUrl ("" when metadataUrl is used).
	TenantID string
}

// Provider is Palette as an OIDC IdP: the generic oidc provider with Palette's quirks
// (HS256 session token in refresh_token, no refresh grant unless advertised, ID token
// expiry as the session's expiry).
type Provider struct {
	*oidc.Provider
	cfg Config
}

var _ providers.Provider = (*Provider)(nil)

// Variant is the oidc.Variant for Palette.
var Variant = oidc.Variant{
	RefreshGrantMustBeAdvertised: true,
	RefreshTokenIsSessionToken:   true,
	ExpiresFromIDToken:           true,
}

// ParseConfig reads auth.providers.spectrocloud.<env> and records problems in r.
// metadataUrl wins over authorizationUrl; otherwise the issuer is derived from
// authorizationUrl by path (.../v1/oidc/tenant/{id}/auth -> .../v1/oidc/tenant/{id}).
func ParseConfig(r *config.Reader) Config {
	oc := oidc.ParseConfigWith(r, oidc.ParseOptions{
		MetadataURLOptional:            true,
		AllowScope:                     true,
		DefaultTokenEndpointAuthMethod: oidc.AuthMethodClientSecretPost,
		// Palette may omit email_verified; an explicit false still drops the email.
		EmailWithoutVerifiedClaimByDefault: true,
	})
	c := Config{Config: oc, AuthorizationURL: r.String("authorizationUrl")}
	switch {
	case c.MetadataURL != "":
		// Discovery from metadataUrl; authorizationUrl (if any) is informational.
	case c.AuthorizationURL == "":
		r.Problemf("authorizationUrl", "missing required config value (or set metadataUrl to the issuer or its discovery URL)")
	default:
		issuer, tenant, err := IssuerFromAuthorizationURL(c.AuthorizationURL)
		if err != nil {
			r.Problemf("authorizationUrl", "%v", err)
			break
		}
		c.TenantID = tenant
		c.MetadataURL = issuer
		disc, iss, err := oidc.DiscoveryURL(issuer)
		if err != nil {
			r.Problemf("authorizationUrl", "%v", err)
			break
		}
		c.DiscoveryURL, c.ExpectedIssuer = disc, iss
	}
	return c
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
func New(cfg Config, deps oidc.Deps) (*Provider, error) {
	p, err := oidc.NewVariant(cfg.Config, deps, Variant)
	if err != nil {
		return nil, fmt.Errorf("spectrocloud: %w", err)
	}
	return &Provider{Provider: p, cfg: cfg}, nil
}

// SpectroCloudConfig returns the provider's configuration.
func (p *Provider) SpectroCloudConfig() Config { return p.cfg }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
