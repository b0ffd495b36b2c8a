package authbackend

import (
	"hash/maphash"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// Rate limiting, as Backstage's backend.rateLimit does it (express-rate-limit 8 with
// its memory store): a fixed window per client address that starts at the client's
// first request, IPv6 addresses grouped by /56, an allow-list that skips loopback by
// default, X-RateLimit-* headers, and over the limit a 429 with Retry-After and
// Backstage's error body. Clients are told apart by the connection's address, or by
// X-Forwarded-For only when backend.trustProxy is set.

// rateLimitBody is express-rate-limit's message as Backstage configures it.
const rateLimitBody = `{"error":{"name":"Error","message":"Too many requests, please try again later"},"response":{"statusCode":429}}`

const (
	limiterShards = 32
	// maxLimiterKeys bounds the memory a flood of distinct (spoofed or rotating)
	// addresses can take; when a shard is full its expired windows are dropped, then
	// arbitrary ones.
	maxLimiterKeys = 1 << 16
	// refusalLogEvery: a refused client is logged at most once per this period.
	refusalLogEvery = time.Minute
)

type limiter struct {
	name       string // config key, for logs
	window     time.Duration
	limit      int
	allow      map[string]bool
	skipOK     bool
	skipFailed bool
	now        func() time.Time
	log        *slog.Logger
	seed       maphash.Seed
	shards     [limiterShards]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	windows map[string]*rateWindow
}

type rateWindow struct {
	count     int
	reset     time.Time
	lastNoted time.Time // last refusal logged for this client
}

func newLimiter(name string, c config.RateLimitConfig, now func() time.Time, log *slog.Logger) *limiter {
	l := &limiter{name: name, window: c.Window, limit: c.Limit, allow: map[string]bool{},
		skipOK: c.SkipSuccessfulRequests, skipFailed: c.SkipFailedRequests, now: now, log: log, seed: maphash.MakeSeed()}
	if l.window <= 0 {
		l.window = config.DefaultRateLimitWindow
	}
	for _, a := range c.IPAllowList {
		l.allow[a] = true
	}
	for i := range l.shards {
		l.shards[i].windows = map[string]*rateWindow{}
	}
	return l
}

// rateInfo is the state of one client's window after a request was counted.
type rateInfo struct {
	allowed   bool
	remaining int
	reset     time.Time
	noteNow   bool // log this refusal (first for the client in refusalLogEvery)
}

// take counts one request for key.
func (l *limiter) take(key string) rateInfo {
	now := l.now()
	sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	w := sh.windows[key]
	if w == nil || !now.Before(w.reset) {
		if w == nil && len(sh.windows) >= maxLimiterKeys/limiterShards {
			sh.evict(now)
		}
		if w == nil {
			w = &rateWindow{}
			sh.windows[key] = w
		}
		w.count, w.reset = 0, now.Add(l.window)
	}
	w.count++
	info := rateInfo{allowed: w.count <= l.limit, remaining: max(l.limit-w.count, 0), reset: w.reset}
	if !info.allowed && now.Sub(w.lastNoted) >= refusalLogEvery {
		w.lastNoted, info.noteNow = now, true
	}
	return info
}

// untake gives back a request that does not count (skipSuccessfulRequests,
// skipFailedRequests), unless its window has already ended.
func (l *limiter) untake(key string) {
	now := l.now()
	sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if w := sh.windows[key]; w != nil && now.Before(w.reset) && w.count > 0 {
		w.count--
	}
}

// evict drops expired windows, then, if none expired, about a tenth of the others.
func (sh *limiterShard) evict(now time.Time) {
	for k, w := range sh.windows {
		if !now.Before(w.reset) {
			delete(sh.windows, k)
		}
	}
	n := len(sh.windows) / 10
	for k := range sh.windows {
		if n <= 0 {
			break
		}
		delete(sh.windows, k)
		n--
	}
}

// clientAddress is the client's address as Express computes req.ip: the connection's
// address, or with trust proxy the leftmost X-Forwarded-For entry.
func clientAddress(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
				return a.Unmap().String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// rateKey groups IPv6 addresses by /56 as express-rate-limit's ipKeyGenerator does.
func rateKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() {
		return addr
	}
	p, err := a.Prefix(56)
	if err != nil {
		return addr
	}
	return p.String()
}

// rateLimit returns the middleware for l.
func (s *Server) rateLimit(l *limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		key, ok := s.admit(c, l)
		if !ok {
			return
		}
		c.Next()
		if key == "" {
			return
		}
		if st := c.Writer.Status(); (l.skipOK && st < 400) || (l.skipFailed && st >= 400) {
			l.untake(key)
		}
	}
}

// admit counts the request against l and, over the limit, answers 429 and reports
// false. key is "" for allow-listed clients.
func (s *Server) admit(c *gin.Context, l *limiter) (key string, ok bool) {
	r := c.Request
	addr := clientAddress(r, s.cfg.Backend.TrustProxy)
	if l.allow[addr] {
		return "", true
	}
	key = rateKey(addr)
	info := l.take(key)
	h := c.Writer.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(l.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(info.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(info.reset.UnixMilli())/1000)), 10))
	if info.allowed {
		return key, true
	}
	if info.noteNow {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "rate limit exceeded",
			slog.String("limit", l.name), slog.String("client", addr),
			slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	retry := max(int64(math.Ceil(info.reset.Sub(l.now()).Seconds())), 1)
	h.Set("Retry-After", strconv.FormatInt(retry, 10))
	h.Del("Set-Cookie")
	writeBody(c, http.StatusTooManyRequests, "application/json; charset=utf-8", []byte(rateLimitBody))
	c.Abort()
	return key, false
}
