package remotecatalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Defaults applied when Options leave them zero.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultCacheSize = 1024
	maxBodySize      = 8 << 20
	snippetLen       = 200
)

// TokenSource issues a plugin (service-to-service) token for a target plugin, as
// Backstage's auth.getPluginRequestToken({targetPluginId}) does; the catalog is "catalog".
type TokenSource interface {
	PluginToken(ctx context.Context, targetPluginID string) (string, error)
}

// Options configure a remote catalog client.
type Options struct {
	// BaseURL is the catalog plugin's base URL, e.g. http://127.0.0.1:7007/api/catalog.
	BaseURL string
	// Tokens issues plugin tokens for "catalog"; used when StaticToken is empty.
	Tokens TokenSource
	// StaticToken is a backend.auth.externalAccess static token, sent instead of a
	// plugin token when set.
	StaticToken string
	// CacheTTL is how long a lookup answer (including "not found") is reused; 0 disables
	// the cache. Errors are never cached.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached lookups (default DefaultCacheSize).
	CacheSize int
	// Timeout bounds one lookup, token included (default DefaultTimeout).
	Timeout    time.Duration
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Catalog reads User entities from a Backstage catalog over its REST API.
type Catalog struct {
	base    string
	opts    Options
	client  *http.Client
	logger  *slog.Logger
	now     func() time.Time
	timeout time.Duration
	cache   *lru.Cache[string, cached]
	group   singleflight.Group
	// waiting, when set (tests), is called once a caller has joined a lookup's flight.
	waiting func()
}

var _ resolvers.Catalog = (*Catalog)(nil)

type cached struct {
	entities []resolvers.Entity
	notFound bool
	expires  time.Time
}

// New returns a client for the catalog at opts.BaseURL.
func New(opts Options) (*Catalog, error) {
	u, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote catalog: base URL %q must be an absolute http(s) URL such as http://127.0.0.1:7007/api/catalog", opts.BaseURL)
	}
	c := &Catalog{base: u.String(), opts: opts, client: opts.HTTPClient, logger: opts.Logger, now: opts.Now, timeout: opts.Timeout}
	if c.client == nil {
		c.client = &http.Client{}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	size := opts.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	if opts.CacheTTL > 0 {
		if c.cache, err = lru.New[string, cached](size); err != nil {
			return nil, fmt.Errorf("remote catalog: cache: %w", err)
		}
	}
	return c, nil
}

// BaseURL returns the catalog base URL in use.
func (c *Catalog) BaseURL() string { return c.base }

// FindUsers implements resolvers.Catalog with GET {base}/entities?filter=..., encoded
// as Backstage's catalog-client does (kind=user added when the filter has no kind).
// Returned entities may be shared with the cache: do not modify them.
func (c *Catalog) FindUsers(ctx context.Context, filter map[string]string) ([]resolvers.Entity, error) {
	q, err := filterQuery(filter)
	if err != nil {
		return nil, err
	}
	res, err := c.lookup(ctx, "/entities?filter="+q, false)
	if err != nil {
		return nil, err
	}
	return res.entities, nil
}

// GetEntityByRef implements resolvers.Catalog with GET
// {base}/entities/by-name/{kind}/{namespace}/{name}; 404 is a NotFoundError.
func (c *Catalog) GetEntityByRef(ctx context.Context, ref resolvers.EntityRef) (*resolvers.Entity, error) {
	ns := ref.Namespace
	if ns == "" {
		ns = resolvers.DefaultNamespace
	}
	path := "/entities/by-name/" + encodeURIComponent(ref.Kind) + "/" + encodeURIComponent(ns) + "/" + encodeURIComponent(ref.Name)
	res, err := c.lookup(ctx, path, true)
	if err != nil {
		return nil, err
	}
	if res.notFound || len(res.entities) == 0 {
		return nil, backstageerr.NotFound("No entity named '%s' found", ref.String())
	}
	e := res.entities[0]
	return &e, nil
}

// filterQuery renders one catalog filter as the catalog-client does:
// encodeURIComponent("k1=v1,k2=v2,kind=user"). Keys are sorted with kind last (the
// order Backstage's signInWithCatalogUser produces for email lookups). A value with a
// comma is refused: the catalog splits filters on commas, so it would change the query.
func filterQuery(filter map[string]string) (string, error) {
	keys := make([]string, 0, len(filter)+1)
	hasKind := false
	for k, v := range filter {
		if strings.Contains(v, ",") || strings.Contains(k, ",") || strings.Contains(k, "=") {
			return "", backstageerr.Input("Cannot look up %s=%q in the catalog: catalog filters cannot contain ',' (or '=' in keys)", k, v)
		}
		if strings.EqualFold(k, "kind") {
			hasKind = true
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, k+"="+filter[k])
	}
	if hasKind {
		for k, v := range filter {
			if strings.EqualFold(k, "kind") {
				parts = append(parts, k+"="+v)
			}
		}
	} else {
		parts = append(parts, "kind=user")
	}
	return encodeURIComponent(strings.Join(parts, ",")), nil
}

// encodeURIComponent is JavaScript's encodeURIComponent.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("-_.!~*'()", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// lookup answers from the cache, or performs (once for concurrent identical lookups)
// the request. Each caller waits only as long as its own context allows.
func (c *Catalog) lookup(ctx context.Context, pathAndQuery string, single bool) (cached, error) {
	if c.cache != nil {
		if v, ok := c.cache.Get(pathAndQuery); ok {
			if c.now().Before(v.expires) {
				return v, nil
			}
			c.cache.Remove(pathAndQuery)
		}
	}
	ch := c.group.DoChan(pathAndQuery, func() (any, error) {
		// Detached from the first caller's cancellation, bounded by the timeout.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		res, err := c.fetch(rctx, pathAndQuery, single)
		if err == nil && c.cache != nil {
			res.expires = c.now().Add(c.opts.CacheTTL)
			c.cache.Add(pathAndQuery, res)
		}
		return res, err
	})
	if c.waiting != nil {
		c.waiting()
	}
	select {
	case <-ctx.Done():
		return cached{}, c.failure(pathAndQuery, ctx.Err(), "the sign-in request was cancelled while waiting for the catalog", "cancelled")
	case r := <-ch:
		if r.Err != nil {
			return cached{}, r.Err
		}
		return r.Val.(cached), nil
	}
}

// failure is a ServiceUnavailableError whose message says what kind of failure it was
// and nothing more: no catalog URL, no dial error, no upstream body. Those are in the
// Detail, which the HTTP layer logs under a logId that the user sees.
func (c *Catalog) failure(pathAndQuery string, cause error, public, detailFormat string, args ...any) error {
	detail := fmt.Sprintf("Catalog lookup at %s failed: ", c.base+strings.SplitN(pathAndQuery, "?", 2)[0]) + fmt.Sprintf(detailFormat, args...)
	return &backstageerr.Error{Name: backstageerr.NameServiceUnavailable, Message: "Catalog lookup failed: " + public, Cause: cause, Detail: detail}
}

func (c *Catalog) fetch(ctx context.Context, pathAndQuery string, single bool) (cached, error) {
	token := c.opts.StaticToken
	if token == "" && c.opts.Tokens != nil {
		t, err := c.opts.Tokens.PluginToken(ctx, "catalog")
		if err != nil {
			return cached{}, c.failure(pathAndQuery, err, "the auth backend could not obtain credentials for the catalog", "could not obtain a plugin token for the catalog: %v", err)
		}
		token = t
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+pathAndQuery, nil)
	if err != nil {
		return cached{}, c.failure(pathAndQuery, err, "the request could not be built", "invalid request URL: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := c.now()
	resp, err := c.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return cached{}, c.failure(pathAndQuery, err, fmt.Sprintf("the catalog did not answer within %s", c.timeout), "timeout: %v", err)
		}
		return cached{}, c.failure(pathAndQuery, err, "the catalog could not be reached", "could not reach the catalog: %v", sanitize(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodySize+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return cached{}, c.failure(pathAndQuery, err, fmt.Sprintf("the catalog did not answer within %s", c.timeout), "timeout reading the answer: %v", err)
		}
		return cached{}, c.failure(pathAndQuery, err, "reading the catalog's answer failed", "reading the answer failed: %v", sanitize(err.Error()))
	}
	c.logger.Debug("catalog lookup", "url", c.base+pathAndQuery, "status", resp.StatusCode, "duration", c.now().Sub(start))
	if len(body) > maxBodySize {
		return cached{}, c.failure(pathAndQuery, nil, "the catalog's answer is too large", "the answer is larger than %d bytes", maxBodySize)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && single:
		return cached{notFound: true}, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return cached{}, c.failure(pathAndQuery, nil, "the catalog rejected the auth backend's credentials ("+resp.Status+")",
			"the catalog rejected our credentials (%s%s); check authbackend.catalog.token or that the catalog trusts this auth backend's plugin tokens",
			resp.Status, errorDetail(body))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return cached{}, c.failure(pathAndQuery, nil, "the catalog answered "+resp.Status, "the catalog answered %s%s", resp.Status, errorDetail(body))
	}
	if single {
		var e resolvers.Entity
		if err := json.Unmarshal(body, &e); err != nil || e.Kind == "" || e.Metadata.Name == "" {
			return cached{}, c.failure(pathAndQuery, err, "the catalog's answer is not valid", "the catalog answered with something that is not an entity: %s", snippet(body))
		}
		return cached{entities: []resolvers.Entity{e}}, nil
	}
	var list []resolvers.Entity
	if err := json.Unmarshal(body, &list); err != nil {
		// Newer catalogs may answer {"items": [...]} on query endpoints.
		var wrapped struct {
			Items *[]resolvers.Entity `json:"items"`
		}
		if err2 := json.Unmarshal(body, &wrapped); err2 != nil || wrapped.Items == nil {
			return cached{}, c.failure(pathAndQuery, err, "the catalog's answer is not valid", "the catalog answered with something that is not a list of entities: %s", snippet(body))
		}
		list = *wrapped.Items
	}
	for i, e := range list {
		if e.Kind == "" || e.Metadata.Name == "" {
			return cached{}, c.failure(pathAndQuery, nil, "the catalog's answer is not valid", "entity %d of the catalog's answer has no kind or metadata.name", i)
		}
	}
	return cached{entities: list, notFound: len(list) == 0}, nil
}

// errorDetail extracts a Backstage error JSON's name and message, sanitized.
func errorDetail(body []byte) string {
	var e struct {
		Error struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return ": " + sanitize(e.Error.Name+": "+e.Error.Message)
	}
	if len(body) == 0 {
		return ""
	}
	return ": " + snippet(body)
}

// snippet is a short, printable excerpt of an upstream answer for error messages.
func snippet(body []byte) string {
	if len(body) == 0 {
		return "an empty body"
	}
	return fmt.Sprintf("%q", sanitize(string(body)))
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > snippetLen {
		s = string(r[:snippetLen]) + "…"
	}
	return s
}
