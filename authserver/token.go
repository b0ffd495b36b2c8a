package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"

	"golang.org/x/crypto/scrypt"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/authserver/store"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// Backstage's refresh-token hash: scrypt(token, 16-byte salt, N=16384, r=8, p=1, 64
// bytes), stored as base64(salt) "." base64(hash). Keeping it lets Node and Go
// replicas verify each other's tokens.
const (
	scryptN, scryptR, scryptP = 16384, 8, 1
	scryptKeyLen              = 64
	saltLen                   = 16
)

type codeTokenBody struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

type refreshTokenBody struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// token is POST /v1/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	p, err := bodyParams(r)
	if err != nil {
		return err
	}
	v, err := validate(p, field{name: "grant_type", required: true}, field{name: "code"}, field{name: "redirect_uri", url: true},
		field{name: "code_verifier"}, field{name: "refresh_token"}, field{name: "client_id"}, field{name: "client_secret"})
	if err != nil {
		s.writeOAuthError(w, r, fromError(err))
		return nil
	}
	body, err := s.grant(r, v)
	if err != nil {
		s.writeOAuthError(w, r, tokenError(err))
		return nil
	}
	// RFC 6749 section 5.1 (Backstage sends neither).
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, r, http.StatusOK, body)
	return nil
}

func (s *Server) grant(r *http.Request, v map[string]string) ([]byte, error) {
	clientID, secret, basic := clientCredentials(r, v["client_id"], v["client_secret"])
	authenticated := ""
	if secret != "" {
		if clientID == "" || !s.verifySecret(clientID, secret) {
			return nil, oerr("invalid_client", http.StatusUnauthorized, "Invalid client credentials")
		}
		authenticated = clientID
	} else if basic && clientID == "" {
		return nil, oerr("invalid_client", http.StatusUnauthorized, "Invalid client credentials")
	}
	switch grant := v["grant_type"]; grant {
	case "authorization_code":
		if v["code"] == "" || v["redirect_uri"] == "" {
			return nil, oerr("invalid_request", http.StatusBadRequest, "Missing code or redirect_uri parameters for authorization_code grant")
		}
		return s.exchangeCode(r, clientID, authenticated, v["code"], v["redirect_uri"], v["code_verifier"])
	case "refresh_token":
		if v["refresh_token"] == "" {
			return nil, oerr("invalid_request", http.StatusBadRequest, "Missing refresh_token parameter for refresh_token grant")
		}
		return s.refreshGrant(r, clientID, authenticated, v["refresh_token"])
	default:
		return nil, oerr("unsupported_grant_type", http.StatusBadRequest, fmt.Sprintf("Grant type %s is not supported", grant))
	}
}

// exchangeCode is OidcService.exchangeCodeForToken, with the code redeemed by one
// conditional update after every check, and a replayed code revoking the refresh
// token it produced (RFC 6749 section 4.1.2).
func (s *Server) exchangeCode(r *http.Request, clientID, authenticated, code, redirectURI, verifier string) (_ []byte, err error) {
	ctx := r.Context()
	var sess store.Session
	defer func() {
		if err != nil {
			s.record(r, EventCodeExchange, audit.Medium, sess.UserEntityRef, "failed", backstageerr.MessageOf(err), slog.String("clientId", clientOr(sess.ClientID, clientID)))
		}
	}()
	ac, err := s.codes.GetCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, backstageerr.Authentication("Invalid authorization code")
	}
	if err != nil {
		return nil, err
	}
	if ac.ExpiresAt.Before(s.now()) {
		return nil, backstageerr.Authentication("Authorization code expired")
	}
	sess, err = s.sessions.GetSession(ctx, ac.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, backstageerr.NotFound("Invalid authorization session")
	}
	if err != nil {
		return nil, err
	}
	if ac.Used {
		s.codeReplayed(r, sess)
		return nil, backstageerr.Authentication("Authorization code already used")
	}
	if clientID != "" && clientID != sess.ClientID {
		return nil, backstageerr.Authentication("Client ID mismatch")
	}
	if sess.RedirectURI != redirectURI {
		return nil, backstageerr.Authentication("Redirect URI mismatch")
	}
	required, err := s.requiresClientAuthentication(sess.ClientID)
	if err != nil {
		return nil, err
	}
	if authenticated == "" && required {
		return nil, oerr("invalid_client", http.StatusUnauthorized, "Client authentication required")
	}
	if authenticated != "" && authenticated != sess.ClientID {
		return nil, backstageerr.Authentication("Authorization code was not issued to this client")
	}
	if sess.Status != store.StatusApproved {
		return nil, backstageerr.Authentication("Authorization not approved")
	}
	if sess.UserEntityRef == "" {
		return nil, backstageerr.Authentication("No user associated with authorization")
	}
	if verifier == "" {
		return nil, backstageerr.Authentication("Code verifier required for PKCE")
	}
	if sess.CodeChallenge == "" || sess.CodeChallengeMethod != "S256" || !pkceMatches(verifier, sess.CodeChallenge) {
		return nil, backstageerr.Authentication("Invalid code verifier")
	}
	if clientID == "" {
		s.log.Warn("Authorization-code exchange without client_id is deprecated and will be rejected in a future release. Update the client to include client_id.")
	}
	won, err := s.codes.RedeemCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if !won {
		// Another request redeemed it between our read and our update.
		s.codeReplayed(r, sess)
		return nil, backstageerr.Authentication("Authorization code already used")
	}
	issued, err := s.issuer.IssueUserToken(ctx, tokens.UserClaims{Sub: sess.UserEntityRef, NoUserInfo: true})
	if err != nil {
		return nil, err
	}
	var refresh string
	if s.refresh && contains(strings.Fields(sess.Scope), "offline_access") {
		if refresh, err = s.issueRefreshToken(r, sess.UserEntityRef, sess.ClientID); err != nil {
			s.log.Warn(fmt.Sprintf("Failed to issue refresh token for user %s, offline_access will not be available: %v", sess.UserEntityRef, err))
			refresh = ""
		}
	}
	scope := sess.Scope
	if scope == "" {
		scope = "openid"
	}
	s.record(r, EventCodeExchange, audit.Medium, sess.UserEntityRef, "success", "", slog.String("clientId", sess.ClientID),
		slog.Bool("refreshToken", refresh != ""))
	return jsrules.Marshal(codeTokenBody{AccessToken: issued.Token, TokenType: "Bearer", ExpiresIn: s.expiresIn, IDToken: issued.Token, Scope: scope, RefreshToken: refresh})
}

func clientOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// codeReplayed revokes the refresh tokens the code's client holds for the user: a
// used code presented again means it leaked.
func (s *Server) codeReplayed(r *http.Request, sess store.Session) {
	var n int64
	if s.refresh && sess.UserEntityRef != "" {
		var err error
		if n, err = s.offline.DeleteClientUserOfflineSessions(r.Context(), sess.ClientID, sess.UserEntityRef); err != nil {
			s.log.Error("Failed to revoke the refresh tokens of a replayed authorization code", "error", err)
		}
	}
	s.record(r, EventReplay, audit.High, sess.UserEntityRef, "code_replayed", "Authorization code already used",
		slog.String("clientId", sess.ClientID), slog.Int64("revokedCount", n))
}

func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// ---- refresh tokens (OfflineAccessService) ----

// scryptSlots bounds concurrent scrypt computations: each holds 16 MiB, so a burst of
// refreshes could otherwise exhaust memory.
var scryptSlots = make(chan struct{}, 2*runtime.GOMAXPROCS(0))

func scryptKey(token string, salt []byte) ([]byte, error) {
	scryptSlots <- struct{}{}
	defer func() { <-scryptSlots }()
	return scrypt.Key([]byte(token), salt, scryptN, scryptR, scryptP, scryptKeyLen)
}

// hashRefreshToken is Backstage's hashToken.
func (s *Server) hashRefreshToken(token string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := s.rand.Read(salt); err != nil {
		return "", fmt.Errorf("authserver: random: %w", err)
	}
	h, err := scryptKey(token, salt)
	if err != nil {
		return "", fmt.Errorf("authserver: scrypt: %w", err)
	}
	return base64.StdEncoding.EncodeToString(salt) + "." + base64.StdEncoding.EncodeToString(h), nil
}

