package azureeasyauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// Easy Auth's headers, as Backstage reads them.
const (
	IDTokenHeader        = "x-ms-token-aad-id-token"
	AccessTokenHeader    = "x-ms-token-aad-access-token"
	PrincipalHeader      = "x-ms-client-principal"
	PrincipalIDHeader    = "x-ms-client-principal-id"
	PrincipalIDPHeader   = "x-ms-client-principal-idp"
	principalOIDClaim    = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	principalTenantClaim = "http://schemas.microsoft.com/identity/claims/tenantid"
)

// The App Service settings read at start-up.
const (
	EnvSKU             = "WEBSITE_SKU"
	EnvAuthEnabled     = "WEBSITE_AUTH_ENABLED"
	EnvDefaultProvider = "WEBSITE_AUTH_DEFAULT_PROVIDER"
	EnvTokenStore      = "WEBSITE_AUTH_TOKEN_STORE"
	EnvIssuer          = "WEBSITE_AUTH_OPENID_ISSUER"
	EnvClientID        = "WEBSITE_AUTH_CLIENT_ID"
)

// Config is auth.providers.azureEasyAuth: Backstage's module reads only signIn; the
// rest comes from App Service's environment.
type Config struct {
	// getenv reads the environment (os.Getenv; tests replace it).
	getenv func(string) string
}

// Module registers the Easy Auth provider.
var Module = providers.Module{
	ID:        "azureEasyAuth",
	Kind:      providers.KindProxy,
	NewConfig: func() providers.Config { return &Config{} },
	Resolvers: Resolvers(),
}

// Validate implements providers.Config (there are no keys of the module's own).
func (c *Config) Validate(config.Section) config.Problems { return nil }

// Build implements providers.Config: it checks App Service's environment as Backstage
// does (in its order and words), then the issuer and client id the token is verified
// against. It does not touch the network.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) {
	getenv := c.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env, err := readEnv(getenv)
	if err != nil {
		return nil, err
	}
	return New(env, deps)
}

// Env is what App Service tells the app about its Easy Auth setup.
type Env struct {
	// Authority is the Entra ID host (https://login.microsoftonline.com, or a national
	// cloud's); Tenant the issuer's tenant (a GUID, or common / organizations).
	Authority, Tenant string
	// ClientID is the app registration's client id: the ID token's aud.
	ClientID string
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// entraHosts are Entra ID's authority hosts; sts.windows.net and login.windows.net
// are aliases of login.microsoftonline.com, whose v2.0 tokens name it as issuer.
var entraHosts = map[string]string{
	"login.microsoftonline.com":        "login.microsoftonline.com",
	"sts.windows.net":                  "login.microsoftonline.com",
	"login.windows.net":                "login.microsoftonline.com",
	"login.microsoftonline.us":         "login.microsoftonline.us",
	"login.chinacloudapi.cn":           "login.chinacloudapi.cn",
	"login.partner.microsoftonline.cn": "login.partner.microsoftonline.cn",
}

func readEnv(getenv func(string) string) (Env, error) {
	// Backstage's checks, in its order and words.
	switch {
	case getenv(EnvSKU) == "":
		return Env{}, errors.New("Backstage is not running on Azure App Services")
	case !strings.EqualFold(getenv(EnvAuthEnabled), "true"):
		return Env{}, errors.New("Azure App Services does not have authentication enabled")
	case !strings.EqualFold(getenv(EnvDefaultProvider), "azureactivedirectory"):
		return Env{}, errors.New("Authentication provider is not Entra ID")
	case !strings.EqualFold(getenv(EnvTokenStore), "true"):
		return Env{}, errors.New("Token Store is not enabled")
	}
	var e Env
	e.ClientID = strings.TrimSpace(getenv(EnvClientID))
	if e.ClientID == "" {
		return Env{}, fmt.Errorf("%s is not set: the ID token's audience (the app registration's client id) is needed to verify it", EnvClientID)
	}
	raw := strings.TrimSpace(getenv(EnvIssuer))
	if raw == "" {
		return Env{}, fmt.Errorf("%s is not set: the Entra ID issuer (https://login.microsoftonline.com/<tenant id>/v2.0) is needed to verify the ID token", EnvIssuer)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" {
		return Env{}, fmt.Errorf("%s must be an https Entra ID issuer URL, got %q", EnvIssuer, raw)
	}
	host, ok := entraHosts[strings.ToLower(u.Hostname())]
	if !ok {
		return Env{}, fmt.Errorf("%s %q is not an Entra ID issuer (hosts: login.microsoftonline.com, sts.windows.net and the national clouds')", EnvIssuer, raw)
	}
	e.Authority = "https://" + host
	e.Tenant, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	switch t := strings.ToLower(e.Tenant); {
	case guid.MatchString(e.Tenant):
		e.Tenant = t
	case t == "common" || t == "organizations":
		e.Tenant = t
	default:
		return Env{}, fmt.Errorf("%s %q must name the tenant by its id (a GUID), or be common or organizations", EnvIssuer, raw)
	}
	return e, nil
}

// Limits of the key fetches.
const (
	callTimeout = 10 * time.Second
	keysMaxAge  = 5 * time.Minute
	// leeway is the clock tolerance of exp and nbf.
	leeway = time.Minute
)

// New returns the provider for env.
func New(env Env, deps providers.Deps) (*Provider, error) {
	log, now, client := deps.Logger, deps.Now, deps.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	keysURL := env.Authority + "/" + env.Tenant + "/discovery/v2.0/keys"
	keys, err := keyfetch.NewJWKS(keysURL, keyfetch.Options{
		Client: client, Now: now, Logger: log, Name: "azureEasyAuth " + env.Authority + "/" + env.Tenant,
		Timeout: callTimeout, MaxAge: keysMaxAge, Algs: []string{"RS256"},
	})
	if err != nil {
		return nil, fmt.Errorf("azureEasyAuth: %w", err)
	}
	if !guid.MatchString(env.Tenant) {
		log.Warn("azureEasyAuth: the issuer is multi-tenant: users of any Entra ID tenant sign in if the resolvers match them", "tenant", env.Tenant)
	}
	return &Provider{env: env, keys: keys, now: now, log: log}, nil
}
