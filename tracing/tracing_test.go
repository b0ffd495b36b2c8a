package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"

	"github.com/spectrocloud-labs/backstage-auth-go/tracing/otlptest"
)

func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
	} {
		if got := Enabled(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("Enabled(%v) = %v", tc.env, got)
		}
	}
	tr, err := FromEnv(context.Background(), func(string) string { return "" }, "x", "v")
	if tr != nil || err != nil {
		t.Errorf("FromEnv without endpoint = %v, %v", tr, err)
	}
	if _, err := FromEnv(context.Background(), func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}[k]
	}, "x", "v"); err == nil || !strings.Contains(err.Error(), "http/json") {
		t.Errorf("unsupported protocol: %v", err)
	}
}

// A request's server span, its client span to an upstream (which receives the trace
// context) and an internal child span reach an OTLP receiver, over HTTP and gRPC.
func TestTraceReachesOTLPReceiver(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			var rcv *otlptest.Receiver
			if protocol == "grpc" {
				rcv = otlptest.NewGRPC(t)
			} else {
				rcv = otlptest.NewHTTP(t)
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.Endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
			t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
			t.Setenv("OTEL_SERVICE_NAME", "auth-test")
			tr, err := FromEnv(context.Background(), getenv, "backstage-auth-go", "test")
			if err != nil || tr == nil {
				t.Fatalf("FromEnv: %v, %v", tr, err)
			}
			var traceparent string
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				traceparent = r.Header.Get("Traceparent")
			}))
			defer upstream.Close()
			client := &http.Client{Transport: tr.Transport(nil, func(*http.Request) string { return "idp token" }, attribute.String("auth.provider", "oidc"))}

			e := gin.New()
			e.Use(tr.Middleware())
			e.GET("/api/auth/:provider/refresh", func(c *gin.Context) {
				_, end := tr.ChildSpan(c.Request.Context(), "catalog.find_users")
				end(nil)
				req, _ := http.NewRequestWithContext(c.Request.Context(), "POST", upstream.URL+"/token", nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if req.Header.Get("Traceparent") != "" {
					t.Error("the transport changed the caller's request")
				}
				c.Status(204)
			})
			e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/auth/oidc/refresh", nil))
			// Background work outside a request starts no trace.
			_, end := tr.ChildSpan(context.Background(), "background")
			end(nil)
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			spans := rcv.Spans()
			byName := map[string]otlptest.Span{}
			for _, s := range spans {
				byName[s.Name] = s
			}
			server, ok := byName["GET /api/auth/:provider/refresh"]
			if !ok || server.Kind != "SPAN_KIND_SERVER" || server.Service != "auth-test" || server.Attrs["http.route"] != "/api/auth/:provider/refresh" {
				t.Fatalf("server span missing or wrong: %+v", spans)
			}
			for _, name := range []string{"catalog.find_users", "idp token"} {
				s, ok := byName[name]
				if !ok || s.TraceID != server.TraceID || s.ParentSpanID != server.SpanID {
					t.Errorf("child span %q = %+v (server %s/%s)", name, s, server.TraceID, server.SpanID)
				}
			}
			if byName["idp token"].Attrs["auth.provider"] != "oidc" {
				t.Errorf("client span attributes %v", byName["idp token"].Attrs)
			}
			if !strings.Contains(traceparent, server.TraceID) || !strings.Contains(traceparent, byName["idp token"].SpanID) {
				t.Errorf("upstream traceparent %q, trace %s", traceparent, server.TraceID)
			}
			if _, ok := byName["background"]; ok || len(spans) != 3 {
				t.Errorf("spans = %+v", spans)
			}
		})
	}
}

func getenv(k string) string { return os.Getenv(k) }
