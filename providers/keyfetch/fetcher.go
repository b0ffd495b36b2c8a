package keyfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/outage"
)

// Defaults for the zero Options fields.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxAge   = 5 * time.Minute
	DefaultMaxBytes = 1 << 20
	DefaultMaxKeys  = 100
	// DefaultRefetchInterval and DefaultRefetchBurst: a token bucket of 2 refetches for
	// unknown kids, refilled by one every 10 seconds (at most 6 a minute in the long
	// run, however many made-up kids arrive).
	DefaultRefetchInterval = 10 * time.Second
	DefaultRefetchBurst    = 2

	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// Options configure a Fetcher. Zero values take the defaults above.
type Options struct {
	// Client makes the requests (its transport and TLS settings); the per-request
	// bound is Timeout.
	Client *http.Client
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
	// Name says whose keys these are, in log records ("oidc https://idp.example").
	Name string
	// Timeout bounds one fetch, whoever waits for it.
	Timeout time.Duration
	// MaxAge is how long fetched keys are used without asking again, so a key the
	// endpoint withdrew stops verifying within MaxAge.
	MaxAge time.Duration
	// MaxBytes bounds a response body.
	MaxBytes int64
	// MaxKeys bounds the keys kept: of a JWK set, or kids cached for per-kid PEM.
	MaxKeys int
	// RefetchInterval and RefetchBurst rate-limit the fetches an unknown kid triggers.
	RefetchInterval time.Duration
	RefetchBurst    int
	// Algs are the accepted JWS algorithms (default SupportedAlgs); any outside
	// SupportedAlgs (none, HS*, ...) is refused by New.
	Algs []string
}

// Fetcher fetches and caches the keys of one key endpoint and verifies tokens with
// them. It is safe for concurrent use.
type Fetcher struct {
	o      Options
	client *http.Client
	algs   map[string]bool
	log    *slog.Logger
	// urlFor is set for per-kid PEM endpoints; jwks otherwise.
	urlFor func(kid string) string
	jwks   *entry

	mu     sync.Mutex
	perKID *lru.Cache[string, *entry]
	bucket bucket
	outage outage.Log
}

// entry is one document (the JWK set, or one kid's PEM key) and its fetch state.
type entry struct {
	url, kid string
	// snap is the last good answer.
	snap *snapshot
	// failed is the last fetch's failure (Undecided), nil after a success; retryAt is
	// when the next attempt may start.
	failed  error
	retryAt time.Time
	backoff time.Duration
	call    *fetchCall
}

type fetchCall struct {
	done chan struct{}
	snap *snapshot
	err  error
}

// NewJWKS returns a Fetcher for the JWK set at url.
func NewJWKS(url string, o Options) (*Fetcher, error) {
	f, err := newFetcher(o)
	if err != nil {
		return nil, err
	}
	f.jwks = &entry{url: url}
	return f, nil
}

// NewPEMPerKID returns a Fetcher for endpoints that serve one PEM public key per kid at
// urlFor(kid) (AWS load balancers). Kids are checked before urlFor sees them: 1 to 128
// characters of [A-Za-z0-9._-], not only dots.
func NewPEMPerKID(urlFor func(kid string) string, o Options) (*Fetcher, error) {
	f, err := newFetcher(o)
	if err != nil {
		return nil, err
	}
	f.urlFor = urlFor
	f.perKID, _ = lru.New[string, *entry](f.o.MaxKeys)
	return f, nil
}

func newFetcher(o Options) (*Fetcher, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Timeout, DefaultTimeout)
	def(&o.MaxAge, DefaultMaxAge)
	def(&o.RefetchInterval, DefaultRefetchInterval)
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.RefetchBurst <= 0 {
		o.RefetchBurst = DefaultRefetchBurst
	}
	if len(o.Algs) == 0 {
		o.Algs = SupportedAlgs
	}
	algs := map[string]bool{}
	for _, a := range o.Algs {
		if !slices.Contains(SupportedAlgs, a) {
			return nil, fmt.Errorf("keyfetch: algorithm %q is not supported (supported: %v)", a, SupportedAlgs)
		}
		algs[a] = true
	}
	client := o.Client
	if client == nil {
		client = &http.Client{}
	}
	return &Fetcher{
		o: o, client: client, algs: algs,
		log:    o.Logger.With("keys", o.Name),
		bucket: bucket{burst: float64(o.RefetchBurst), every: o.RefetchInterval},
	}, nil
}

// Verified is a token whose signature verified.
type Verified struct {
	// Payload is the decoded JWS payload (not checked: claims are the caller's).
	Payload []byte
	KeyID   string
	Alg     string
	// Generation is the snapshot whose key verified the token.
	Generation *Generation
	// Stale: the key endpoint is down and the key is from the last good answer.
	Stale bool
}

