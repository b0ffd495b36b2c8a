package observe

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/authbackend"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/metrics"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	backstagetokens "github.com/spectrocloud-labs/backstage-auth-go/tokens"
	"github.com/spectrocloud-labs/backstage-auth-go/tracing"
)

// ServiceName is the OpenTelemetry service.name unless OTEL_SERVICE_NAME says otherwise.
const ServiceName = "backstage-auth-go"

// Observability is what cmd wraps around the components it wires: metrics (nil
// without authbackend.metrics.listen), tracing (nil without an OTLP endpoint) and the
// auditor (always). With metrics and tracing off nothing is wrapped at all.
type Observability struct {
	metrics *metrics.Metrics
	tracing *tracing.Tracing
	auditor audit.Auditor
	// dbSystem is db.system.name of database spans (postgresql or sqlite).
	dbSystem string
}

// New builds what cfg (authbackend.metrics.listen, backend.auditor) and the OTEL_*
// environment (read through getenv) ask for.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger, getenv func(string) string) (*Observability, error) {
	o := &Observability{auditor: audit.NewLogger(logger, cfg.Ops.AuditLevels), dbSystem: "sqlite"}
	if cfg.Backend.Database.Client == "pg" {
		o.dbSystem = "postgresql"
	}
	build := metrics.ReadBuildInfo()
	if cfg.Ops.MetricsListen != "" {
		o.metrics = metrics.New(build)
	}
	t, err := tracing.FromEnv(ctx, getenv, ServiceName, build.Version)
	if err != nil {
		return nil, err
	}
	o.tracing = t
	if t != nil {
		logger.Info("tracing: exporting spans over OTLP")
	}
	return o, nil
}

// Close flushes and stops the span exporter.
func (o *Observability) Close(ctx context.Context) {
	if o.tracing != nil {
		_ = o.tracing.Shutdown(ctx)
	}
}

// Wraps reports whether anything is measured or traced (else every Wrap* returns
// its argument).
func (o *Observability) Wraps() bool { return o.metrics != nil || o.tracing != nil }

// Auditor is the audit log every component writes to.
func (o *Observability) Auditor() audit.Auditor { return o.auditor }

// DBStats exports the database pool statistics (when metrics are on).
func (o *Observability) DBStats(name string, stats func() sql.DBStats) {
	if o.metrics != nil {
		o.metrics.DBStats(name, stats)
	}
}

// Middleware runs first on every request: metrics, then the server span.
func (o *Observability) Middleware() []gin.HandlerFunc {
	var mw []gin.HandlerFunc
	if o.metrics != nil {
		mw = append(mw, o.metrics.Middleware())
	}
	if o.tracing != nil {
		mw = append(mw, o.tracing.Middleware())
	}
	return mw
}

// RouterMetrics is the router's Metrics, or nil.
func (o *Observability) RouterMetrics() authbackend.Metrics {
	if o.metrics == nil {
		return nil
	}
	return o.metrics
}

// IdPClient is the HTTP client of one provider's IdP calls: measured and traced. nil
// (the provider's own client) when both are off.
func (o *Observability) IdPClient(provider string) *http.Client {
	if o.metrics == nil && o.tracing == nil {
		return nil
	}
	var rt http.RoundTripper = http.DefaultTransport
	if o.metrics != nil {
		rt = o.metrics.IdPTransport(provider, rt)
	}
	if o.tracing != nil {
		rt = o.tracing.Transport(rt, func(r *http.Request) string { return "idp " + metrics.ClassifyEndpoint(r) },
			attribute.String("auth.provider", provider))
	}
	return &http.Client{Transport: rt}
}

// CatalogHTTPClient carries the trace context to the remote catalog (nil: default).
func (o *Observability) CatalogHTTPClient() *http.Client {
	if o.tracing == nil {
		return nil
	}
	return &http.Client{Transport: o.tracing.Transport(nil, func(r *http.Request) string { return "catalog " + r.Method })}
}