// verifyRefreshToken is Backstage's verifyRefreshToken (constant-time compare).
func verifyRefreshToken(token, stored string) bool {
	saltB64, hashB64, ok := strings.Cut(stored, ".")
	if !ok || saltB64 == "" || hashB64 == "" {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(saltB64)
	want, err2 := base64.StdEncoding.DecodeString(hashB64)
	if err1 != nil || err2 != nil || len(want) != scryptKeyLen {
		return false
	}
	got, err := scryptKey(token, salt)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

// refreshTokenID is getRefreshTokenId: "<id>.<secret>", both non-empty.
func refreshTokenID(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", false
	}
	return parts[0], true
}

func (s *Server) newRefreshToken(id string) (token, hash string, err error) {
	secret, err := s.randomToken(32)
	if err != nil {
		return "", "", err
	}
	token = id + "." + secret
	hash, err = s.hashRefreshToken(token)
	return token, hash, err
}

func (s *Server) issueRefreshToken(r *http.Request, user, clientID string) (string, error) {
	id, err := s.uuid4()
	if err != nil {
		return "", err
	}
	token, hash, err := s.newRefreshToken(id)
	if err != nil {
		return "", err
	}
	if err := s.offline.CreateOfflineSession(r.Context(), store.OfflineSession{ID: id, UserEntityRef: user, OIDCClientID: clientID, TokenHash: hash}, s.refreshCfg.MaxTokensPerUser); err != nil {
		return "", err
	}
	return token, nil
}

func (s *Server) expired(o store.OfflineSession) bool {
	now := s.now()
	return now.After(o.LastUsedAt.Add(s.refreshCfg.TokenLifetime)) || now.After(o.CreatedAt.Add(s.refreshCfg.MaxRotationLifetime))
}

// refreshGrant is OfflineAccessService.refreshAccessToken with rotation by compare
// and swap and replay detection: a token whose secret does not match the session's
// current one (an already-rotated token) revokes the session (RFC 9700 4.14.2).
func (s *Server) refreshGrant(r *http.Request, clientID, authenticated, token string) (_ []byte, err error) {
	if !s.refresh {
		return nil, backstageerr.Input("Refresh tokens are not enabled")
	}
	ctx := r.Context()
	var o store.OfflineSession
	defer func() {
		if err != nil {
			s.record(r, EventRefresh, audit.Medium, o.UserEntityRef, "failed", backstageerr.MessageOf(err), slog.String("clientId", clientOr(o.OIDCClientID, clientID)))
		}
	}()
	id, ok := refreshTokenID(token)
	if !ok {
		return nil, backstageerr.Authentication("Invalid refresh token format")
	}
	o, err = s.offline.GetOfflineSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, backstageerr.Authentication("Invalid refresh token")
	}
	if err != nil {
		return nil, err
	}
	if s.expired(o) {
		if _, err := s.offline.DeleteOfflineSession(ctx, id); err != nil {
			return nil, err
		}
		return nil, backstageerr.Authentication("Invalid refresh token")
	}
	if clientID != "" && o.OIDCClientID != "" && clientID != o.OIDCClientID {
		return nil, backstageerr.Authentication("Refresh token was not issued to this client")
	}
	if o.OIDCClientID != "" {
		required, err := s.requiresClientAuthentication(o.OIDCClientID)
		if err != nil {
			return nil, err
		}
		if required && authenticated != o.OIDCClientID {
			return nil, oerr("invalid_client", http.StatusUnauthorized, "Client authentication required")
		}
	}
	if !verifyRefreshToken(token, o.TokenHash) {
		// The session exists, so the id came from a token we issued: this one has
		// been rotated away (or its secret forged). Either way the session is burnt.
		n, derr := s.offline.DeleteOfflineSession(ctx, id)
		if derr != nil {
			s.log.Error("Failed to revoke a replayed refresh token's session", "error", derr)
		}
		s.record(r, EventReplay, audit.High, o.UserEntityRef, "refresh_token_replayed", "Invalid refresh token",
			slog.String("clientId", o.OIDCClientID), slog.Int64("revokedCount", n))
		return nil, backstageerr.Authentication("Invalid refresh token")
	}
	if !s.refreshCfg.DangerouslyDisableCatalogPresenceCheck {
		exists := false
		var cerr error = errors.New("no catalog configured")
		if s.users != nil {
			exists, cerr = s.users.UserExists(ctx, o.UserEntityRef)
		}
		if cerr != nil {
			s.log.Warn(fmt.Sprintf("Failed to validate catalog user existence for %s, rejecting refresh", o.UserEntityRef), "error", cerr)
			return nil, backstageerr.Authentication("Unable to validate user existence")
		}
		if !exists {
			s.log.Info(fmt.Sprintf("Rejecting refresh for user %s - catalog entity not found, revoking session %s", o.UserEntityRef, id))
			if _, err := s.offline.DeleteOfflineSession(ctx, id); err != nil {
				return nil, err
			}
			return nil, backstageerr.Authentication("User entity no longer exists in the catalog")
		}
	}
	next, hash, err := s.newRefreshToken(id)
	if err != nil {
		return nil, err
	}
	won, err := s.offline.RotateOfflineSession(ctx, id, o.TokenHash, hash, s.now())
	if err != nil {
		return nil, err
	}
	if !won {
		// A concurrent request with the same token rotated it first.
		return nil, backstageerr.Authentication("Invalid refresh token")
	}
	issued, err := s.issuer.IssueUserToken(ctx, tokens.UserClaims{Sub: o.UserEntityRef, NoUserInfo: true})
	if err != nil {
		return nil, err
	}
	s.record(r, EventRefresh, audit.Low, o.UserEntityRef, "success", "", slog.String("clientId", o.OIDCClientID))
	return jsrules.Marshal(refreshTokenBody{AccessToken: issued.Token, TokenType: "Bearer", ExpiresIn: s.expiresIn, RefreshToken: next})
}