// Verify checks token's signature with the key endpoint's keys. Only the signature and
// the key: claims (exp included) are the caller's to check.
func (f *Fetcher) Verify(ctx context.Context, raw string) (Verified, error) {
	t, err := parseToken(raw, f.algs)
	if err != nil {
		return Verified{}, err
	}
	keys, snap, stale, err := f.keysFor(ctx, t.kid, t.alg)
	if err != nil {
		return Verified{}, err
	}
	m := jwt.GetSigningMethod(t.alg)
	for _, k := range keys {
		if m.Verify(t.signingInput, t.sig, k.pub) == nil {
			return Verified{Payload: t.payload, KeyID: k.id, Alg: t.alg, Generation: snap.gen, Stale: stale}, nil
		}
	}
	return Verified{}, &SignatureError{KID: t.kid}
}

// VerifySignature is Verify as go-oidc's KeySet.
func (f *Fetcher) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	v, err := f.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	return v.Payload, nil
}

// Current reports whether g is still the snapshot in use: fetched within MaxAge, or
// the last good one while the endpoint is down. A verification remembered for g is as
// good as a new one while Current holds. During an outage it also starts the next
// attempt when one is due, so that callers answered from such memories notice the
// endpoint's return.
func (f *Fetcher) Current(g *Generation) bool {
	if g == nil {
		return false
	}
	now := f.o.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	e := g.e
	switch {
	case e.snap == nil || e.snap.gen != g:
		return false
	case f.fresh(e.snap, now):
		return true
	case e.failed != nil:
		f.retryLocked(e, now)
		return true
	}
	return false
}

func (f *Fetcher) fresh(s *snapshot, now time.Time) bool {
	return !now.Before(s.fetched) && now.Sub(s.fetched) < f.o.MaxAge
}

var safeKID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// keysFor returns the keys that may verify a token with kid and alg, from the cache or
// a fetch, following the outage rule (see the package documentation).
func (f *Fetcher) keysFor(ctx context.Context, kid, alg string) ([]key, *snapshot, bool, error) {
	now := f.o.Now()
	f.mu.Lock()
	e, err := f.entryLocked(kid, now)
	if err != nil {
		f.mu.Unlock()
		return nil, nil, false, err
	}
	if s := e.snap; s != nil {
		keys, why := s.find(kid, alg)
		known := len(keys) > 0 || why != ""
		switch {
		case known && f.fresh(s, now):
			f.mu.Unlock()
			return result(s, kid, keys, why, false)
		case known && e.failed != nil:
			// The endpoint is down: the last good keys keep verifying; the next attempt
			// runs in the background, nobody waits for it.
			f.retryLocked(e, now)
			f.mu.Unlock()
			return result(s, kid, keys, why, true)
		case !known && f.fresh(s, now) && e.failed == nil && e.call == nil:
			if !f.bucket.take(now) {
				f.mu.Unlock()
				return nil, nil, false, &UnknownKeyError{KID: kid, RateLimited: true}
			}
		}
	}
	if e.failed != nil && e.call == nil && now.Before(e.retryAt) {
		err := withRetryAfter(e.failed, e.retryAt.Sub(now))
		f.mu.Unlock()
		return nil, nil, false, err
	}
	call := f.startLocked(e)
	f.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		return f.fallback(e, kid, alg, &UnavailableError{URL: e.url, Err: ctx.Err(), retryAfter: time.Second})
	}
	switch {
	case call.err == nil:
		keys, why := call.snap.find(kid, alg)
		return result(call.snap, kid, keys, why, false)
	case Undecided(call.err):
		return f.fallback(e, kid, alg, call.err)
	}
	return nil, nil, false, call.err
}

// entryLocked returns the document for kid: the JWK set, or kid's PEM entry (created
// when the rate limit allows a fetch for a kid never seen).
func (f *Fetcher) entryLocked(kid string, now time.Time) (*entry, error) {
	if f.jwks != nil {
		return f.jwks, nil
	}
	if kid == "" {
		return nil, &TokenError{Reason: "has no kid"}
	}
	if !safeKID.MatchString(kid) || strings.Trim(kid, ".") == "" {
		return nil, &UnknownKeyError{KID: kid}
	}
	if e, ok := f.perKID.Get(kid); ok {
		return e, nil
	}
	if !f.bucket.take(now) {
		// Nothing is known about this kid and it cannot be asked now.
		return nil, &UnavailableError{URL: f.urlFor(kid), Err: errRateLimited, retryAfter: max(f.bucket.wait(now), time.Second)}
	}
	e := &entry{url: f.urlFor(kid), kid: kid}
	f.perKID.Add(kid, e)
	return e, nil
}

var errRateLimited = errors.New("too many fetches for unknown kids; not asked")

func result(s *snapshot, kid string, keys []key, why string, stale bool) ([]key, *snapshot, bool, error) {
	switch {
	case len(keys) > 0:
		return keys, s, stale, nil
	case why != "":
		return nil, nil, false, &UnusableKeyError{KID: kid, Reason: why}
	}
	return nil, nil, false, &UnknownKeyError{KID: kid}
}

