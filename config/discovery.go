package config

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// pluginIDPattern is Backstage's /\{\{\s*pluginId\s*\}\}/g.
var pluginIDPattern = regexp.MustCompile(`\{\{\s*pluginId\s*\}\}`)

// endpointFor returns the first discovery.endpoints entry listing pluginID or "*".
func (c *Config) endpointFor(pluginID string) (DiscoveryEndpoint, bool) {
	for _, e := range c.Discovery.Endpoints {
		for _, p := range e.Plugins {
			if p == pluginID || p == "*" {
				return e, true
			}
		}
	}
	return DiscoveryEndpoint{}, false
}

// HasDiscoveryEndpoint reports whether an explicit discovery.endpoints entry lists
// pluginID (an entry for "*" lists every plugin).
func (c *Config) HasDiscoveryEndpoint(pluginID string) bool {
	_, ok := c.endpointFor(pluginID)
	return ok
}

// ExternalBaseURL is Backstage's discovery.getExternalBaseUrl(pluginID): the
// discovery.endpoints target (string or target.external) with {{pluginId}} replaced,
// else backend.baseUrl (trailing slashes trimmed) + "/api/" + pluginID.
func (c *Config) ExternalBaseURL(pluginID string) string {
	if e, ok := c.endpointFor(pluginID); ok && e.External != "" {
		return expandPluginID(e.External, pluginID)
	}
	return strings.TrimRight(c.Backend.BaseURL, "/") + "/api/" + encodeURIComponent(pluginID)
}

// InternalBaseURL is Backstage's discovery.getBaseUrl(pluginID): the
// discovery.endpoints target (string or target.internal), else
// http(s)://<listen host>:<listen port>/api/<pluginID>, where an empty or "::" host
// becomes localhost and "0.0.0.0" becomes 127.0.0.1.
func (c *Config) InternalBaseURL(pluginID string) string {
	if e, ok := c.endpointFor(pluginID); ok && e.Internal != "" {
		return expandPluginID(e.Internal, pluginID)
	}
	scheme := "http"
	if c.Backend.HTTPS {
		scheme = "https"
	}
	host := c.Backend.Listen.Host
	switch host {
	case "", "::":
		host = "localhost"
	case "0.0.0.0":
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(c.Backend.Listen.Port)) + "/api/" + encodeURIComponent(pluginID)
}

// AuthBaseURL is the external base URL of the auth plugin without a trailing slash:
// the token issuer (`iss`) and the base of every OAuth callback URL.
func (c *Config) AuthBaseURL() string {
	return strings.TrimRight(c.ExternalBaseURL("auth"), "/")
}

// AppOrigin is the origin of app.baseUrl (scheme://host[:port], default port
// omitted), as `new URL(app.baseUrl).origin`; "" when app.baseUrl is not a URL.
func (c *Config) AppOrigin() string { return Origin(c.App.BaseURL) }

// Origin returns the serialized origin of an absolute http(s) URL, or "".
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

func expandPluginID(target, pluginID string) string {
	return pluginIDPattern.ReplaceAllLiteralString(target, encodeURIComponent(pluginID))
}

// encodeURIComponent matches JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( )
// is percent-encoded as UTF-8.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
