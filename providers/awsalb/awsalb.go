package awsalb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/proxyjwt"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Backstage's header names and messages.
const (
	JWTHeader         = "x-amzn-oidc-data"
	AccessTokenHeader = "x-amzn-oidc-accesstoken"

	MsgMissingHeader  = "Missing ALB OIDC header: "
	MsgJWTProcessing  = "Exception occurred during JWT processing"
	MsgIssuerMismatch = "Issuer mismatch on JWT token"
	MsgSignerMismatch = "Signer mismatch on JWT token"
	MsgMissingEmail   = "Missing email in the JWT token"
	// MsgKeys is ours: the region's key endpoint could not be asked (503).
	MsgKeys = "Unable to fetch the load balancer's public key"
)

// MaxClockSkew bounds clockSkew (Backstage tolerates none, the default).
const MaxClockSkew = 5 * time.Minute

// keyMaxAge: a kid's key never changes (AWS publishes a new kid), and Backstage caches
// each for an hour.
const keyMaxAge = time.Hour

// Config is auth.providers.awsalb.
type Config struct {
	// Issuer must equal the JWT's iss (the IdP issuer configured on the listener rule).
	Issuer string `config:"issuer"`
	// Region is the load balancer's region (where its keys are published).
	Region string `config:"region"`
	// Signer, when set, must equal the JWT header's signer (the load balancer's ARN).
	Signer string `config:"signer"`
	// ClockSkew (ours) is tolerated on exp and nbf.
	ClockSkew time.Duration `config:"clockSkew"`
}

// Module registers awsalb.
var Module = providers.Module{
	ID:        "awsalb",
	Kind:      providers.KindProxy,
	NewConfig: func() providers.Config { return &Config{} },
	Resolvers: []resolvers.Factory{EmailMatchingUserEntityProfileEmail()},
}

// reRegion is an AWS region name (us-east-1, us-gov-west-1, ap-southeast-2, ...): it
// becomes part of the key endpoint's host name.
var reRegion = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	var ps config.Problems
	if c.Issuer == "" {
		ps = append(ps, sec.Problem("issuer", "missing required config value"))
	}
	switch {
	case c.Region == "":
		ps = append(ps, sec.Problem("region", "missing required config value"))
	case !reRegion.MatchString(c.Region):
		ps = append(ps, sec.Problem("region", "must be an AWS region such as us-east-1, got %q", c.Region))
	}
	if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
		ps = append(ps, sec.Problem("clockSkew", "must be between 0s and %s, got %s", MaxClockSkew, c.ClockSkew))
	}
	if c.Signer == "" {
		ps = append(ps, sec.Warning("signer", "not set: a token signed by any load balancer in %s with issuer %q is accepted, including one in another AWS account; set it to this load balancer's ARN", c.Region, c.Issuer))
		return ps
	}
	// arn:<partition>:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>
	parts := strings.SplitN(c.Signer, ":", 6)
	switch {
	case len(parts) != 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" || !strings.HasPrefix(parts[5], "loadbalancer/app/"):
		ps = append(ps, sec.Problem("signer", "must be an Application Load Balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>), got %q", c.Signer))
	case c.Region != "" && parts[3] != c.Region:
		ps = append(ps, sec.Problem("signer", "is a load balancer in %s, but region is %s: its tokens could never verify", parts[3], c.Region))
	}
	return ps
}

