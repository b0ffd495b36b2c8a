package audit

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// Plugin is the plugin id of every record ("auth", as Backstage's auth plugin).
const Plugin = "auth"

// Event names (eventId). Backstage's own name is kept where it has one for the same
// action (offline-sessions-revoke); the others follow its style (kebab-case, no plugin
// prefix: the record's message adds it).
const (
	// EventSignIn: a sign-in callback or a proxy provider's sign-in; succeeded with the
	// user as actor, or failed with meta.outcome and meta.reason (the resolver's reason
	// when the user was not found or refused).
	EventSignIn = "sign-in"
	// EventSignInPolicy: a decision of a sign-in policy (signIn.policy) or a deny
	// expression, written by the resolvers.
	EventSignInPolicy = "sign-in-policy"
	// EventRefresh: a refresh that was refused (successful refreshes are not audited:
	// they are the hot path, and the metrics count them).
	EventRefresh = "refresh"
	// EventLogout: a sign-out.
	EventLogout = "logout"
	// EventSessionRevoke: one sign-in session ended server-side.
	EventSessionRevoke = "session-revoke"
	// EventOfflineSessionsRevoke: every session of a user ended (offboarding); meta
	// userEntityRef and revokedCount, as Backstage's event of the same name.
	EventOfflineSessionsRevoke = "offline-sessions-revoke"
	// EventRateLimit: a client was refused by a rate limit (at most once per client and
	// limit per minute); meta.limit names the config key.
	EventRateLimit = "rate-limit"
	// EventKeyRotation: a signing key was created or removed; meta kind (user or
	// plugin), action (created or removed), kid.
	EventKeyRotation = "key-rotation"
)

// Severity is Backstage's severityLevel.
type Severity string

const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Status is Backstage's status of an event.
type Status string

const (
	Initiated Status = "initiated"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Actor is who the event is about: the user (or service) ref when known, and the
// client the request came from.
type Actor struct {
	// ID is the user entity ref or service subject ("" when nobody was identified).
	ID        string
	IP        string
	Hostname  string
	UserAgent string
}

// Request is the HTTP request an event belongs to. URL is the path only, never the
// query string.
type Request struct {
	URL    string
	Method string
}

// Event is one audit record.
type Event struct {
	// ID is the event name (one of the Event* constants, or a component's own).
	ID       string
	Severity Severity
	Status   Status
	Actor    Actor
	Request  *Request
	// Provider is the auth provider id (configured ids only, never one from a URL).
	Provider string
	// Outcome is the fine-grained result, e.g. success, user_not_found, idp_error.
	Outcome string
	// Reason says why it failed (a public error message; never a token or secret).
	Reason string
	// Meta are further fields under meta: refs, ids, counts. Never a credential.
	Meta []slog.Attr
}

// Auditor records audit events. Implementations must not block the caller for long.
type Auditor interface {
	// Enabled reports whether events of that severity are recorded at all, so a caller
	// on a hot path can skip building one.
	Enabled(ctx context.Context, sev Severity) bool
	Audit(ctx context.Context, e Event)
}

// Nop discards every event.
var Nop Auditor = nop{}

type nop struct{}

func (nop) Enabled(context.Context, Severity) bool { return false }
func (nop) Audit(context.Context, Event)           {}

// OrNop returns a, or Nop when a is nil.
func OrNop(a Auditor) Auditor {
	if a == nil {
		return Nop
	}
	return a
}

// FromHTTP returns the actor (without ID) and request of an HTTP request. clientIP is
// the client address as the server determined it (proxy headers honoured only when
// trusted).
func FromHTTP(r *http.Request, clientIP string) (Actor, *Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return Actor{IP: clientIP, Hostname: clip(host, 255), UserAgent: clip(r.UserAgent(), 512)},
		&Request{URL: r.URL.Path, Method: r.Method}
}

// clip bounds a client-supplied string, cutting on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Logger writes events to a slog.Logger as Backstage's auditor does: message
// "auth.<eventId>", level from the severity mapping.
type Logger struct {
	log    *slog.Logger
	levels map[Severity]slog.Level
}

// NewLogger returns an Auditor writing to log. levels maps severities to log level
// names (backend.auditor.severityLogLevelMappings); missing ones take Backstage's
// defaults (low: debug, others: info).
func NewLogger(log *slog.Logger, levels map[string]string) *Logger {
	l := &Logger{log: log, levels: map[Severity]slog.Level{
		Low: slog.LevelDebug, Medium: slog.LevelInfo, High: slog.LevelInfo, Critical: slog.LevelInfo,
	}}
	for sev, name := range levels {
		var lvl slog.Level
		if lvl.UnmarshalText([]byte(strings.ToUpper(name))) == nil {
			l.levels[Severity(sev)] = lvl
		}
	}
	return l
}

func (l *Logger) level(sev Severity) slog.Level {
	if lvl, ok := l.levels[sev]; ok {
		return lvl
	}
	return l.levels[Low]
}

// Enabled implements Auditor.
func (l *Logger) Enabled(ctx context.Context, sev Severity) bool {
	return l.log.Enabled(ctx, l.level(sev))
}

// Audit implements Auditor.
func (l *Logger) Audit(ctx context.Context, e Event) {
	sev := e.Severity
	if sev == "" {
		sev = Low
	}
	lvl := l.level(sev)
	if !l.log.Enabled(ctx, lvl) {
		return
	}
	status := e.Status
	if status == "" {
		status = Succeeded
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.Bool("isAuditEvent", true),
		slog.String("plugin", Plugin),
		slog.String("eventId", e.ID),
		slog.String("severityLevel", string(sev)),
		slog.String("status", string(status)),
	)
	actor := make([]any, 0, 4)
	for _, f := range [...]struct{ k, v string }{
		{"actorId", e.Actor.ID}, {"ip", e.Actor.IP}, {"hostname", e.Actor.Hostname}, {"userAgent", e.Actor.UserAgent},
	} {
		if f.v != "" {
			actor = append(actor, slog.String(f.k, f.v))
		}
	}
	if len(actor) > 0 {
		attrs = append(attrs, slog.Group("actor", actor...))
	}
	if e.Request != nil {
		attrs = append(attrs, slog.Group("request", slog.String("url", e.Request.URL), slog.String("method", e.Request.Method)))
	}
	meta := make([]any, 0, 3+len(e.Meta))
	for _, f := range [...]struct{ k, v string }{{"provider", e.Provider}, {"outcome", e.Outcome}, {"reason", e.Reason}} {
		if f.v != "" {
			meta = append(meta, slog.String(f.k, f.v))
		}
	}
	for _, a := range e.Meta {
		meta = append(meta, a)
	}
	if len(meta) > 0 {
		attrs = append(attrs, slog.Group("meta", meta...))
	}
	l.log.LogAttrs(ctx, lvl, Plugin+"."+e.ID, attrs...)
}
