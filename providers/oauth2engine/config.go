package oauth2engine

import (
	"net/url"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// ClientConfig are the keys every passport-based module's environment has: clientId
// and clientSecret (required), additionalScopes (read by Backstage's
// createOAuthProviderFactory for every provider) and ours, timeout. A vendor's config
// embeds it (config.Decode reads embedded structs inline) and calls Check from its
// Validate.
type ClientConfig struct {
	ClientID     string `config:"clientId,required"`
	ClientSecret string `config:"clientSecret,required"`
	// AdditionalScopes: a string split on whitespace, commas and pipes, or a list.
	AdditionalScopes config.StringOrList `config:"additionalScopes"`
	// Timeout bounds each upstream call (ours; default 10s).
	Timeout time.Duration `config:"timeout"`
}

// NewClientConfig returns the defaults.
func NewClientConfig() ClientConfig { return ClientConfig{Timeout: DefaultTimeout} }

// Check reports the problems of the common keys.
func (c *ClientConfig) Check(sec config.Section) config.Problems {
	var ps config.Problems
	if sec.Has("timeout") && c.Timeout <= 0 {
		ps = append(ps, sec.Problem("timeout", "must be greater than zero"))
	}
	return ps
}

// Engine returns the engine Config for these keys; the vendor adds its endpoints,
// scopes and options.
func (c *ClientConfig) Engine() Config {
	return Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Timeout: c.Timeout}
}

// ScopeOptionRemoved is the startup error of the modules that refuse the old `scope`
// key (oauth2, oidc, pinniped): `The <provider> provider no longer supports the
// "scope" configuration option. Please use the "additionalScopes" option instead.`
func ScopeOptionRemoved(provider string) string {
	return `The ` + provider + ` provider no longer supports the "scope" configuration option. Please use the "additionalScopes" option instead.`
}

// CheckHTTPURL reports a problem at key unless raw is an absolute http(s) URL with a
// host and no user info; raw "" is not checked (required keys are checked by Decode).
func CheckHTTPURL(sec config.Section, key, raw string) config.Problems {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return config.Problems{sec.Problem(key, "must be an absolute http(s) URL, got %q", raw)}
	}
	if u.User != nil {
		return config.Problems{sec.Problem(key, "must not carry user info (credentials belong in clientId and clientSecret), got a URL with a user name")}
	}
	return nil
}

// CheckBaseURL checks the base URL a provider derives its endpoints from: raw, with
// white space and one trailing slash dropped, must be an absolute http(s) URL (as
// CheckHTTPURL) with no query or fragment, not even an empty one ("?", "#"), since the
// endpoints are appended to it. It returns the trimmed URL; queryProblem is the
// problem's text for a query or fragment (", got <raw>" follows it). An empty raw
// passes as "" (whether it is required is the caller's rule).
func CheckBaseURL(sec config.Section, key, raw, queryProblem string) (string, config.Problems) {
	base := strings.TrimSuffix(strings.TrimSpace(raw), "/")
	if p := CheckHTTPURL(sec, key, base); p != nil {
		return "", p
	}
	if u, _ := url.Parse(base); base != "" && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(base, "#")) {
		return "", config.Problems{sec.Problem(key, "%s, got %q", queryProblem, raw)}
	}
	return base, nil
}