// fallback answers from the last good keys after a fetch that decided nothing, or
// returns err when they do not know kid.
func (f *Fetcher) fallback(e *entry, kid, alg string, err error) ([]key, *snapshot, bool, error) {
	f.mu.Lock()
	s := e.snap
	f.mu.Unlock()
	if s != nil {
		if keys, why := s.find(kid, alg); len(keys) > 0 || why != "" {
			return result(s, kid, keys, why, true)
		}
	}
	return nil, nil, false, err
}

func (f *Fetcher) retryLocked(e *entry, now time.Time) {
	if e.call == nil && !now.Before(e.retryAt) {
		f.startLocked(e)
	}
}

// startLocked returns e's fetch in flight, starting one if there is none. The fetch
// outlives any caller's cancellation; Timeout bounds it.
func (f *Fetcher) startLocked(e *entry) *fetchCall {
	if e.call != nil {
		return e.call
	}
	call := &fetchCall{done: make(chan struct{})}
	e.call = call
	go f.run(e, call)
	return call
}

func (f *Fetcher) run(e *entry, call *fetchCall) {
	ctx, cancel := context.WithTimeout(context.Background(), f.o.Timeout)
	snap, err := f.fetch(ctx, e)
	cancel()
	now := f.o.Now()
	f.mu.Lock()
	last := e.snap
	switch {
	case err == nil:
		snap.fetched = now
		snap.gen = &Generation{e: e, fetched: now}
		e.snap, e.failed, e.backoff = snap, nil, 0
	case Undecided(err):
		e.backoff = min(max(2*e.backoff, minBackoff), maxBackoff)
		err = withRetryAfter(err, e.backoff)
		e.failed, e.retryAt = err, now.Add(e.backoff)
	default:
		// The endpoint answered that kid has no key (per-kid PEM, 404): remember that
		// answer as a snapshot without keys, so that the kid is asked again only as an
		// unknown kid of a JWK set is (within the refetch rate limit, or once the answer
		// is older than MaxAge) and a repeat is refused (401) rather than left
		// undecided by the rate limit. Entries stay bounded by MaxKeys.
		e.snap = &snapshot{fetched: now, gen: &Generation{e: e, fetched: now}}
		e.failed, e.backoff = nil, 0
	}
	e.call = nil
	call.snap, call.err = snap, err
	f.mu.Unlock()
	// Logged before the waiters learn the result, so the record precedes what follows.
	defer close(call.done)

	if !Undecided(err) {
		f.outage.Recovered(f.log, now, "key endpoint answers again", "url", e.url)
		return
	}
	if last != nil {
		f.outage.Failed(f.log, now, "key endpoint unavailable; tokens signed with the last good keys still verify until it answers",
			"url", e.url, "err", err, "lastGoodFetched", last.fetched)
	} else {
		f.outage.Failed(f.log, now, "key endpoint unavailable and no keys fetched yet; tokens cannot be verified until it answers",
			"url", e.url, "err", err)
	}
}

// fetch asks the endpoint once.
func (f *Fetcher) fetch(ctx context.Context, e *entry) (*snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return nil, &UnavailableError{URL: e.url, Err: err}
	}
	if f.jwks != nil {
		req.Header.Set("Accept", "application/jwk-set+json, application/json")
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, &UnavailableError{URL: e.url, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.o.MaxBytes+1))
	switch {
	case err != nil:
		return nil, &UnavailableError{URL: e.url, Err: err}
	case resp.StatusCode == http.StatusNotFound && f.jwks == nil:
		return nil, &UnknownKeyError{KID: e.kid}
	case resp.StatusCode != http.StatusOK:
		return nil, &UnavailableError{URL: e.url, Status: resp.StatusCode}
	case int64(len(body)) > f.o.MaxBytes:
		return nil, &MalformedError{URL: e.url, Reason: fmt.Sprintf("more than %d bytes", f.o.MaxBytes)}
	}
	s := &snapshot{}
	var reason string
	if f.jwks != nil {
		var dropped int
		s.keys, s.rejected, dropped, reason = parseJWKS(body, f.o.MaxKeys)
		if dropped > 0 {
			f.log.Warn("key set has more keys than are kept", "url", e.url, "kept", len(s.keys), "dropped", dropped)
		}
	} else {
		s.keys, s.rejected, reason = parsePEM(body, e.kid)
	}
	if reason != "" {
		return nil, &MalformedError{URL: e.url, Reason: reason}
	}
	for kid, why := range s.rejected {
		f.log.Debug("key endpoint publishes a key that is not used", "url", e.url, "kid", kid, "reason", why)
	}
	return s, nil
}

// bucket is a token bucket: burst tokens, one more every `every`.
type bucket struct {
	burst  float64
	every  time.Duration
	tokens float64
	last   time.Time
}

func (b *bucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.tokens, b.last = b.burst, now
		return
	}
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.every))
		b.last = now
	}
}

func (b *bucket) take(now time.Time) bool {
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// wait is how long until the next token.
func (b *bucket) wait(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(b.every))
}
