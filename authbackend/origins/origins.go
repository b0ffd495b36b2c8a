package origins

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// Messages Backstage uses for these failures (plugin-auth-node).
const (
	msgOriginInvalid       = "App origin is invalid, failed to parse"
	msgNoRedirectURL       = "No redirectUrl provided in request query parameters"
	msgRedirectInvalid     = "Redirect URL is invalid, failed to parse"
	msgRedirectNotAllowed  = "Redirect URL is not an allowed origin"
	defaultPortHTTP        = "80"
	defaultPortHTTPS       = "443"
	maxURLLength           = 8192
	errReasonNotHTTP       = "scheme is not http or https"
	errReasonNotAbsolute   = "not an absolute URL"
	errReasonAmbiguousHost = "ambiguous host"
)

// Matcher decides whether an origin may receive sign-in results: the app.baseUrl
// origin, or a match of an auth.experimentalExtraAllowedOrigins pattern.
type Matcher struct {
	appOrigin string
	extra     Patterns
}

// NewMatcher builds a Matcher from app.baseUrl and the extra allowed-origin patterns
// (auth.experimentalExtraAllowedOrigins, named with their index in errors).
func NewMatcher(appBaseURL string, extra []string) (*Matcher, error) {
	appOrigin, err := parseOrigin(appBaseURL)
	if err != nil {
		return nil, fmt.Errorf("app.baseUrl %q: %w", appBaseURL, err)
	}
	m := &Matcher{appOrigin: appOrigin}
	for i, p := range extra {
		if err := m.extra.Add(fmt.Sprintf("auth.experimentalExtraAllowedOrigins[%d]", i), p); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// AppOrigin is the origin of app.baseUrl, e.g. "http://127.0.0.1:3000": the default
// postMessage target and redirect target for errors.
func (m *Matcher) AppOrigin() string { return m.appOrigin }

// Allowed reports whether origin (already normalised, e.g. by ParseOrigin or taken
// from an Origin header) equals the app origin or matches an extra pattern. Unlike
// Backstage, patterns are only tried on canonical origins: minimatch would let
// "https://evil.com?.example.com" match "https://*.example.com".
func (m *Matcher) Allowed(origin string) bool {
	if origin == m.appOrigin {
		return true
	}
	if m.extra.Len() == 0 {
		return false
	}
	if canon, err := parseOrigin(origin); err != nil || canon != strings.ToLower(origin) {
		return false
	}
	return m.extra.Match(origin)
}

// ParseOrigin returns the origin of raw the way `new URL(raw).origin` would serialise
// it (lower-case scheme and host, default port dropped). It refuses input a browser
// would have to repair (see the package doc), so the result is never different from
// the browser's. Failures are InputError "App origin is invalid, failed to parse".
func ParseOrigin(raw string) (string, error) {
	o, err := parseOrigin(raw)
	if err != nil {
		// Backstage's message carries no "; caused by"; the reason stays in Cause for logs.
		return "", &backstageerr.Error{Name: backstageerr.NameInput, Message: msgOriginInvalid, Cause: err}
	}
	return o, nil
}

// CheckRedirectURL validates a redirect-flow redirectUrl and returns the normalised
// URL to redirect to. Missing and unparsable URLs are InputErrors; anything else that
// is not an absolute http(s) URL with an allowed origin, or that browsers and Go could
// read differently, is NotAllowedError "Redirect URL is not an allowed origin".
func (m *Matcher) CheckRedirectURL(raw string) (string, error) {
	if raw == "" {
		return "", backstageerr.Input(msgNoRedirectURL)
	}
	notAllowed := func(reason string) error {
		return &backstageerr.Error{Name: backstageerr.NameNotAllowed, Message: msgRedirectNotAllowed, Cause: errors.New(reason)}
	}
	if len(raw) > maxURLLength {
		return "", notAllowed("too long")
	}
	if reason := unsafeChars(raw); reason != "" {
		return "", notAllowed(reason)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", &backstageerr.Error{Name: backstageerr.NameInput, Message: msgRedirectInvalid, Cause: err}
	}
	if u.Scheme == "" {
		// new URL() without a base rejects relative and protocol-relative URLs.
		return "", &backstageerr.Error{Name: backstageerr.NameInput, Message: msgRedirectInvalid, Cause: errors.New(errReasonNotAbsolute)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", notAllowed(errReasonNotHTTP)
	}
	scheme, host, err := splitAuthority(raw)
	if err != nil {
		return "", notAllowed(err.Error())
	}
	origin := scheme + "://" + host
	if !m.Allowed(origin) {
		return "", notAllowed("origin " + origin + " is not allowed")
	}
	// Rebuild from the checked pieces rather than echoing raw.
	out := origin + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	// Defence in depth: the string we hand out must re-parse to the same origin.
	re, err := url.Parse(out)
	if err != nil || re.User != nil || re.Scheme != scheme || re.Host != host {
		return "", notAllowed("does not re-parse to the checked origin")
	}
	return out, nil
}

// parseOrigin is ParseOrigin without the Backstage error wrapping.
func parseOrigin(raw string) (string, error) {
	if len(raw) > maxURLLength {
		return "", errors.New("too long")
	}
	if reason := unsafeChars(raw); reason != "" {
		return "", errors.New(reason)
	}
	if _, err := url.Parse(raw); err != nil {
		return "", err
	}
	scheme, host, err := splitAuthority(raw)
	if err != nil {
		return "", err
	}
	return scheme + "://" + host, nil
}

// unsafeChars rejects characters WHATWG parsers strip or reinterpret: C0 controls,
// space, DEL, backslash (read as '/' by browsers) and non-ASCII bytes.
func unsafeChars(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= 0x20 || c == 0x7f:
			return "control character or whitespace"
		case c == '\\':
			return "backslash"
		case c >= 0x80:
			return "non-ASCII character"
		}
	}
	return ""
}

// splitAuthority reads "scheme://authority" from the start of raw and returns the
// lower-case scheme and the canonical host[:port] (default port dropped). The
// authority must be a plain host: no userinfo, no percent-escapes, exactly two
// slashes, a valid port, and an IP literal only in canonical form.
func splitAuthority(raw string) (scheme, hostport string, err error) {
	colon := strings.IndexByte(raw, ':')
	if colon <= 0 {
		return "", "", errors.New(errReasonNotAbsolute)
	}
	scheme = strings.ToLower(raw[:colon])
	if scheme != "http" && scheme != "https" {
		return "", "", errors.New(errReasonNotHTTP)
	}
	rest := raw[colon+1:]
	if !strings.HasPrefix(rest, "//") || strings.HasPrefix(rest, "///") {
		return "", "", errors.New("scheme must be followed by exactly two slashes")
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if strings.ContainsAny(authority, "@%") {
		return "", "", errors.New("userinfo or escapes in the authority")
	}
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		closeIdx := strings.IndexByte(authority, ']')
		if closeIdx < 0 {
			return "", "", errors.New("unterminated IPv6 literal")
		}
		host, port = authority[:closeIdx+1], authority[closeIdx+1:]
		if port != "" {
			if port[0] != ':' {
				return "", "", errors.New("junk after IPv6 literal")
			}
			port = port[1:]
		}
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
	}
	host, err = canonicalHost(host)
	if err != nil {
		return "", "", err
	}
	if port != "" {
		n, perr := strconv.ParseUint(port, 10, 16)
		if perr != nil || strings.TrimLeft(port, "0123456789") != "" {
			return "", "", fmt.Errorf("invalid port %q", port)
		}
		port = strconv.FormatUint(n, 10)
		if (scheme == "http" && port == defaultPortHTTP) || (scheme == "https" && port == defaultPortHTTPS) {
			port = ""
		}
	}
	if port != "" {
		return scheme, host + ":" + port, nil
	}
	return scheme, host, nil
}

// canonicalHost lower-cases a DNS name or canonicalises an IP literal. Hosts a
// browser would reinterpret (numeric-looking last labels that are not a canonical
// dotted quad, IPv4-mapped IPv6, zones, empty labels) are refused.
func canonicalHost(h string) (string, error) {
	if h == "" {
		return "", errors.New("empty host")
	}
	if strings.HasPrefix(h, "[") {
		addr, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !addr.Is6() || addr.Is4In6() || addr.Zone() != "" {
			return "", errors.New("invalid IPv6 literal")
		}
		return "[" + addr.String() + "]", nil
	}
	h = strings.ToLower(h)
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", errors.New("empty or oversized host label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("invalid host character %q", c)
			}
		}
	}
	last := labels[len(labels)-1]
	if looksNumeric(last) {
		// WHATWG parses such hosts as IPv4 (octal, hex, short forms); accept only
		// the canonical dotted quad, which every parser reads the same way.
		addr, err := netip.ParseAddr(h)
		if err != nil || !addr.Is4() || addr.String() != h {
			return "", errors.New(errReasonAmbiguousHost)
		}
	}
	return h, nil
}

func looksNumeric(label string) bool {
	if strings.HasPrefix(label, "0x") {
		return true
	}
	return strings.Trim(label, "0123456789") == ""
}