// ---- catalog ----

// WrapCatalog measures and traces the lookups sign-in resolvers make.
func (o *Observability) WrapCatalog(c resolvers.Catalog) resolvers.Catalog {
	if c == nil || (o.metrics == nil && o.tracing == nil) {
		return c
	}
	w := &observedCatalog{next: c, tracing: o.tracing}
	if o.metrics != nil {
		w.find, w.get = o.metrics.CatalogOperation("find_users"), o.metrics.CatalogOperation("get_entity")
	}
	return w
}

type observedCatalog struct {
	next      resolvers.Catalog
	tracing   *tracing.Tracing
	find, get *metrics.CatalogRecorder
}

func (c *observedCatalog) FindUsers(ctx context.Context, filter map[string]string) ([]resolvers.Entity, error) {
	end := c.span(&ctx, "catalog.find_users")
	start := time.Now()
	es, err := c.next.FindUsers(ctx, filter)
	result := metrics.CatalogHit
	switch {
	case err != nil:
		result = metrics.CatalogError
	case len(es) == 0:
		result = metrics.CatalogMiss
	}
	c.record(c.find, result, start)
	end(err, result)
	return es, err
}

func (c *observedCatalog) GetEntityByRef(ctx context.Context, ref resolvers.EntityRef) (*resolvers.Entity, error) {
	end := c.span(&ctx, "catalog.get_entity")
	start := time.Now()
	e, err := c.next.GetEntityByRef(ctx, ref)
	result := metrics.CatalogHit
	switch {
	case backstageerr.NameOf(err) == backstageerr.NameNotFound:
		result = metrics.CatalogMiss
	case err != nil:
		result = metrics.CatalogError
	}
	c.record(c.get, result, start)
	if result == metrics.CatalogMiss {
		end(nil, result)
	} else {
		end(err, result)
	}
	return e, err
}

func (c *observedCatalog) record(r *metrics.CatalogRecorder, result string, start time.Time) {
	if r != nil {
		r.Observe(result, time.Since(start))
	}
}

// span starts a child span (when tracing and a parent span exist) and returns its end.
func (c *observedCatalog) span(ctx *context.Context, name string) func(err error, result string) {
	if c.tracing == nil {
		return func(error, string) {}
	}
	var end tracing.EndFunc
	*ctx, end = c.tracing.ChildSpan(*ctx, name)
	return func(err error, result string) { end(err, attribute.String("catalog.result", result)) }
}

// ---- database ----

// WrapUserInfo traces the user_info reads and writes of requests.
func (o *Observability) WrapUserInfo(s backstagetokens.UserInfoStore) backstagetokens.UserInfoStore {
	if o.tracing == nil {
		return s
	}
	return &tracedUserInfo{next: s, o: o}
}

type tracedUserInfo struct {
	next backstagetokens.UserInfoStore
	o    *Observability
}

func (t *tracedUserInfo) UpsertUserInfo(ctx context.Context, ref string, info json.RawMessage, at time.Time) error {
	ctx, end := t.o.dbSpan(ctx, "UPSERT user_info")
	err := t.next.UpsertUserInfo(ctx, ref, info, at)
	end(err)
	return err
}

func (t *tracedUserInfo) GetUserInfo(ctx context.Context, ref string) (json.RawMessage, error) {
	ctx, end := t.o.dbSpan(ctx, "SELECT user_info")
	info, err := t.next.GetUserInfo(ctx, ref)
	if errors.Is(err, backstagetokens.ErrNotFound) {
		end(nil)
	} else {
		end(err)
	}
	return info, err
}

func (o *Observability) dbSpan(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, end := o.tracing.ChildSpan(ctx, name, attribute.String("db.system.name", o.dbSystem))
	return ctx, func(err error) { end(err) }
}

