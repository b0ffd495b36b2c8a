package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecordShapeMatchesBackstageAuditor(t *testing.T) {
	var buf bytes.Buffer
	a := NewLogger(slog.New(slog.NewJSONHandler(&buf, nil)), nil)
	r := httptest.NewRequest("POST", "https://backstage.example.com:7007/api/auth/v1/sessions/revoke?token=SECRET", nil)
	r.Header.Set("User-Agent", "curl/8")
	actor, req := FromHTTP(r, "198.51.100.7")
	actor.ID = "plugin:catalog"
	a.Audit(context.Background(), Event{ID: EventOfflineSessionsRevoke, Severity: High, Status: Succeeded, Actor: actor, Request: req,
		Outcome: "success", Meta: []slog.Attr{slog.String("userEntityRef", "user:default/alice"), slog.Int("revokedCount", 2)}})
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	delete(got, "time")
	want := map[string]any{
		"level": "INFO", "msg": "auth.offline-sessions-revoke", "isAuditEvent": true, "plugin": "auth",
		"eventId": "offline-sessions-revoke", "severityLevel": "high", "status": "succeeded",
		"actor":   map[string]any{"actorId": "plugin:catalog", "ip": "198.51.100.7", "hostname": "backstage.example.com", "userAgent": "curl/8"},
		"request": map[string]any{"url": "/api/auth/v1/sessions/revoke", "method": "POST"},
		"meta":    map[string]any{"outcome": "success", "userEntityRef": "user:default/alice", "revokedCount": float64(2)},
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("record\n got %s\nwant %s", g, w)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Error("the query string was logged")
	}
}

func TestSeverityLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil)) // info and above
	def := NewLogger(log, nil)
	if def.Enabled(context.Background(), Low) || !def.Enabled(context.Background(), Medium) {
		t.Error("Backstage's defaults: low is debug, medium info")
	}
	mapped := NewLogger(log, map[string]string{"low": "warn", "high": "error"})
	mapped.Audit(context.Background(), Event{ID: "x", Severity: Low})
	mapped.Audit(context.Background(), Event{ID: "y", Severity: High})
	def.Audit(context.Background(), Event{ID: "z", Severity: Low})
	out := buf.String()
	if !strings.Contains(out, `"level":"WARN","msg":"auth.x"`) || !strings.Contains(out, `"level":"ERROR","msg":"auth.y"`) || strings.Contains(out, "auth.z") {
		t.Errorf("records: %s", out)
	}
	if Nop.Enabled(context.Background(), Critical) || OrNop(nil) != Nop {
		t.Error("Nop")
	}
}

func TestFromHTTPBoundsClientStrings(t *testing.T) {
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("User-Agent", strings.Repeat("é", 600))
	actor, _ := FromHTTP(r, "")
	if len(actor.UserAgent) > 520 || !strings.HasSuffix(actor.UserAgent, "…") || !strings.HasPrefix(actor.UserAgent, "éé") {
		t.Errorf("user agent = %d bytes", len(actor.UserAgent))
	}
}
