package authserver

import (
	"log/slog"
	"net/http"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
)

// revoke is POST /v1/revoke (RFC 7009). Unlike Backstage, the token's secret must
// match and the session must belong to the calling client before it is deleted;
// either way the answer is 200 with an empty body.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	fail := func(err error) error {
		s.writeOAuthError(w, r, fromError(err))
		return nil
	}
	p, err := bodyParams(r)
	if err != nil {
		return fail(err)
	}
	v, err := validate(p, field{name: "token", required: true}, field{name: "token_type_hint"}, field{name: "client_id"}, field{name: "client_secret"})
	if err != nil {
		return fail(err)
	}
	clientID, secret, _ := clientCredentials(r, v["client_id"], v["client_secret"])
	if clientID == "" {
		return fail(oerr("invalid_client", http.StatusUnauthorized, "Client authentication required"))
	}
	if !s.revocationClientValid(clientID, secret) {
		return fail(oerr("invalid_client", http.StatusUnauthorized, "Invalid client credentials"))
	}
	if s.refresh {
		s.revokeRefreshToken(r, clientID, v["token"])
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// revocationClientValid is verifyRevocationClient: confidential static clients need
// their secret, public ones their id, CIMD ids an allowed pattern (no fetch).
func (s *Server) revocationClientValid(clientID, secret string) bool {
	if c, ok := s.static[clientID]; ok {
		return c.secret == "" || secret != "" && s.verifySecret(clientID, secret)
	}
	u, err := validateCIMDURL(clientID, s.development)
	if err != nil || !s.cimdEnabled {
		return false
	}
	for _, p := range s.clientPatterns {
		if p.match(u) {
			return true
		}
	}
	return false
}

func (s *Server) revokeRefreshToken(r *http.Request, clientID, token string) {
	id, ok := refreshTokenID(token)
	if !ok {
		return
	}
	o, err := s.offline.GetOfflineSession(r.Context(), id)
	if err != nil {
		return
	}
	if o.OIDCClientID != "" && o.OIDCClientID != clientID || !verifyRefreshToken(token, o.TokenHash) {
		s.record(r, EventRevoke, audit.Medium, o.UserEntityRef, "refused", "token does not match the session or the client",
			slog.String("clientId", clientID))
		return
	}
	n, err := s.offline.DeleteOfflineSession(r.Context(), id)
	if err != nil {
		s.log.Error("Failed to revoke token", "error", err)
		return
	}
	if n > 0 {
		s.record(r, EventRevoke, audit.Medium, o.UserEntityRef, "success", "", slog.String("clientId", clientID))
	}
}
