package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// Limits of a Client ID Metadata Document fetch (Backstage's CimdClient), and how long
// a fetched document is reused (ours).
const (
	cimdFetchTimeout = 10 * time.Second
	cimdMaxBytes     = 64 * 1024
	cimdDefaultTTL   = time.Minute
	cimdMaxTTL       = 10 * time.Minute
	cimdCacheSize    = 1024
)

var forbiddenAuthMethods = map[string]bool{"client_secret_basic": true, "client_secret_post": true, "client_secret_jwt": true}

// dotSegment is Backstage's /\/\.\.?(\/|$)/, widened to the percent-encoded forms a
// WHATWG parser also treats as dot segments.
var dotSegment = regexp.MustCompile(`(?i)/(\.|%2e)((\.|%2e))?(/|\?|#|$)`)

// client is a resolved OAuth client.
type client struct {
	id           string
	name         string
	redirectURIs []string
	secret       string // static confidential clients only
	static       bool
}

// validateCIMDURL is Backstage's validateCimdUrl, stricter: a '?' or '#' is refused even
// when empty.
func validateCIMDURL(clientID string, development bool) (canon, error) {
	if dotSegment.MatchString(clientID) {
		return canon{}, backstageerr.Input("Invalid client_id: path must not contain dot segments")
	}
	u, ok := parseAbsolute(clientID)
	if !ok {
		return canon{}, backstageerr.Input("Invalid client_id: not a valid URL")
	}
	c := canonURL(u)
	localHTTP := c.scheme == "http" && (c.hostname == "localhost" || c.hostname == "127.0.0.1") && development
	if c.scheme != "https" && !localHTTP {
		return canon{}, backstageerr.Input("Invalid client_id: must use HTTPS (or HTTP for localhost in development)")
	}
	if c.path == "" || c.path == "/" {
		return canon{}, backstageerr.Input("Invalid client_id: must have a path component")
	}
	if c.hasFragment || strings.Contains(clientID, "#") {
		return canon{}, backstageerr.Input("Invalid client_id: must not contain a fragment")
	}
	if c.hasUser {
		return canon{}, backstageerr.Input("Invalid client_id: must not contain credentials")
	}
	if c.hasQuery || strings.Contains(clientID, "?") {
		return canon{}, backstageerr.Input("Invalid client_id: must not contain a query string")
	}
	return c, nil
}

// cimdDocument is the part of a client metadata document we read.
type cimdDocument struct {
	ClientID                string          `json:"client_id"`
	ClientName              string          `json:"client_name"`
	RedirectURIs            json.RawMessage `json:"redirect_uris"`
	ClientSecret            json.RawMessage `json:"client_secret"`
	ClientSecretExpiresAt   json.RawMessage `json:"client_secret_expires_at"`
	TokenEndpointAuthMethod json.RawMessage `json:"token_endpoint_auth_method"`
}

// cimdFetcher fetches and caches client metadata documents. Its HTTP client checks
// every address it dials (so a DNS answer that changes between check and connect
// cannot reach a private address), follows no redirects and uses no proxy.
type cimdFetcher struct {
	development bool
	client      *http.Client // public addresses only
	loopback    *http.Client // development-mode localhost documents
	now         func() time.Time
	cache       *lru.Cache[string, cachedDoc]
	group       singleflight.Group
}

type cachedDoc struct {
	c       *client
	expires time.Time
}

var errPrivateAddress = errors.New("address is not public unicast")

func newCIMDFetcher(development bool, now func() time.Time, allowAddr func(net.IP) bool) *cimdFetcher {
	if allowAddr == nil {
		allowAddr = publicUnicast
	}
	mk := func(check func(net.IP) bool) *http.Client {
		d := &net.Dialer{Timeout: cimdFetchTimeout, Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || !check(ip) {
				return errPrivateAddress
			}
			return nil
		}}
		return &http.Client{
			Timeout: cimdFetchTimeout,
			Transport: &http.Transport{
				Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: cimdFetchTimeout,
				ResponseHeaderTimeout: cimdFetchTimeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirects are not followed") },
		}
	}
	cache, _ := lru.New[string, cachedDoc](cimdCacheSize)
	return &cimdFetcher{
		development: development, now: now, cache: cache,
		client:   mk(allowAddr),
		loopback: mk(func(ip net.IP) bool { return ip.IsLoopback() }),
	}
}

