package authbackend

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/origins"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// logRequests logs every request at Debug once it is answered. The query string is
// left out on purpose: it carries OAuth codes and state.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	ctx := c.Request.Context()
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "http request",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.Duration("duration", time.Since(start)),
	)
}

// recoverPanics turns a panic into a logged error and a Backstage 500 error JSON
// (without any stack or panic value in the body).
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if rec == http.ErrAbortHandler {
			panic(rec)
		}
		s.log.Error("panic while serving request",
			"method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			// Nothing half-done (e.g. a cookie) may leave with the error.
			c.Writer.Header().Del("Set-Cookie")
			s.writeError(c, fmt.Errorf("panic: %v", rec))
		}
		c.Abort()
	}()
	c.Next()
}

// setSecurityHeaders sets the helmet headers (computed once in New) on every response.
func (s *Server) setSecurityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	for k, v := range s.helmet {
		h[k] = v
	}
	c.Next()
}

// Helmet's default CSP directives, in helmet's order, with Backstage's changes
// (script-src adds 'unsafe-eval', form-action removed).
var defaultCSP = [][2]string{
	{"default-src", "'self'"},
	{"base-uri", "'self'"},
	{"font-src", "'self' https: data:"},
	{"frame-ancestors", "'self'"},
	{"img-src", "'self' data:"},
	{"object-src", "'none'"},
	{"script-src", "'self' 'unsafe-eval'"},
	{"script-src-attr", "'none'"},
	{"style-src", "'self' https: 'unsafe-inline'"},
	{"upgrade-insecure-requests", ""},
}

// buildHelmet returns the headers helmet sets with Backstage's options: CSP from the
// defaults merged with backend.csp, the configured referrer policy, and COOP, COEP,
// CORP and Origin-Agent-Cluster disabled (COOP would cut the popup's window.opener).
func buildHelmet(csp map[string][]string, referrer string) http.Header {
	if referrer == "" {
		referrer = "no-referrer"
	}
	h := http.Header{}
	set := func(k, v string) { h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v} }
	set("Content-Security-Policy", buildCSP(csp))
	set("Referrer-Policy", referrer)
	set("Strict-Transport-Security", "max-age=15552000; includeSubDomains")
	set("X-Content-Type-Options", "nosniff")
	set("X-DNS-Prefetch-Control", "off")
	set("X-Download-Options", "noopen")
	set("X-Frame-Options", "SAMEORIGIN")
	set("X-Permitted-Cross-Domain-Policies", "none")
	set("X-XSS-Protection", "0")
	return h
}

// buildCSP merges backend.csp over the defaults as Backstage's applyCspDirectives
// does: a configured directive replaces the default in place, a nil value (YAML
// false) removes it, new directives are appended (sorted, since config maps have no
// order in Go).
func buildCSP(overrides map[string][]string) string {
	type directive struct {
		name  string
		value string
	}
	dirs := make([]directive, 0, len(defaultCSP)+len(overrides))
	for _, d := range defaultCSP {
		dirs = append(dirs, directive{d[0], d[1]})
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, raw := range keys {
		name := dashify(strings.TrimSpace(raw))
		values := overrides[raw]
		idx := -1
		for i, d := range dirs {
			if d.name == name {
				idx = i
				break
			}
		}
		switch {
		case values == nil && idx >= 0:
			dirs = append(dirs[:idx], dirs[idx+1:]...)
		case values == nil:
		case idx >= 0:
			dirs[idx].value = strings.Join(values, " ")
		default:
			dirs = append(dirs, directive{name, strings.Join(values, " ")})
		}
	}
	parts := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if d.value == "" {
			parts = append(parts, d.name)
		} else {
			parts = append(parts, d.name+" "+d.value)
		}
	}
	return strings.Join(parts, ";")
}

