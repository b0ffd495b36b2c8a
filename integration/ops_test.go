package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/tracing/otlptest"
)

// startOpsServer is startServer with a command line of the test's choosing.
func startOpsServer(t *testing.T, c serverConfig, env []string, args ...string) *server {
	t.Helper()
	dir := t.TempDir()
	if c.Port == 0 {
		c.Port = freePort(t)
	}
	c.AppURL = "http://127.0.0.1:3000"
	s := &server{URL: fmt.Sprintf("http://127.0.0.1:%d", c.Port), AppURL: c.AppURL, Dir: dir}
	s.cfgPath = writeConfig(t, dir, c)
	s.proc = startProcess(t, "authbackend", append([]string{"NODE_ENV=production"}, env...), append([]string{"--config", s.cfgPath}, args...)...)
	waitHTTP(t, s.proc, s.URL+"/.backstage/health/v1/readiness")
	return s
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// auditRecords are the audit records of a JSON log.
func auditRecords(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["isAuditEvent"] == true {
			out = append(out, m)
		}
	}
	return out
}

func findRecord(recs []map[string]any, want map[string]any) map[string]any {
	for _, r := range recs {
		ok := true
		for path, v := range want {
			if dig(r, strings.Split(path, ".")...) != v {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

// One scripted run (sign-in, refresh, a user not found, an IdP failure, logout, refresh
// after logout, refresh with a forged cookie) against the real binary with metrics and tracing on: the metrics
// listener serves the documented series with bounded labels, the audit records are
// there, a trace with the IdP, catalog and database child spans reaches an OTLP
// receiver of the test's own, and no token, code or secret appears anywhere in the
// whole log (at debug level).
func TestMetricsAuditAndTracesOfAScriptedRun(t *testing.T) {
	mock := startMock(t, "--refresh-grant")
	rcv := otlptest.NewHTTP(t)
	metricsPort := freePort(t)
	const sessionSecret = "ops-session-secret-0123456789abcdef-xyz"
	s := startOpsServer(t, serverConfig{Mock: mock, Secret: sessionSecret,
		Extra: fmt.Sprintf("authbackend:\n  metrics:\n    listen: 127.0.0.1:%d", metricsPort)},
		[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + rcv.Endpoint, "OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_SERVICE_NAME=auth-it"},
		"--log-level", "debug")
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)

	// Everything secret the run handles, to look for in the log afterwards.
	secrets := map[string]string{"session secret": sessionSecret, "client secret": "backstage-secret"}
	b := newBrowser(t, s.AppURL)
	redirect := b.CheckRedirect
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if q := req.URL.Query(); q.Get("code") != "" {
			secrets["code "+q.Get("code")] = q.Get("code")
			secrets["state"] = q.Get("state")
		}
		return redirect(req, via)
	}
	msg := signInPopup(t, b, s)
	resp := msg["response"].(map[string]any)
	token := identity(t, s, resp, "alice", "group:default/team-a")
	secrets["backstage token"] = token
	secrets["id token"], _ = dig(resp, "providerInfo", "idToken").(string)
	secrets["access token"], _ = dig(resp, "providerInfo", "accessToken").(string)
	refreshCookie, _ := b.cookie(s.auth("/spectrocloud/refresh"), "spectrocloud-refresh-token")
	secrets["refresh cookie"] = refreshCookie

	r, body := b.get(refreshURL(s), xrw, "XMLHttpRequest")
	if r.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", r.StatusCode, body)
	}
	refreshed := jsonBody(t, body)
	secrets["refreshed token"], _ = dig(refreshed, "backstageIdentity", "token").(string)
	secrets["refreshed access token"], _ = dig(refreshed, "providerInfo", "accessToken").(string)

	mock.next(t, "email=nobody@example.com")
	if m := signInPopup(t, newBrowser(t, s.AppURL), s); m["error"] == nil {
		t.Fatalf("unknown user signed in: %v", m)
	}
	mock.next(t, "token_status=500")
	if m := signInPopup(t, newBrowser(t, s.AppURL), s); m["error"] == nil {
		t.Fatalf("sign-in with a failing token endpoint: %v", m)
	}
	if r, body := b.do(http.MethodPost, s.auth("/spectrocloud/logout?env=development"), xrw, "XMLHttpRequest"); r.StatusCode != 200 {
		t.Fatalf("logout: %d %s", r.StatusCode, body)
	}
	if r, _ := b.get(refreshURL(s), xrw, "XMLHttpRequest"); r.StatusCode != 401 {
		t.Fatalf("refresh after logout: %d", r.StatusCode)
	}
	if r, _ := b.get(refreshURL(s), xrw, "XMLHttpRequest", "Cookie", "spectrocloud-refresh-token=forged"); r.StatusCode != 401 {
		t.Fatalf("refresh with a forged cookie: %d", r.StatusCode)
	}
	// Unknown provider ids and paths never become label values.
	get(t, s.auth("/evil-provider-xyz/start?env=development"))
	get(t, s.URL+"/some/raw/path/alice")

	t.Run("metrics", func(t *testing.T) {
		if code, _ := get(t, s.URL+"/metrics"); code != 404 {
			t.Errorf("/metrics on the public port answered %d", code)
		}
		code, m := get(t, metricsURL)
		if code != 200 {
			t.Fatalf("metrics: %d", code)
		}
		for _, line := range []string{
			`authbackend_sign_ins_total{outcome="success",provider="spectrocloud"} 1`,
			`authbackend_sign_ins_total{outcome="user_not_found",provider="spectrocloud"} 1`,
			`authbackend_sign_ins_total{outcome="idp_error",provider="spectrocloud"} 1`,
			`authbackend_refreshes_total{outcome="success",provider="spectrocloud"} 1`,
			`authbackend_refreshes_total{outcome="no_session",provider="spectrocloud"} 1`,
			`authbackend_refreshes_total{outcome="invalid_session",provider="spectrocloud"} 1`,
			`authbackend_tokens_issued_total{type="user"} 2`,
			`authbackend_signing_keys_created_total{kind="user"} 1`,
			`authbackend_signing_keys_served{kind="user"} 1`,
			`authbackend_http_requests_total{method="GET",route="/api/auth/spectrocloud/refresh",status="200"} 1`,
			`authbackend_http_requests_total{method="GET",route="/api/auth/spectrocloud/refresh",status="401"} 2`,
			`authbackend_http_requests_total{method="GET",route="unmatched",status="404"} 3`,
			`authbackend_idp_request_errors_total{endpoint="token",kind="http_5xx",provider="spectrocloud"} 1`,
		} {
			if !strings.Contains(m, "\n"+line+"\n") {
				t.Errorf("scrape lacks %s", line)
			}
		}
		for _, re := range []string{
			`\nauthbackend_idp_request_duration_seconds_count\{endpoint="token",provider="spectrocloud"\} [3-9]\n`,
			`\nauthbackend_idp_request_duration_seconds_count\{endpoint="discovery",provider="spectrocloud"\} [1-9]\n`,
			`\nauthbackend_catalog_lookups_total\{operation="find_users",result="hit"\} [1-9]\n`,
			`\nauthbackend_catalog_lookups_total\{operation="find_users",result="miss"\} [1-9]\n`,
			`\nauthbackend_http_request_duration_seconds_bucket\{method="GET",route="/api/auth/spectrocloud/handler/frame",status="200",le="\+Inf"\} 3\n`,
			`\ngo_sql_open_connections\{db_name="auth"\} \d+\n`,
			`\nauthbackend_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1\n`,
			`\nprocess_resident_memory_bytes \S+\n`,
		} {
			if !regexp.MustCompile(re).MatchString(m) {
				t.Errorf("scrape does not match %s", re)
			}
		}
		for _, leak := range []string{"evil-provider-xyz", "alice", "nobody", "/some/raw"} {
			if strings.Contains(m, leak) {
				t.Errorf("a label value holds %q", leak)
			}
		}
	})

	t.Run("traces", func(t *testing.T) {
		spans, ok := rcv.WaitFor(10*time.Second, func(sp otlptest.Span) bool {
			return sp.Name == "UPSERT user_info" && sp.Service == "auth-it"
		})
		if !ok {
			t.Fatalf("no database span arrived; spans: %+v", spans)
		}
		// The first sign-in's trace: its server span and, below it, the IdP token call,
		// the catalog lookup and the user_info write.
		var frame otlptest.Span
		for _, sp := range spans {
			if sp.Name == "GET /api/auth/spectrocloud/handler/frame" && sp.Kind == "SPAN_KIND_SERVER" {
				frame = sp
				break
			}
		}
		if frame.SpanID == "" {
			t.Fatalf("no server span for the callback; spans: %+v", spans)
		}
		children := map[string]bool{}
		for _, sp := range spans {
			if sp.TraceID == frame.TraceID && sp.ParentSpanID == frame.SpanID {
				children[sp.Name] = true
			}
		}
		for _, want := range []string{"idp token", "catalog.find_users", "UPSERT user_info"} {
			if !children[want] {
				t.Errorf("callback span lacks child %q; children %v", want, children)
			}
		}
		for _, sp := range spans {
			for k, v := range sp.Attrs {
				for name, sec := range secrets {
					if sec != "" && strings.Contains(v, sec) {
						t.Errorf("span %q attribute %s holds the %s", sp.Name, k, name)
					}
				}
			}
		}
	})

	t.Run("audit", func(t *testing.T) {
		recs := auditRecords(t, s.proc.out.String())
		for _, want := range []map[string]any{
			{"msg": "auth.sign-in", "status": "succeeded", "actor.actorId": "user:default/alice", "meta.provider": "spectrocloud", "actor.ip": "127.0.0.1"},
			{"msg": "auth.sign-in", "status": "failed", "meta.outcome": "user_not_found", "meta.email": "nobody@example.com"},
			{"msg": "auth.sign-in", "status": "failed", "meta.outcome": "idp_error"},
			{"msg": "auth.refresh", "status": "failed", "meta.outcome": "no_session", "meta.reason": "InputError: Missing session cookie", "level": "DEBUG"},
			{"msg": "auth.refresh", "status": "failed", "meta.outcome": "invalid_session", "level": "INFO"},
			{"msg": "auth.logout", "status": "succeeded", "meta.outcome": "success"},
			{"msg": "auth.key-rotation", "meta.kind": "user", "meta.action": "created"},
		} {
			if findRecord(recs, want) == nil {
				t.Errorf("no audit record %v in %v", want, recs)
			}
		}
		if r := findRecord(recs, map[string]any{"meta.outcome": "user_not_found"}); r != nil {
			if reason, _ := dig(r, "meta", "reason").(string); !strings.Contains(reason, "unable to resolve user identity") {
				t.Errorf("user_not_found reason = %q", reason)
			}
		}
	})

	// Last, with the process stopped, so every line is in.
	_ = s.proc.cmd.Process.Signal(os.Interrupt)
	<-s.proc.done
	log := s.proc.out.String()
	if !strings.Contains(log, `"msg":"http request"`) {
		t.Fatal("the log is not at debug level")
	}
	for name, sec := range secrets {
		if sec == "" {
			t.Errorf("the run captured no %s", name)
			continue
		}
		if strings.Contains(log, sec) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

// SIGTERM: readiness answers 503 at once, liveness 200, requests keep being served
// during authbackend.shutdown.delay, the in-flight sign-in (its IdP token call takes
// 1.5 s) finishes, and the process exits 0.
func TestSIGTERMDrains(t *testing.T) {
	mock := startMock(t)
	s := startOpsServer(t, serverConfig{Mock: mock, Extra: "authbackend:\n  shutdown:\n    delay: 1s\n    gracePeriod: 10s"}, nil)
	mock.next(t, "token_delay_ms=1500")
	done := make(chan map[string]any, 1)
	go func() {
		b := newBrowser(t, s.AppURL)
		resp, body := b.get(startURL(s, "&flow=popup"))
		if resp.StatusCode != 200 {
			done <- map[string]any{"status": resp.StatusCode}
			return
		}
		done <- popupMessage(t, body)
	}()
	time.Sleep(500 * time.Millisecond) // the callback is waiting for the IdP
	signalAt := time.Now()
	if err := s.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if code, body := get(t, s.URL+"/.backstage/health/v1/readiness"); code != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("readiness after SIGTERM: %d %s", code, body)
	}
	if code, _ := get(t, s.URL+"/.backstage/health/v1/liveness"); code != 200 {
		t.Errorf("liveness after SIGTERM: %d", code)
	}
	if code, _ := get(t, s.auth("/.well-known/jwks.json")); code != 200 {
		t.Errorf("JWKS during the shutdown delay: %d", code)
	}
	select {
	case msg := <-done:
		if msg["error"] != nil || dig(msg, "response", "backstageIdentity", "token") == nil {
			t.Errorf("in-flight sign-in: %v", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight sign-in never finished")
	}
	select {
	case <-s.proc.done:
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after the drain")
	}
	if code := s.proc.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if took := time.Since(signalAt); took < time.Second {
		t.Errorf("exited %s after SIGTERM, before the 1s delay", took)
	}
}

// The grace period bounds the drain: a request that would take longer is cut and the
// process still exits 0 once the period is over.
func TestSIGTERMGracePeriodBoundsTheDrain(t *testing.T) {
	mock := startMock(t)
	s := startOpsServer(t, serverConfig{Mock: mock, Extra: "authbackend:\n  shutdown:\n    gracePeriod: 1s"}, nil)
	mock.next(t, "token_delay_ms=8000")
	go func() {
		req, _ := http.NewRequest("GET", startURL(s, "&flow=popup"), nil)
		b := newBrowser(t, s.AppURL)
		if resp, err := b.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	_ = s.proc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.proc.done:
	case <-time.After(6 * time.Second):
		t.Fatal("the grace period did not bound the drain")
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("exited after %s, before the grace period", took)
	}
	if code := s.proc.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if !strings.Contains(s.proc.out.String(), "grace period over") {
		t.Errorf("no grace-period log line:\n%s", s.proc.out.String())
	}
}

// Readiness follows the database: 503 while PostgreSQL is cut off or black-holed
// (behind a TCP proxy owned by the test), 200 again once it is back, without a restart.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	dsn, prefix := pgPrefix(t)
	u, _ := url.Parse(dsn)
	proxy := newTCPProxy(t, u.Host)
	proxied := *u
	proxied.Host = proxy.addr
	s := startOpsServer(t, serverConfig{Database: pgDatabaseYAML(t, proxied.String(), prefix)}, nil)
	ready := s.URL + "/.backstage/health/v1/readiness"
	waitStatus := func(want int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			code, body := get(t, ready)
			if code == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("readiness = %d (%s), want %d", code, body, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitStatus(200, time.Second)
	for _, mode := range []proxyMode{proxyRefuse, proxyBlackHole} {
		proxy.set(mode)
		waitStatus(503, 8*time.Second)
		if code, _ := get(t, s.URL+"/.backstage/health/v1/liveness"); code != 200 {
			t.Errorf("liveness while the database is away: %d", code)
		}
		proxy.set(proxyForward)
		waitStatus(200, 8*time.Second)
	}
	select {
	case <-s.proc.done:
		t.Fatal("the server exited")
	default:
	}
}
