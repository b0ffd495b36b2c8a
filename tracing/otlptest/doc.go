// Package otlptest is an in-process OTLP trace receiver for tests: it accepts
// ExportTraceServiceRequest over HTTP/protobuf (POST /v1/traces) or gRPC on
// 127.0.0.1 and keeps the spans it received.
package otlptest
