// Package tracing owns OpenTelemetry tracing: the SDK and OTLP exporter configured
// from the standard OTEL_* environment, a server span per HTTP request, client spans
// (with W3C trace context injected) for calls to the IdP and the catalog, and child
// spans for other work (catalog lookups, database calls) that cmd wraps around the
// components it wires.
//
// It is off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set (and OTEL_SDK_DISABLED is not true, OTEL_TRACES_EXPORTER not "none"). Off
// means FromEnv returns nil and cmd installs nothing: no middleware, no wrapped
// transport, no cost on any request.
package tracing
