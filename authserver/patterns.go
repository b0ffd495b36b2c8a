package authserver

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// urlPattern is Backstage's createUrlPatternMatcher: "*" matches everything; otherwise
// the pattern is a URL whose protocol must be equal, whose hostname and path are
// `matcher` globs (case-insensitive, "*" matches any run of characters within that
// component), and whose port must be equal unless it is ":*".
type urlPattern struct {
	all        bool
	scheme     string
	host, path glob
	anyPort    bool
	port       string
	exact      bool // no wildcard: the pattern names one URL
	source     string
}

var (
	wildcardPort     = regexp.MustCompile(`:\*(/|$)`)
	explicitProtocol = regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*:`)
)

func compilePattern(p string) (*urlPattern, error) {
	if p == "*" {
		return &urlPattern{all: true, source: p}, nil
	}
	if !explicitProtocol.MatchString(p) {
		return nil, fmt.Errorf("invalid URL pattern '%s', an explicit protocol is required", p)
	}
	anyPort := strings.Contains(p, "://") && wildcardPort.MatchString(p)
	src := p
	if anyPort {
		src = wildcardPort.ReplaceAllString(p, ":1$1")
	}
	u, err := url.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("invalid URL pattern '%s'", p)
	}
	pu := canonURL(u)
	host := pu.hostname
	if host == "" {
		host = "*"
	}
	path := pu.path
	if path == "" {
		path = "*"
	}
	return &urlPattern{
		scheme: pu.scheme, host: newGlob(host), path: newGlob(path), anyPort: anyPort, port: pu.port,
		exact: !strings.ContainsAny(p, "*?"), source: p,
	}, nil
}

func (p *urlPattern) match(u canon) bool {
	if p.all {
		return true
	}
	return u.scheme == p.scheme && p.host.match(u.hostname) && (p.anyPort || u.port == p.port) && p.path.match(u.path)
}

// canon is the parts of a URL as the WHATWG URL parser exposes them: lower-case
// scheme and hostname (IPv6 in brackets), the port without the scheme's default, and
// a path that is "/" for special schemes without one.
type canon struct {
	scheme, hostname, port, path, rawQuery, fragment string
	hasQuery, hasFragment, hasUser                   bool
}

var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}

func canonURL(u *url.URL) canon {
	c := canon{scheme: strings.ToLower(u.Scheme), path: u.EscapedPath(), rawQuery: u.RawQuery, fragment: u.EscapedFragment(),
		hasQuery: u.ForceQuery || u.RawQuery != "", hasFragment: u.Fragment != "" || u.RawFragment != "", hasUser: u.User != nil}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	c.hostname = host
	c.port = u.Port()
	if d, ok := defaultPorts[c.scheme]; ok {
		if c.port == d {
			c.port = ""
		}
		if c.path == "" {
			c.path = "/"
		}
	}
	return c
}

// parseAbsolute parses an absolute URL (a scheme is required, as by new URL()).
func parseAbsolute(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil, false
	}
	if _, special := defaultPorts[strings.ToLower(u.Scheme)]; special && u.Host == "" {
		return nil, false
	}
	return u, true
}

// glob is the `matcher` package's isMatch for one pattern: case-insensitive, "*"
// matches any run of characters, a leading "!" negates.
type glob struct {
	re     *regexp.Regexp
	negate bool
}

func newGlob(p string) glob {
	g := glob{}
	if strings.HasPrefix(p, "!") {
		g.negate = true
		p = p[1:]
	}
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	g.re = regexp.MustCompile(`(?is)^` + strings.Join(parts, ".*") + `$`)
	return g
}

func (g glob) match(s string) bool { return g.re.MatchString(s) != g.negate }

// isLoopbackHost reports the hosts RFC 8252 redirect URIs may use with any port.
func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "[::1]"
}

// publicUnicast reports whether ip is a public unicast address: ipaddr.js's range()
// "unicast", the test Backstage's CIMD fetch applies to the DNS answer.
func publicUnicast(ip net.IP) bool {
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, n := range nonPublicNets {
		if n.Contains(ip) {
			return false
		}
	}
	return true
}

var nonPublicNets = func() []*net.IPNet {
	var out []*net.IPNet
	for _, c := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10",
	} {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}()
