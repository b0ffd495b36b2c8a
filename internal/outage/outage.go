package outage

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Log is one upstream's outage state. The zero value is an upstream that is up.
type Log struct {
	mu    sync.Mutex
	down  bool
	since time.Time
}

// Failed records a failure at now: logged at Warn when the upstream was up, else at
// Debug. It reports whether this failure started an outage.
func (l *Log) Failed(log *slog.Logger, now time.Time, msg string, args ...any) bool {
	l.mu.Lock()
	started := !l.down
	if started {
		l.down, l.since = true, now
	}
	l.mu.Unlock()
	level := slog.LevelDebug
	if started {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, msg, args...)
	return started
}

// Recovered records a success at now: logged at Info, with the outage's duration, when
// the upstream was down; nothing otherwise.
func (l *Log) Recovered(log *slog.Logger, now time.Time, msg string, args ...any) {
	l.mu.Lock()
	was, since := l.down, l.since
	l.down = false
	l.mu.Unlock()
	if was {
		log.Info(msg, append(args, "after", now.Sub(since).Round(time.Millisecond).String())...)
	}
}

// Down reports whether an outage is going on.
func (l *Log) Down() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down
}
