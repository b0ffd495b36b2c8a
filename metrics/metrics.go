package metrics

import (
	"database/sql"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every series of ours.
const Namespace = "authbackend"

// UnmatchedRoute is the route label of requests no route matched.
const UnmatchedRoute = "unmatched"

// Latency buckets: requests and IdP calls from a millisecond (JWKS from memory) to the
// 10 s an IdP or catalog timeout allows.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is the registry of the auth backend's series.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	inFlight     prometheus.Gauge
	routes       cache[routeKey, routeChildren]

	signIns, refreshes *prometheus.CounterVec
	outcomes           cache[[2]string, prometheus.Counter]
	refreshOutcomes    cache[[2]string, prometheus.Counter]

	tokens      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	limits      cache[string, prometheus.Counter]

	idpDuration *prometheus.HistogramVec
	idpErrors   *prometheus.CounterVec

	catalogLookups  *prometheus.CounterVec
	catalogDuration *prometheus.HistogramVec

	keysCreated, keysRemoved *prometheus.CounterVec
}

// BuildInfo labels authbackend_build_info.
type BuildInfo struct {
	Version, Revision string
}

// ReadBuildInfo fills BuildInfo from the binary's embedded module and VCS data.
func ReadBuildInfo() BuildInfo {
	bi := BuildInfo{Version: "unknown", Revision: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return bi
	}
	if v := info.Main.Version; v != "" {
		bi.Version = v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			bi.Revision = s.Value
		}
	}
	return bi
}

// New registers every series (and the Go and process collectors) in a registry of
// its own.
func New(build BuildInfo) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg}
	f := factory{reg}
	m.httpRequests = f.counterVec("http_requests_total", "HTTP requests answered, by route template, method and status.", "route", "method", "status")
	m.httpDuration = f.histogramVec("http_request_duration_seconds", "Time to answer an HTTP request, by route template, method and status.", "route", "method", "status")
	m.inFlight = f.gauge("http_requests_in_flight", "HTTP requests being answered.")
	m.signIns = f.counterVec("sign_ins_total", "Sign-ins (OAuth callbacks and proxy provider sign-ins), by provider and outcome.", "provider", "outcome")
	m.refreshes = f.counterVec("refreshes_total", "Session refreshes of OAuth providers, by provider and outcome.", "provider", "outcome")
	m.tokens = f.counterVec("tokens_issued_total", "Tokens issued, by type (user: Backstage user tokens; plugin: service tokens for other plugins).", "type")
	m.rateLimited = f.counterVec("rate_limited_total", "Requests refused by a rate limit, by the limit's config key.", "limit")
	m.idpDuration = f.histogramVec("idp_request_duration_seconds", "Time of an HTTP call to an identity provider, by provider and endpoint.", "provider", "endpoint")
	m.idpErrors = f.counterVec("idp_request_errors_total", "Failed HTTP calls to an identity provider, by provider, endpoint and kind (timeout, network, http_4xx, http_5xx).", "provider", "endpoint", "kind")
	m.catalogLookups = f.counterVec("catalog_lookups_total", "Catalog lookups by sign-in resolvers, by operation and result (hit: found, miss: not found, error).", "operation", "result")
	m.catalogDuration = f.histogramVec("catalog_lookup_duration_seconds", "Time of a catalog lookup, by operation.", "operation")
	m.keysCreated = f.counterVec("signing_keys_created_total", "Signing keys this process created, by kind (user or plugin).", "kind")
	m.keysRemoved = f.counterVec("signing_keys_removed_total", "Expired signing keys this process removed from the store, by kind.", "kind")
	bi := f.gaugeVec("build_info", "Always 1; the labels say which build is running.", "version", "revision", "goversion")
	info, _ := debug.ReadBuildInfo()
	goVersion := "unknown"
	if info != nil {
		goVersion = info.GoVersion
	}
	bi.WithLabelValues(build.Version, build.Revision, goVersion).Set(1)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m.routes.make = func(k routeKey) routeChildren {
		st := strconv.Itoa(k.status)
		return routeChildren{
			count:    m.httpRequests.WithLabelValues(k.route, k.method, st),
			duration: m.httpDuration.WithLabelValues(k.route, k.method, st),
		}
	}
	m.outcomes.make = func(k [2]string) prometheus.Counter { return m.signIns.WithLabelValues(k[0], k[1]) }
	m.refreshOutcomes.make = func(k [2]string) prometheus.Counter { return m.refreshes.WithLabelValues(k[0], k[1]) }
	m.limits.make = func(k string) prometheus.Counter { return m.rateLimited.WithLabelValues(k) }
	return m
}

// Registry is the Prometheus registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	return mux
}