// WrapKeyStore audits (and counts) the signing keys this process creates and removes,
// and traces the store calls made inside a request. A store that notifies other
// replicas keeps doing so.
func (o *Observability) WrapKeyStore(kind string, s signingkeys.KeyStore) signingkeys.KeyStore {
	w := &observedKeyStore{next: s, kind: kind, o: o}
	if n, ok := s.(signingkeys.ChangeNotifier); ok {
		return &observedNotifyingKeyStore{observedKeyStore: w, ChangeNotifier: n}
	}
	return w
}

type observedKeyStore struct {
	next signingkeys.KeyStore
	kind string
	o    *Observability
}

type observedNotifyingKeyStore struct {
	*observedKeyStore
	signingkeys.ChangeNotifier
}

func (s *observedKeyStore) AddKey(ctx context.Context, key signingkeys.StoredKey) error {
	ctx, end := s.span(ctx, "INSERT "+s.kind+" signing key")
	err := s.next.AddKey(ctx, key)
	end(err)
	if err == nil {
		if s.o.metrics != nil {
			s.o.metrics.KeyCreated(s.kind)
		}
		s.audit(ctx, "created", key.KID)
	}
	return err
}

func (s *observedKeyStore) ListKeys(ctx context.Context) ([]signingkeys.StoredKey, error) {
	ctx, end := s.span(ctx, "SELECT "+s.kind+" signing keys")
	keys, err := s.next.ListKeys(ctx)
	end(err)
	return keys, err
}

func (s *observedKeyStore) RemoveKeys(ctx context.Context, kids []string) error {
	err := s.next.RemoveKeys(ctx, kids)
	if err == nil && len(kids) > 0 {
		if s.o.metrics != nil {
			s.o.metrics.KeysRemoved(s.kind, len(kids))
		}
		for _, kid := range kids {
			s.audit(ctx, "removed", kid)
		}
	}
	return err
}

func (s *observedKeyStore) span(ctx context.Context, name string) (context.Context, func(error)) {
	if s.o.tracing == nil {
		return ctx, func(error) {}
	}
	return s.o.dbSpan(ctx, name)
}

// audit writes a key-rotation record: the kid is public (it is in the JWKS), the key
// material is never logged.
func (s *observedKeyStore) audit(ctx context.Context, action, kid string) {
	s.o.auditor.Audit(ctx, audit.Event{
		ID: audit.EventKeyRotation, Severity: audit.Medium, Status: audit.Succeeded, Outcome: action,
		Meta: []slog.Attr{slog.String("kind", s.kind), slog.String("action", action), slog.String("kid", kid)},
	})
}

// KeysServed registers the gauge of published keys of one key set.
func (o *Observability) KeysServed(kind string, ks signingkeys.KeySource) {
	if o.metrics == nil {
		return
	}
	o.metrics.KeysServed(kind, func() int {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		set, err := ks.PublicKeys(ctx)
		if err != nil || set == nil {
			return 0
		}
		return len(set.KIDs())
	})
}

// ---- tokens ----

// WrapIssuer counts the user tokens issued.
func (o *Observability) WrapIssuer(i authbackend.TokenIssuer) authbackend.TokenIssuer {
	if o.metrics == nil {
		return i
	}
	return &countingIssuer{next: i, issued: o.metrics.TokenCounter("user")}
}

type countingIssuer struct {
	next   authbackend.TokenIssuer
	issued interface{ Inc() }
}

func (c *countingIssuer) IssueUserToken(ctx context.Context, claims backstagetokens.UserClaims) (backstagetokens.IssuedToken, error) {
	t, err := c.next.IssueUserToken(ctx, claims)
	if err == nil {
		c.issued.Inc()
	}
	return t, err
}

// ---- metrics listener ----

// StartMetrics serves GET /metrics on authbackend.metrics.listen (never the public
// listener). It returns the server to shut down, or nil when metrics are off.
func (o *Observability) StartMetrics(addr string, logger *slog.Logger) (*http.Server, string, error) {
	if o.metrics == nil {
		return nil, "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: o.metrics.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr().String(), nil
}
