package authbackend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	jwt "github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/credentials"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// SessionRegistry records a server-side session per sign-in and knows which were
// ended (package sessions). Revoked is on the refresh path and must answer from
// memory. Errors of the other methods mean the store did not answer (503).
type SessionRegistry interface {
	Begin(ctx context.Context, userRef, provider string, expiresAt time.Time) (string, error)
	Revoked(id string) bool
	// End reports the ended session's user ("" when unknown) and whether it was live.
	End(ctx context.Context, id string, expiresAt time.Time) (userRef string, existed bool, err error)
	EndUser(ctx context.Context, userRef string) (int, error)
}

// PluginTokenVerifier verifies plugin tokens addressed to this plugin and returns the
// calling plugin's id, and whether the token acts on behalf of a user (tokens).
type PluginTokenVerifier interface {
	VerifyPluginToken(ctx context.Context, token string) (pluginID string, onBehalfOfUser bool, err error)
}

const (
	msgSessionRevoked   = "Session revoked, please sign in again"
	msgSessionNotStored = "Sign-in failed: the session could not be recorded, please try again"
)

// sessionEnd is when a sealed session stops whatever happens: sign-in +
// sessionDuration. (The provider's own end may move later at a refresh that rotates
// the session, so it cannot bound a revocation's tombstone.)
func sessionEnd(e *oauthEnv, ss sealedSession) time.Time {
	return time.Unix(ss.IssuedAt, 0).Add(e.maxAge)
}

// beginSession records the sign-in's session and puts its id into ss.
func (s *Server) beginSession(ctx context.Context, e *oauthEnv, ss *sealedSession, userRef string) error {
	if s.opts.Sessions == nil {
		return nil
	}
	id, err := s.opts.Sessions.Begin(ctx, userRef, e.providerID, sessionEnd(e, *ss))
	if err != nil {
		s.log.WarnContext(ctx, "recording the sign-in session failed", "provider", e.providerID, "error", err)
		return backstageerr.ServiceUnavailable(msgSessionNotStored)
	}
	ss.ID = id
	return nil
}

// checkSession refuses a revoked session, and one without an id (sealed before this
// server kept sessions, so it could not be revoked). Memory only.
func (s *Server) checkSession(ss sealedSession) error {
	if s.opts.Sessions == nil {
		return nil
	}
	if ss.ID == "" {
		return atStage(stageSession, backstageerr.Authentication("Invalid session cookie, please sign in again"))
	}
	if s.opts.Sessions.Revoked(ss.ID) {
		return atStage(stageRevoked, backstageerr.Authentication(msgSessionRevoked))
	}
	return nil
}

// endSession revokes the session of a logout everywhere and audits it. A store
// failure is logged and audited; the logout still clears the cookie (this replica
// refuses the session from now on; others learn it when the store is back... unless
// it never gets there, which the audit record says).
func (s *Server) endSession(c *gin.Context, e *oauthEnv, ss sealedSession) {
	if s.opts.Sessions == nil || ss.ID == "" {
		return
	}
	ctx := c.Request.Context()
	user, _, err := s.opts.Sessions.End(ctx, ss.ID, sessionEnd(e, ss))
	if err != nil {
		s.log.WarnContext(ctx, "revoking the session at logout failed", "provider", e.providerID, "error", err)
	}
	s.auditSessionRevoke(c, user, e.providerID, "logout", err)
}

// legacyCredential is one backend.auth.externalAccess entry of type legacy (static
// ones are in Server.staticTokens).
type legacyCredential struct {
	secret  []byte // the HMAC secret
	subject string
}

func (s *Server) initServiceCredentials() {
	for _, ea := range s.cfg.Backend.Auth.ExternalAccess {
		if ea.Type == "legacy" && ea.Secret != "" {
			if key, err := decodeBase64(ea.Secret); err == nil && len(key) > 0 {
				s.legacyCreds = append(s.legacyCreds, legacyCredential{secret: key, subject: ea.Subject})
			}
		}
	}
}

func decodeBase64(s string) ([]byte, error) {
	var last error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		last = err
	}
	return nil, last
}

var legacyParser = jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithSubject("backstage-server"))

