package authserver

import (
	"net/url"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// StaticClient is one auth.staticClients entry.
type StaticClient struct {
	ClientID     string   `config:"clientId,required"`
	ClientName   string   `config:"clientName"`
	ClientSecret string   `config:"clientSecret"`
	RedirectURIs []string `config:"redirectUris,required"`
}

// CIMDSettings is auth.clientIdMetadataDocuments (or, only when that is absent, the
// deprecated auth.experimentalClientIdMetadataDocuments).
type CIMDSettings struct {
	Enabled                    bool     `config:"enabled"`
	AllowedClientIDPatterns    []string `config:"allowedClientIdPatterns"`
	AllowedRedirectURIPatterns []string `config:"allowedRedirectUriPatterns"`
	// Documents are ours: client metadata documents served from config at
	// /.well-known/oauth-client/<name>.json (besides the CLI's cli.json).
	Documents map[string]ClientDocument `config:"-"`
}

// ClientDocument is one auth.clientIdMetadataDocuments.clients entry (ours).
type ClientDocument struct {
	ClientName   string   `config:"clientName"`
	RedirectURIs []string `config:"redirectUris,required"`
	Scope        string   `config:"scope"`
}

// RefreshSettings is auth.experimentalRefreshToken.
type RefreshSettings struct {
	Enabled                                bool          `config:"enabled"`
	TokenLifetime                          time.Duration `config:"tokenLifetime"`
	MaxRotationLifetime                    time.Duration `config:"maxRotationLifetime"`
	MaxTokensPerUser                       int           `config:"maxTokensPerUser"`
	DangerouslyDisableCatalogPresenceCheck bool          `config:"dangerouslyDisableCatalogPresenceCheck"`
}

// Settings are the authorization server's configuration.
type Settings struct {
	StaticClients []StaticClient
	CIMD          CIMDSettings
	Refresh       RefreshSettings
	// hasCIMDPatterns records whether allowedClientIdPatterns was configured (it then
	// replaces the defaults) and likewise for the redirect patterns.
	hasClientPatterns, hasRedirectPatterns bool
}

// Backstage's defaults (OidcService.getCimdConfig, OfflineAccessService.create).
var (
	defaultClientIDPatterns = []string{
		"https://claude.ai/*",
		"https://vscode.dev/*",
		"https://chatgpt.com/oauth/codex/*/client.json",
		"https://cursor.com/oauth/mcp-client.json",
	}
	defaultRedirectPatterns = []string{
		"http://localhost:*/*",
		"http://localhost/*",
		"http://127.0.0.1:*/*",
		"http://127.0.0.1/*",
		"http://[::1]:*/*",
		"http://[::1]/*",
	}
)

const (
	defaultTokenLifetime       = 30 * 24 * time.Hour
	defaultMaxRotationLifetime = 365 * 24 * time.Hour
	defaultMaxTokensPerUser    = 20
)

// DecodeSettings reads the authorization server's keys of the auth section. Every
// problem is returned; a config Backstage refuses at start-up is an error here too.
func DecodeSettings(auth config.Section) (Settings, config.Problems) {
	var st Settings
	var problems config.Problems

	if auth.Has("staticClients") {
		var wrap struct {
			Clients []StaticClient `config:"staticClients"`
		}
		problems = append(problems, config.Decode(auth, &wrap, config.DecodeOptions{Unknown: config.UnknownKeysIgnore})...)
		seen := map[string]bool{}
		for i, c := range wrap.Clients {
			key := "staticClients[" + itoa(i) + "]"
			if c.ClientID == "" {
				continue // reported by Decode
			}
			if u, err := url.Parse(c.ClientID); err == nil && u.Scheme != "" {
				problems = append(problems, auth.Problem(key+".clientId", "invalid client ID '%s': client IDs must not be URLs", c.ClientID))
			}
			if seen[c.ClientID] {
				problems = append(problems, auth.Problem(key+".clientId", "duplicate client ID '%s'", c.ClientID))
			}
			seen[c.ClientID] = true
			if len(c.RedirectURIs) == 0 {
				problems = append(problems, auth.Problem(key+".redirectUris", "client '%s' must have at least one redirect URI", c.ClientID))
			}
			for _, r := range c.RedirectURIs {
				if !parsableURL(r) {
					problems = append(problems, auth.Problem(key+".redirectUris", "invalid redirect URI '%s' for client '%s'", r, c.ClientID))
				}
			}
			if c.ClientName == "" {
				c.ClientName = c.ClientID
			}
			st.StaticClients = append(st.StaticClients, c)
		}
	}

	cimdKey := "clientIdMetadataDocuments"
	if !auth.Has(cimdKey) {
		cimdKey = "experimentalClientIdMetadataDocuments"
	}
	cimd := auth.Sub(cimdKey)
	problems = append(problems, config.Decode(cimd, &st.CIMD, config.DecodeOptions{Known: []string{"clients"}})...)
	st.hasClientPatterns = cimd.Has("allowedClientIdPatterns")
	st.hasRedirectPatterns = cimd.Has("allowedRedirectUriPatterns")
	for _, p := range st.CIMD.AllowedClientIDPatterns {
		if _, err := compilePattern(p); err != nil {
			problems = append(problems, cimd.Problem("allowedClientIdPatterns", "%s", err.Error()))
		}
	}
	for _, p := range st.CIMD.AllowedRedirectURIPatterns {
		if _, err := compilePattern(p); err != nil {
			problems = append(problems, cimd.Problem("allowedRedirectUriPatterns", "%s", err.Error()))
		}
	}
	if cimd.IsObject("clients") {
		clients := cimd.Sub("clients")
		st.CIMD.Documents = map[string]ClientDocument{}
		for _, name := range clients.Keys() {
			if !validDocName(name) || name == "cli" {
				problems = append(problems, clients.Problem(name, "client document name %q must be lower-case letters, digits and '-', and not 'cli'", name))
				continue
			}
			var d ClientDocument
			problems = append(problems, config.Decode(clients.Sub(name), &d, config.DecodeOptions{})...)
			for _, r := range d.RedirectURIs {
				if !parsableURL(r) {
					problems = append(problems, clients.Problem(name+".redirectUris", "invalid redirect URI '%s'", r))
				}
			}
			st.CIMD.Documents[name] = d
		}
	}

	r := auth.Sub("experimentalRefreshToken")
	st.Refresh = RefreshSettings{TokenLifetime: defaultTokenLifetime, MaxRotationLifetime: defaultMaxRotationLifetime, MaxTokensPerUser: defaultMaxTokensPerUser}
	problems = append(problems, config.Decode(r, &st.Refresh, config.DecodeOptions{})...)
	if st.Refresh.Enabled {
		if st.Refresh.TokenLifetime <= 0 {
			problems = append(problems, r.Problem("tokenLifetime", "must be a positive duration"))
		}
		if st.Refresh.MaxRotationLifetime <= 0 {
			problems = append(problems, r.Problem("maxRotationLifetime", "must be a positive duration"))
		}
		if st.Refresh.MaxRotationLifetime <= st.Refresh.TokenLifetime {
			problems = append(problems, r.Problem("maxRotationLifetime", "must be greater than tokenLifetime"))
		}
		if st.Refresh.MaxTokensPerUser <= 0 {
			problems = append(problems, r.Problem("maxTokensPerUser", "must be a positive number"))
		}
	}
	return st, problems
}

func validDocName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func parsableURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
