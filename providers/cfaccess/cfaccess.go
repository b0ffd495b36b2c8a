package cfaccess

import (
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// Backstage's defaults for the header and the cookie the token is read from.
const (
	DefaultJWTHeaderName           = "cf-access-jwt-assertion"
	DefaultAuthorizationCookieName = "CF_Authorization"
)

// Paths under https://<teamName>.cloudflareaccess.com.
const (
	CertsPath    = "/cdn-cgi/access/certs"
	IdentityPath = "/cdn-cgi/access/get-identity"
)

// Config is auth.providers.cfaccess (flat: a proxy provider has no environments).
type Config struct {
	// TeamName is <team> in <team>.cloudflareaccess.com.
	TeamName string `config:"teamName,required"`
	// Audience is the Access application's AUD tag; required, as in Backstage 0.5.
	Audience                string         `config:"audience,required"`
	JWTHeaderName           string         `config:"jwtHeaderName"`
	AuthorizationCookieName string         `config:"authorizationCookieName"`
	ServiceTokens           []ServiceToken `config:"serviceTokens"`
}

// ServiceToken lets a Cloudflare Access service token sign in as subject.
type ServiceToken struct {
	// Token is the service token's Client ID (the JWT's common_name).
	Token string `config:"token,required"`
	// Subject is the email the service token signs in as.
	Subject string `config:"subject,required"`
}

// NewConfig returns a Config with Backstage's defaults.
func NewConfig() *Config {
	return &Config{JWTHeaderName: DefaultJWTHeaderName, AuthorizationCookieName: DefaultAuthorizationCookieName}
}

// Module registers the Cloudflare Access provider. Its own
// emailMatchingUserEntityProfileEmail is replaced by the common one in Backstage (the
// common resolvers are spread after it), so it adds none.
var Module = providers.Module{
	ID:        "cfaccess",
	Kind:      providers.KindProxy,
	NewConfig: func() providers.Config { return NewConfig() },
}

var (
	// A team name is one DNS label: anything else would move the key and identity
	// requests to another host (teamName "evil.example/x" -> https://evil.example/...).
	teamLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	// httpToken is RFC 9110's token (header and cookie names).
	httpToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	var ps config.Problems
	if c.TeamName != "" && !teamLabel.MatchString(c.TeamName) {
		ps = append(ps, sec.Problem("teamName", "must be the team name alone (the <team> of <team>.cloudflareaccess.com, one DNS label), got %q", c.TeamName))
	}
	if c.JWTHeaderName == "" {
		c.JWTHeaderName = DefaultJWTHeaderName
	} else if !httpToken.MatchString(c.JWTHeaderName) {
		ps = append(ps, sec.Problem("jwtHeaderName", "must be an HTTP header name, got %q", c.JWTHeaderName))
	}
	if c.AuthorizationCookieName == "" {
		c.AuthorizationCookieName = DefaultAuthorizationCookieName
	} else if !httpToken.MatchString(c.AuthorizationCookieName) {
		ps = append(ps, sec.Problem("authorizationCookieName", "must be a cookie name, got %q", c.AuthorizationCookieName))
	}
	seen := map[string]bool{}
	for i, st := range c.ServiceTokens {
		if st.Token != "" && seen[st.Token] {
			ps = append(ps, sec.Problem(fmt.Sprintf("serviceTokens[%d].token", i), "lists the service token %q a second time", st.Token))
		}
		seen[st.Token] = true
	}
	return ps
}

// Build implements providers.Config; it does not touch the network.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Limits of the calls to Cloudflare.
const (
	callTimeout      = 10 * time.Second
	maxIdentityBytes = 1 << 20
	// identityTTL bounds how long a get-identity answer is reused for the token it
	// was fetched with, so group changes and revocations are seen within it.
	identityTTL       = 5 * time.Minute
	maxIdentityCached = 10000
	// keysMaxAge is jose's createRemoteJWKSet cache age, as Backstage fetches the certs.
	keysMaxAge = 10 * time.Minute
)

// New returns the provider for a validated cfg.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.TeamName == "" || cfg.Audience == "" || cfg.JWTHeaderName == "" {
		return nil, fmt.Errorf("cfaccess: config is not validated")
	}
	log, now, client := deps.Logger, deps.Now, deps.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	origin := "https://" + cfg.TeamName + ".cloudflareaccess.com"
	keys, err := keyfetch.NewJWKS(origin+CertsPath, keyfetch.Options{
		Client: client, Now: now, Logger: log, Name: "cfaccess " + origin, Timeout: callTimeout, MaxAge: keysMaxAge,
		// Cloudflare Access signs with RS256 only.
		Algs: []string{"RS256"},
	})
	if err != nil {
		return nil, fmt.Errorf("cfaccess: %w", err)
	}
	tokens := make(map[string]string, len(cfg.ServiceTokens))
	for _, st := range cfg.ServiceTokens {
		tokens[st.Token] = st.Subject
	}
	return &Provider{
		cfg: cfg, issuer: origin, identityURL: origin + IdentityPath, keys: keys,
		client: client, now: now, log: log, serviceTokens: tokens, cache: newIdentityCache(maxIdentityCached),
	}, nil
}
