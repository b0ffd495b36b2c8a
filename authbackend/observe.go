package authbackend

import (
	"errors"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Metrics counts what the router does (package metrics implements it; cmd wires it).
// Provider is always a configured provider id and outcome one of the outcome
// constants below, so the label sets stay bounded.
type Metrics interface {
	SignIn(provider, outcome string)
	Refresh(provider, outcome string)
	RateLimited(limit string)
}

type noMetrics struct{}

func (noMetrics) SignIn(string, string)  {}
func (noMetrics) Refresh(string, string) {}
func (noMetrics) RateLimited(string)     {}

// Outcomes of sign-ins and refreshes (metric label and audit meta.outcome).
const (
	OutcomeSuccess        = "success"
	OutcomeInvalidRequest = "invalid_request" // state, nonce, origin or env refused before any IdP call
	OutcomeDenied         = "denied"          // the user refused consent at the IdP, or the resolver refused the user
	OutcomeIdPError       = "idp_error"       // the IdP failed or refused the code or session
	OutcomeIdPUnavailable = "idp_unavailable" // refresh: the IdP could not be reached; the session stands (503)
	OutcomeUserNotFound   = "user_not_found"  // no resolver found the user in the catalog
	OutcomeNoSession      = "no_session"      // refresh or logout without a refresh cookie (not signed in)
	OutcomeInvalidSession = "invalid_session" // refresh: a refresh cookie that does not open
	OutcomeExpired        = "expired"         // refresh: the session's duration is over
	OutcomeRevoked        = "revoked"         // refresh: the session was ended by a logout or offboarding
	OutcomeError          = "error"           // anything else (catalog down, token issuing failed, ...)
)

// stage is where a sign-in or refresh failed, for its outcome.
type stage int

const (
	stageRequest stage = iota
	stageSession
	stageExpired
	stageRevoked
	stageIdP
	stageResolve
	stageIssue
)

// stagedError marks where an error arose; it is transparent to errors.As, so the
// Backstage error inside still decides the HTTP answer.
type stagedError struct {
	stage stage
	err   error
}

func (e *stagedError) Error() string { return e.err.Error() }
func (e *stagedError) Unwrap() error { return e.err }

func atStage(st stage, err error) error {
	if err == nil {
		return nil
	}
	return &stagedError{stage: st, err: err}
}

// outcomeOf classifies a failed sign-in or refresh. idpDenied: the IdP's callback said
// access_denied (the user declined).
func outcomeOf(err error, idpDenied bool) string {
	if err == nil {
		return OutcomeSuccess
	}
	st := stageRequest
	var se *stagedError
	if errors.As(err, &se) {
		st = se.stage
	}
	switch st {
	case stageSession:
		if backstageerr.NameOf(err) == backstageerr.NameInput {
			return OutcomeNoSession
		}
		return OutcomeInvalidSession
	case stageExpired:
		return OutcomeExpired
	case stageRevoked:
		return OutcomeRevoked
	case stageIdP:
		if idpDenied {
			return OutcomeDenied
		}
		return OutcomeIdPError
	case stageResolve:
		if errors.Is(err, resolvers.ErrUnresolvedIdentity) {
			return OutcomeUserNotFound
		}
		switch backstageerr.NameOf(err) {
		case backstageerr.NameNotFound:
			return OutcomeUserNotFound
		case backstageerr.NameNotAllowed, backstageerr.NameAuthentication, backstageerr.NameInput:
			return OutcomeDenied
		}
		return OutcomeError
	case stageIssue:
		return OutcomeError
	}
	return OutcomeInvalidRequest
}

// userRefOf is the signed-in user of a sign-in response ("" when none was resolved).
func userRefOf(resp *signInResponse) string {
	if resp == nil || resp.BackstageIdentity == nil {
		return ""
	}
	return resp.BackstageIdentity.Identity.UserEntityRef
}

// auditReason is what an audit record says about err: the public Backstage class and
// message (never a Detail, which may hold upstream answers), or a fixed text.
func auditReason(err error) string {
	if be, ok := backstageerr.As(err); ok {
		return be.Name + ": " + be.Message
	}
	return "Error: internal error"
}

// auditEvent is an event about the request c, with the client address as the rate
// limits see it.
func (s *Server) auditEvent(c *gin.Context, id string, sev audit.Severity, provider string) audit.Event {
	actor, req := audit.FromHTTP(c.Request, clientAddress(c.Request, s.cfg.Backend.TrustProxy))
	return audit.Event{ID: id, Severity: sev, Status: audit.Succeeded, Actor: actor, Request: req, Provider: provider}
}

// observeSignIn counts and audits a finished sign-in.
func (s *Server) observeSignIn(c *gin.Context, provider, email, userRef string, idpDenied bool, err error, sev audit.Severity) {
	outcome := outcomeOf(err, idpDenied)
	s.metrics.SignIn(provider, outcome)
	if err != nil {
		sev = audit.Medium
	}
	if !s.audit.Enabled(c.Request.Context(), sev) {
		return
	}
	ev := s.auditEvent(c, audit.EventSignIn, sev, provider)
	ev.Outcome, ev.Actor.ID = outcome, userRef
	if email != "" {
		ev.Meta = []slog.Attr{slog.String("email", email)}
	}
	if err != nil {
		ev.Status, ev.Reason = audit.Failed, auditReason(err)
	}
	s.audit.Audit(c.Request.Context(), ev)
}

// observeRefresh counts a refresh and audits a refused one. A refresh without any
// session cookie is the frontend probing whether the user is signed in (every page
// load of a signed-out user): low severity, so not logged by default.
func (s *Server) observeRefresh(c *gin.Context, provider string, err error) {
	outcome := outcomeOf(err, false)
	if _, ok := idpUnavailable(err); ok && outcome == OutcomeIdPError {
		outcome = OutcomeIdPUnavailable
	}
	s.metrics.Refresh(provider, outcome)
	if err == nil {
		return
	}
	sev := audit.Medium
	if outcome == OutcomeNoSession {
		sev = audit.Low
	}
	if !s.audit.Enabled(c.Request.Context(), sev) {
		return
	}
	ev := s.auditEvent(c, audit.EventRefresh, sev, provider)
	ev.Status, ev.Outcome, ev.Reason = audit.Failed, outcome, auditReason(err)
	s.audit.Audit(c.Request.Context(), ev)
}

// observeLogout audits a sign-out; hadSession: a valid refresh cookie came with it.
func (s *Server) observeLogout(c *gin.Context, provider string, hadSession bool) {
	ev := s.auditEvent(c, audit.EventLogout, audit.Medium, provider)
	ev.Outcome = OutcomeSuccess
	if !hadSession {
		ev.Outcome = OutcomeNoSession
	}
	s.audit.Audit(c.Request.Context(), ev)
}

// observeRateLimited counts a refusal; noteNow: first refusal of this client in the
// last minute, which is also audited (once, like the warning log).
func (s *Server) observeRateLimited(c *gin.Context, limit string, noteNow bool) {
	s.metrics.RateLimited(limit)
	if !noteNow {
		return
	}
	ev := s.auditEvent(c, audit.EventRateLimit, audit.Medium, "")
	ev.Status, ev.Outcome = audit.Failed, "rate_limited"
	ev.Meta = []slog.Attr{slog.String("limit", limit)}
	s.audit.Audit(c.Request.Context(), ev)
}

// AuditSessionRevoked records that one sign-in session of userRef (may be "") at
// provider ended server-side; reason says why (e.g. "logout", "offboarding").
func (s *Server) AuditSessionRevoked(c *gin.Context, userRef, provider, reason string) {
	ev := s.auditEvent(c, audit.EventSessionRevoke, audit.High, provider)
	ev.Actor.ID, ev.Outcome, ev.Reason = userRef, OutcomeSuccess, reason
	s.audit.Audit(c.Request.Context(), ev)
}

// AuditSessionsRevoked records the offboarding of userRef, as Backstage's
// offline-sessions-revoke: actor is the service that asked, meta userEntityRef and
// revokedCount; err non-nil records a failure.
func (s *Server) AuditSessionsRevoked(c *gin.Context, actor, userRef string, revoked int, err error) {
	ev := s.auditEvent(c, audit.EventOfflineSessionsRevoke, audit.High, "")
	ev.Actor.ID = actor
	ev.Meta = []slog.Attr{slog.String("userEntityRef", userRef)}
	if err != nil {
		ev.Status, ev.Outcome, ev.Reason = audit.Failed, OutcomeError, auditReason(err)
	} else {
		ev.Outcome = OutcomeSuccess
		ev.Meta = append(ev.Meta, slog.Int("revokedCount", revoked))
	}
	s.audit.Audit(c.Request.Context(), ev)
}

// Drain makes readiness answer 503 from now on (shutdown has begun); every other route
// keeps working.
func (s *Server) Drain() { s.draining.Store(true) }