// servicePrincipal authenticates the request's service credentials as Backstage's
// httpAuth does for allow: ['service'] and returns the principal's subject
// ("external:<subject>" or "plugin:<id>"). A user token (or a plugin's on behalf of
// a user) is a 403, anything else a 401.
func (s *Server) servicePrincipal(r *http.Request) (string, error) {
	token, ok := credentials.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return "", backstageerr.Authentication("Missing credentials")
	}
	if sub, ok := s.staticTokens.Principal(token); ok {
		return sub, nil
	}
	userErr := error(nil)
	if _, userErr = s.opts.Verifier.VerifyUserToken(r.Context(), token, true); userErr == nil {
		return "", backstageerr.NotAllowed("This endpoint does not allow 'user' credentials")
	}
	for _, lc := range s.legacyCreds {
		key := lc.secret
		if _, err := legacyParser.Parse(token, func(*jwt.Token) (any, error) { return key, nil }); err == nil {
			return "external:" + lc.subject, nil
		}
	}

	switch credentials.JWTHeaderType(token) {
	case signingkeys.TypUser:
		return "", userErr // why the user token failed ("Failed user token verification")
	case credentials.TypPluginToken:
		if s.opts.PluginTokens == nil {
			return "", backstageerr.Authentication("Illegal token")
		}
		plugin, obo, err := s.opts.PluginTokens.VerifyPluginToken(r.Context(), token)
		if err != nil {
			return "", err
		}
		if obo {
			// A plugin acting for a user is that user's credentials.
			return "", backstageerr.NotAllowed("This endpoint does not allow 'user' credentials")
		}
		return "plugin:" + plugin, nil
	}
	return "", backstageerr.Authentication("Illegal token")
}

// maxRevokeBody bounds the offboarding request's body.
const maxRevokeBody = 64 << 10

// offlineSessionsRevoke is POST /v1/offline-sessions/revoke (Backstage's route and
// body): service credentials only; it ends every session of the user, on every
// replica, and answers {"revokedCount":N}.
func (s *Server) offlineSessionsRevoke(c *gin.Context) {
	r := c.Request
	actor, err := s.servicePrincipal(r)
	if err != nil {
		s.writeError(c, err)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxRevokeBody))
	if err != nil {
		s.writeError(c, &backstageerr.Error{Name: backstageerr.NamePayloadTooLarge, Message: "request entity too large"})
		return
	}
	userRef, err := offboardingUserRef(raw)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if s.opts.Sessions == nil {
		s.writeError(c, backstageerr.NotImplemented("This server keeps no sessions"))
		return
	}
	n, err := s.opts.Sessions.EndUser(r.Context(), userRef)
	s.AuditSessionsRevoked(c, actor, userRef, n, err)
	if err != nil {
		s.log.WarnContext(r.Context(), "offboarding failed", "user", userRef, "error", err)
		s.writeError(c, backstageerr.ServiceUnavailable("The sessions of %s could not be revoked, please try again", userRef))
		return
	}
	s.writeJSON(c, http.StatusOK, struct {
		RevokedCount int `json:"revokedCount"`
	}{n})
}

// offboardingUserRef reads {"userEntityRef"} as Backstage's zod schema does, with its
// messages: a string of at least one character that parses as a user entity ref.
func offboardingUserRef(raw []byte) (string, error) {
	var body map[string]any
	if len(strings.TrimSpace(string(raw))) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			return "", backstageerr.New(backstageerr.NameSyntax, "Unexpected token in JSON")
		}
	}
	v, present := body["userEntityRef"]
	ref, isString := v.(string)
	var issue string
	switch {
	case !present:
		issue = "Invalid input: expected string, received undefined"
	case !isString:
		issue = "Invalid input: expected string, received " + jsrules.TypeOf(v)
	case ref == "":
		issue = "Too small: expected string to have >=1 characters"
	default:
		parsed, err := jsrules.ParseEntityRef(ref, "user", "")
		switch {
		case err != nil:
			issue = backstageerr.NameOf(err) + ": " + backstageerr.MessageOf(err)
		case !strings.EqualFold(parsed.Kind, "user"):
			issue = "Must refer to a user entity"
		default:
			return parsed.String(), nil
		}
	}
	return "", backstageerr.Input(`Validation error: %s at "userEntityRef"`, issue)
}

// auditSessionRevoke records one ended session (err: the store did not answer).
func (s *Server) auditSessionRevoke(c *gin.Context, userRef, provider, reason string, err error) {
	if err == nil {
		s.AuditSessionRevoked(c, userRef, provider, reason)
		return
	}
	ev := s.auditEvent(c, audit.EventSessionRevoke, audit.High, provider)
	ev.Actor.ID, ev.Status, ev.Outcome, ev.Reason = userRef, audit.Failed, OutcomeError, reason+": "+auditReason(err)
	s.audit.Audit(c.Request.Context(), ev)
}