// fetch returns the client a document describes, from the cache when fresh.
// skipAddressCheck is set for clients matched by an exact (wildcard-free) pattern,
// which the operator named explicitly (as Backstage does).
func (f *cimdFetcher) fetch(ctx context.Context, clientID string, u canon, skipAddressCheck bool) (*client, error) {
	if d, ok := f.cache.Get(clientID); ok && f.now().Before(d.expires) {
		return d.c, nil
	}
	v, err, _ := f.group.Do(clientID, func() (any, error) {
		// Fetches outlive a cancelled request so that waiters sharing it get an answer.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cimdFetchTimeout)
		defer cancel()
		c, ttl, err := f.get(ctx, clientID, u, skipAddressCheck)
		if err != nil {
			return nil, err
		}
		if ttl > 0 {
			f.cache.Add(clientID, cachedDoc{c: c, expires: f.now().Add(ttl)})
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*client), nil
}

func (f *cimdFetcher) get(ctx context.Context, clientID string, u canon, skipAddressCheck bool) (*client, time.Duration, error) {
	hc := f.client
	if (u.hostname == "localhost" || u.hostname == "127.0.0.1") && f.development {
		hc = f.loopback
	} else if skipAddressCheck {
		hc = unrestrictedClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return nil, 0, backstageerr.Input("Failed to fetch client metadata")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return nil, 0, backstageerr.Input("Invalid client_id URL")
		}
		return nil, 0, backstageerr.Input("Failed to fetch client metadata")
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, 0, backstageerr.Input("Failed to fetch client metadata")
	}
	if resp.ContentLength > cimdMaxBytes {
		return nil, 0, backstageerr.Input("Client metadata document too large")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, cimdMaxBytes+1))
	if err != nil {
		return nil, 0, backstageerr.Input("Invalid client metadata document")
	}
	if len(body) > cimdMaxBytes {
		return nil, 0, backstageerr.Input("Client metadata document too large")
	}
	c, err := parseCIMD(body, clientID)
	if err != nil {
		return nil, 0, err
	}
	return c, cacheTTL(resp.Header.Get("Cache-Control")), nil
}

// unrestrictedClient fetches documents of exactly-named clients; it still follows no
// redirects and uses no proxy.
var unrestrictedClient = &http.Client{
	Timeout:       cimdFetchTimeout,
	Transport:     &http.Transport{Proxy: nil, TLSHandshakeTimeout: cimdFetchTimeout, ResponseHeaderTimeout: cimdFetchTimeout},
	CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirects are not followed") },
}

// parseCIMD is Backstage's validateMetadata.
func parseCIMD(body []byte, clientID string) (*client, error) {
	var doc cimdDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, backstageerr.Input("Invalid client metadata document")
	}
	if doc.ClientID != clientID {
		return nil, backstageerr.Input("Client ID mismatch in metadata document")
	}
	var uris []string
	if len(doc.RedirectURIs) == 0 || json.Unmarshal(doc.RedirectURIs, &uris) != nil || len(uris) == 0 {
		return nil, backstageerr.Input("Metadata must include at least one redirect_uri")
	}
	for _, r := range uris {
		if _, ok := parseAbsolute(r); !ok {
			return nil, backstageerr.Input("Invalid redirect_uri in metadata: %s", r)
		}
	}
	if len(doc.ClientSecret) > 0 || len(doc.ClientSecretExpiresAt) > 0 {
		return nil, backstageerr.Input("Client metadata must not contain client_secret")
	}
	var method string
	if len(doc.TokenEndpointAuthMethod) > 0 && json.Unmarshal(doc.TokenEndpointAuthMethod, &method) == nil && forbiddenAuthMethods[method] {
		return nil, backstageerr.Input("Client metadata uses forbidden auth method")
	}
	name := doc.ClientName
	if name == "" {
		name = doc.ClientID
	}
	return &client{id: clientID, name: name, redirectURIs: uris}, nil
}

// cacheTTL honours Cache-Control within [0, cimdMaxTTL]: no-store and no-cache keep
// nothing, max-age is capped, and no header means cimdDefaultTTL.
func cacheTTL(h string) time.Duration {
	if h == "" {
		return cimdDefaultTTL
	}
	ttl := cimdDefaultTTL
	for _, d := range strings.Split(h, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "no-store" || d == "no-cache" || d == "private":
			return 0
		case strings.HasPrefix(d, "max-age="):
			n, err := strconv.Atoi(strings.Trim(d[len("max-age="):], `"`))
			if err != nil || n < 0 {
				return 0
			}
			ttl = time.Duration(n) * time.Second
		}
	}
	return min(ttl, cimdMaxTTL)
}

// redirectAllowed is Backstage's validateRedirectUri + matchesRedirectUri for a CIMD
// client, stricter for loopback hosts: only the port may differ (RFC 8252), not the
// query or fragment.
func redirectAllowed(redirectURI string, patterns []*urlPattern, registered []string) error {
	u, ok := parseAbsolute(redirectURI)
	if !ok {
		return backstageerr.Input("Invalid redirect_uri '%s'", redirectURI)
	}
	c := canonURL(u)
	normalized := c.scheme + "://" + u.Host + c.path
	if c.hasUser {
		return backstageerr.Input("Invalid redirect_uri '%s'", normalized)
	}
	allowed := false
	for _, p := range patterns {
		allowed = allowed || p.match(c)
	}
	if !allowed {
		return backstageerr.Input("Invalid redirect_uri '%s'", normalized)
	}
	if !isLoopbackHost(c.hostname) {
		for _, r := range registered {
			if r == redirectURI {
				return nil
			}
		}
		return backstageerr.Input("Invalid redirect_uri '%s', not registered in client metadata", redirectURI)
	}
	for _, r := range registered {
		ru, ok := parseAbsolute(r)
		if !ok {
			continue
		}
		rc := canonURL(ru)
		if isLoopbackHost(rc.hostname) && rc.scheme == c.scheme && rc.hostname == c.hostname && rc.path == c.path &&
			rc.rawQuery == c.rawQuery && rc.hasQuery == c.hasQuery && rc.fragment == c.fragment && rc.hasFragment == c.hasFragment {
			return nil
		}
	}
	return backstageerr.Input("Invalid redirect_uri '%s', not registered in client metadata", redirectURI)
}