// ---- HTTP requests ----

type routeKey struct {
	route, method string
	status        int
}

type routeChildren struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// knownMethods bounds the method label; anything else is "other".
var knownMethods = map[string]string{
	http.MethodGet: http.MethodGet, http.MethodHead: http.MethodHead, http.MethodPost: http.MethodPost,
	http.MethodPut: http.MethodPut, http.MethodPatch: http.MethodPatch, http.MethodDelete: http.MethodDelete,
	http.MethodOptions: http.MethodOptions,
}

// Middleware records every request by gin's route template (FullPath; never the raw
// path), method and status. It must run first, so that it times the whole chain.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = UnmatchedRoute
		}
		method, ok := knownMethods[c.Request.Method]
		if !ok {
			method = "other"
		}
		status := c.Writer.Status()
		if status < 100 || status > 599 {
			status = 0
		}
		ch := m.routes.get(routeKey{route, method, status})
		ch.count.Inc()
		ch.duration.Observe(time.Since(start).Seconds())
	}
}

// ---- sign-ins, refreshes, tokens, rate limits ----

// SignIn counts a sign-in of a configured provider with one of the router's outcomes.
func (m *Metrics) SignIn(provider, outcome string) {
	m.outcomes.get([2]string{provider, outcome}).Inc()
}

// Refresh counts a refresh of a configured provider.
func (m *Metrics) Refresh(provider, outcome string) {
	m.refreshOutcomes.get([2]string{provider, outcome}).Inc()
}

// RateLimited counts a request refused by the limit with that config key.
func (m *Metrics) RateLimited(limit string) { m.limits.get(limit).Inc() }

// TokenCounter returns the counter of issued tokens of one type, resolved once.
func (m *Metrics) TokenCounter(typ string) prometheus.Counter { return m.tokens.WithLabelValues(typ) }

// ---- signing keys ----

// KeyCreated counts a signing key this process created.
func (m *Metrics) KeyCreated(kind string) { m.keysCreated.WithLabelValues(kind).Inc() }

// KeysRemoved counts expired keys this process removed.
func (m *Metrics) KeysRemoved(kind string, n int) {
	m.keysRemoved.WithLabelValues(kind).Add(float64(n))
}

// KeysServed registers authbackend_signing_keys_served{kind}: the number of keys the
// key set of that kind publishes, read at scrape time.
func (m *Metrics) KeysServed(kind string, count func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "signing_keys_served", Help: "Public keys in the published key set, by kind (user or plugin).",
		ConstLabels: prometheus.Labels{"kind": kind},
	}, func() float64 { return float64(count()) }))
}

// ---- catalog ----

// Catalog lookup results.
const (
	CatalogHit   = "hit"
	CatalogMiss  = "miss"
	CatalogError = "error"
)

// CatalogRecorder records the lookups of one operation.
type CatalogRecorder struct {
	results  [3]prometheus.Counter
	duration prometheus.Observer
}

// CatalogOperation returns the recorder of one catalog operation (find_users,
// get_entity), its children resolved once.
func (m *Metrics) CatalogOperation(op string) *CatalogRecorder {
	r := &CatalogRecorder{duration: m.catalogDuration.WithLabelValues(op)}
	for i, res := range [...]string{CatalogHit, CatalogMiss, CatalogError} {
		r.results[i] = m.catalogLookups.WithLabelValues(op, res)
	}
	return r
}

// Observe records one lookup that took d.
func (r *CatalogRecorder) Observe(result string, d time.Duration) {
	switch result {
	case CatalogHit:
		r.results[0].Inc()
	case CatalogMiss:
		r.results[1].Inc()
	default:
		r.results[2].Inc()
	}
	r.duration.Observe(d.Seconds())
}

// ---- database ----

// DBStats registers the database pool's statistics under the names Prometheus'
// collectors.NewDBStatsCollector uses (go_sql_*, label db_name), read at scrape time.
func (m *Metrics) DBStats(name string, stats func() sql.DBStats) {
	m.reg.MustRegister(&dbStatsCollector{name: name, stats: stats, descs: newDBDescs(name)})
}

// ---- helpers ----

type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: latencyBuckets}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(v)
	return v
}

// cache keeps resolved label children by key: WithLabelValues allocates its variadic
// slice on every call, a map read does not.
type cache[K comparable, V any] struct {
	mu   sync.RWMutex
	m    map[K]V
	make func(K) V
}

func (c *cache[K, V]) get(k K) V {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok = c.m[k]; ok {
		return v
	}
	if c.m == nil {
		c.m = make(map[K]V)
	}
	v = c.make(k)
	c.m[k] = v
	return v
}
