package outage

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOneRecordPerOutage(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var l Log
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.Recovered(log, t0, "back") // up already: nothing
	for i := range 5 {
		if started := l.Failed(log, t0.Add(time.Duration(i)*time.Second), "down", "i", i); started != (i == 0) {
			t.Errorf("failure %d: started = %v", i, started)
		}
	}
	if !l.Down() {
		t.Error("not down after failures")
	}
	l.Recovered(log, t0.Add(90*time.Second), "back")
	l.Recovered(log, t0.Add(91*time.Second), "back")
	l.Failed(log, t0.Add(100*time.Second), "down", "i", 9)
	got := buf.String()
	if n := strings.Count(got, "msg=down"); n != 2 {
		t.Errorf("%d warn records for two outages:\n%s", n, got)
	}
	if n := strings.Count(got, "msg=back"); n != 1 || !strings.Contains(got, "after=1m30s") {
		t.Errorf("recovery records:\n%s", got)
	}
	if !strings.Contains(got, "level=WARN msg=down i=0") || !strings.Contains(got, "level=WARN msg=down i=9") {
		t.Errorf("the first failure of each outage is the one logged:\n%s", got)
	}
}
