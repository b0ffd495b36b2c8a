package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentationName names the tracer.
const InstrumentationName = "github.com/spectrocloud-labs/backstage-auth-go"

// Tracing is a configured tracer provider with its exporter.
type Tracing struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// Enabled reports whether the environment asks for OTLP traces.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); exp != "" && !strings.Contains(exp, "otlp") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv returns the tracing the OTEL_* environment configures, or nil when it asks
// for none. The exporter speaks OTLP over HTTP/protobuf (the specification's default)
// or gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc, or the TRACES_ variant). getenv gives
// the endpoint and protocol; headers, TLS, timeouts, the sampler
// (OTEL_TRACES_SAMPLER), the batch processor (OTEL_BSP_*) and the resource
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) are read by the SDK from the process
// environment. Nothing connects until the first export.
func FromEnv(ctx context.Context, getenv func(string) string, serviceName, version string) (*Tracing, error) {
	if !Enabled(getenv) {
		return nil, nil
	}
	protocol := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	// The signal-specific endpoint is used as it is; the general one is a base URL to
	// which the HTTP exporter adds /v1/traces (as the specification says).
	endpoint, general := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), false
	if endpoint == "" {
		endpoint, general = getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), true
	}
	var exp sdktrace.SpanExporter
	var err error
	switch strings.TrimSpace(protocol) {
	case "", "http/protobuf":
		if general {
			endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
		}
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	case "grpc":
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
	default:
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported (use http/protobuf or grpc)", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", serviceName), attribute.String("service.version", version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return New(tp), nil
}

// New wraps a tracer provider (tests give one with an in-memory exporter).
func New(tp *sdktrace.TracerProvider) *Tracing {
	return &Tracing{
		tp:     tp,
		tracer: tp.Tracer(InstrumentationName),
		prop:   propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
}

// Shutdown flushes the spans not yet exported and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.tp.Shutdown(ctx) }

// Middleware starts the server span of every request, continuing a W3C trace context
// the caller sent. Its name is the method and gin's route template (never the raw
// path), known once the route ran. It must run first.
func (t *Tracing) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		c.Request = r.WithContext(ctx)
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		span.SetName(r.Method + " " + route)
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
}

// Transport wraps base (nil: http.DefaultTransport) so that every call is a client
// span named name(req) with attrs, and carries the W3C trace context (traceparent) to
// the server. The span ends when the response headers arrive.
func (t *Tracing) Transport(base http.RoundTripper, name func(*http.Request) string, attrs ...attribute.KeyValue) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{t: t, base: base, name: name, attrs: attrs}
}

type transport struct {
	t     *Tracing
	base  http.RoundTripper
	name  func(*http.Request) string
	attrs []attribute.KeyValue
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := tr.t.tracer.Start(req.Context(), tr.name(req), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(tr.attrs...),
		trace.WithAttributes(attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()), attribute.String("url.path", req.URL.Path)))
	defer span.End()
	// A RoundTripper must not change the caller's request.
	out := req.Clone(ctx)
	tr.t.prop.Inject(ctx, propagation.HeaderCarrier(out.Header))
	resp, err := tr.base.RoundTrip(out)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "request failed")
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}

// EndFunc finishes a span, recording err (nil: ok) and further attributes.
type EndFunc func(err error, attrs ...attribute.KeyValue)

func noEnd(error, ...attribute.KeyValue) {}

// Span starts a span (a child of ctx's span, if any).
func (t *Tracing) Span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, EndFunc) {
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return ctx, func(err error, more ...attribute.KeyValue) {
		if len(more) > 0 {
			span.SetAttributes(more...)
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "failed")
		}
		span.End()
	}
}

// ChildSpan is Span only inside a recorded trace: background work (key polls, cache
// refreshes) starts no trace of its own.
func (t *Tracing) ChildSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, EndFunc) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, noEnd
	}
	return t.Span(ctx, name, attrs...)
}