// dashify turns helmet-style camelCase directive names into dash-case.
func dashify(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('-')
			b.WriteRune(r + ('a' - 'A'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// corsPolicy is the `cors` npm middleware configured the way Backstage configures it
// from backend.cors.
type corsPolicy struct {
	anyOrigin      bool // no origin configured: the cors default "*"
	origins        origins.Patterns
	credentials    bool
	methods        string
	allowedHeaders string
	reflectHeaders bool // allowedHeaders unset: reflect Access-Control-Request-Headers
	exposedHeaders string
	maxAge         string // "" omits the header
	successStatus  int
}

func newCORSPolicy(cc *config.CORSConfig) (*corsPolicy, error) {
	if cc == nil {
		return nil, nil
	}
	p := &corsPolicy{
		credentials:    cc.Credentials,
		methods:        "GET,HEAD,PUT,PATCH,POST,DELETE",
		reflectHeaders: cc.AllowedHeaders == nil,
		allowedHeaders: strings.Join(cc.AllowedHeaders, ","),
		exposedHeaders: strings.Join(cc.ExposedHeaders, ","),
		successStatus:  cc.OptionsSuccessStatus,
	}
	if cc.Methods != nil {
		p.methods = strings.Join(cc.Methods, ",")
	}
	if cc.MaxAge != nil {
		p.maxAge = strconv.Itoa(*cc.MaxAge)
	}
	if p.successStatus == 0 {
		p.successStatus = http.StatusNoContent
	}
	// A "*" pattern never matches an origin under Backstage's minimatch ("*" does not
	// cross "/"), and treating it as match-all would echo every origin with
	// credentials. Alone (like a missing origin) it means the cors default: a literal
	// "*", which browsers refuse to combine with credentials; beside other patterns it
	// is dropped. Every other entry is a minimatch pattern (errors name its index).
	for i, o := range cc.Origins {
		if strings.TrimSpace(o) == "*" {
			continue
		}
		if err := p.origins.Add(fmt.Sprintf("backend.cors.origin[%d]", i), o); err != nil {
			return nil, err
		}
	}
	p.anyOrigin = p.origins.Len() == 0
	return p, nil
}

// applyCORS follows cors@2 with Backstage's origin function: a request whose Origin
// does not match gets no CORS headers at all and continues (so a refused preflight
// gets Express's normal OPTIONS answer); a matching one gets the origin reflected.
// Preflights are answered here with optionsSuccessStatus and no body.
func (s *Server) applyCORS(c *gin.Context) {
	p := s.cors
	h := c.Writer.Header()
	if p.anyOrigin {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		origin := c.Request.Header.Get("Origin")
		if !p.origins.Match(origin) {
			c.Next()
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		addVary(h, "Origin")
	}
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if c.Request.Method != http.MethodOptions {
		if p.exposedHeaders != "" {
			h.Set("Access-Control-Expose-Headers", p.exposedHeaders)
		}
		c.Next()
		return
	}
	if p.methods != "" {
		h.Set("Access-Control-Allow-Methods", p.methods)
	}
	allowHeaders := p.allowedHeaders
	if p.reflectHeaders {
		allowHeaders = c.Request.Header.Get("Access-Control-Request-Headers")
		addVary(h, "Access-Control-Request-Headers")
	}
	if allowHeaders != "" {
		h.Set("Access-Control-Allow-Headers", allowHeaders)
	}
	if p.maxAge != "" {
		h.Set("Access-Control-Max-Age", p.maxAge)
	}
	if p.exposedHeaders != "" {
		h.Set("Access-Control-Expose-Headers", p.exposedHeaders)
	}
	h.Set("Content-Length", "0")
	c.Status(p.successStatus)
	c.Writer.WriteHeaderNow()
	c.Abort()
}

// addVary appends a field to Vary unless it is already listed (the `vary` package).
func addVary(h http.Header, field string) {
	cur := h.Get("Vary")
	if cur == "" {
		h.Set("Vary", field)
		return
	}
	for _, f := range strings.Split(cur, ",") {
		f = strings.TrimSpace(f)
		if f == "*" || strings.EqualFold(f, field) {
			return
		}
	}
	h.Set("Vary", cur+", "+field)
}