// KeyEndpoint is where a region's load balancer keys are published (Backstage's
// getPublicKeyEndpoint): <endpoint>/<kid> is the PEM key.
func KeyEndpoint(region string) string {
	if strings.HasPrefix(region, "us-gov") {
		return "https://s3-" + region + ".amazonaws.com/aws-elb-public-keys-prod-" + region
	}
	return "https://public-keys.auth.elb." + region + ".amazonaws.com"
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) {
	base := KeyEndpoint(c.Region)
	keys, err := keyfetch.NewPEMPerKID(func(kid string) string { return base + "/" + url.PathEscape(kid) }, keyfetch.Options{
		Client: deps.HTTPClient, Now: deps.Now, Logger: deps.Logger, Name: "awsalb " + base,
		Algs: []string{"ES256"}, MaxAge: keyMaxAge,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{issuer: c.Issuer, signer: c.Signer, keys: keys,
		// iss is compared below, after the signature, with Backstage's message.
		expect: proxyjwt.Expect{IssuerOK: func(string, map[string]any) bool { return true }, Leeway: c.ClockSkew, Now: deps.Now},
	}, nil
}

// Provider is the built awsalb provider.
type Provider struct {
	issuer, signer string
	keys           *keyfetch.Fetcher
	expect         proxyjwt.Expect
}

var _ providers.ProxyProvider = (*Provider)(nil)

// providerInfo is Backstage's: expiresInSeconds is the token's exp, an absolute time
// in seconds (mislabelled in Backstage, kept for its clients).
type providerInfo struct {
	AccessToken      string `json:"accessToken"`
	ExpiresInSeconds any    `json:"expiresInSeconds,omitempty"`
}

// AuthenticateRequest implements providers.ProxyProvider.
func (p *Provider) AuthenticateRequest(ctx context.Context, r *http.Request) (providers.ProxyResult, error) {
	jwt, ok := header(r, JWTHeader)
	if !ok {
		return providers.ProxyResult{}, backstageerr.Authentication("%s%s", MsgMissingHeader, JWTHeader)
	}
	accessToken, ok := header(r, AccessTokenHeader)
	if !ok {
		return providers.ProxyResult{}, backstageerr.Authentication("%s%s", MsgMissingHeader, AccessTokenHeader)
	}
	tok, err := proxyjwt.VerifyWithoutAudience(ctx, p.keys, jwt, p.expect)
	if err != nil {
		return providers.ProxyResult{}, proxyjwt.AsBackstageCaused(err, MsgJWTProcessing, MsgKeys)
	}
	if iss, _ := tok.Claims["iss"].(string); iss != p.issuer {
		return providers.ProxyResult{}, backstageerr.Authentication(MsgIssuerMismatch)
	}
	if signer, _ := proxyjwt.HeaderOf(tok)["signer"].(string); p.signer != "" && signer != p.signer {
		return providers.ProxyResult{}, backstageerr.Authentication(MsgSignerMismatch)
	}
	email, _ := tok.Claims["email"].(string)
	if email == "" {
		return providers.ProxyResult{}, backstageerr.Authentication(MsgMissingEmail)
	}
	return providers.ProxyResult{
		Profile:      profile(tok.Claims, email, accessToken),
		ProviderInfo: providerInfo{AccessToken: accessToken, ExpiresInSeconds: tok.Claims["exp"]},
		Claims:       tok.Claims,
	}, nil
}

// header is a request header and whether it was sent at all (Backstage tells an empty
// header from a missing one).
func header(r *http.Request, name string) (string, bool) {
	v, ok := r.Header[http.CanonicalHeaderKey(name)]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// profile is Backstage's makeProfileInfo of the ALB claims: email; picture; displayName
// = name, else the email's local part (JavaScript's ??: an empty name stays empty).
// When picture or displayName is still empty, a JWT access token fills them from its
// own picture and name claims, as Backstage does. That token is not verified, so only
// those two display fields are taken from it, and an access token that is not a JWT
// leaves them empty (Backstage fails the sign-in with a 500).
func profile(claims map[string]any, email, accessToken string) providers.Profile {
	p := providers.Profile{Email: email}
	p.Picture, _ = claims["picture"].(string)
	if name, ok := claims["name"].(string); ok {
		p.DisplayName = name
	} else {
		p.DisplayName, _, _ = strings.Cut(email, "@")
	}
	if (p.Picture == "" || p.DisplayName == "") && accessToken != "" {
		at := unverifiedClaims(accessToken)
		if s, _ := at["picture"].(string); p.Picture == "" && s != "" {
			p.Picture = s
		}
		if s, _ := at["name"].(string); p.DisplayName == "" && s != "" {
			p.DisplayName = s
		}
	}
	return p
}

// unverifiedClaims decodes a JWT's payload without verifying it (nil when it is not
// a JWT).
func unverifiedClaims(raw string) map[string]any {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(raw) > 64<<10 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}
