package mockvendor

import (
	"net/http"
	"net/url"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// The generic OAuth 2.0 server's paths.
const (
	OAuth2AuthorizePath = "/oauth2/authorize"
	OAuth2TokenPath     = "/oauth2/token"
)

func (s *Server) oauth2Routes(mux *http.ServeMux) {
	mux.HandleFunc(OAuth2AuthorizePath, s.oauth2Authorize)
	mux.HandleFunc("POST "+OAuth2TokenPath, s.oauth2Token)
}

func (s *Server) oauth2Authorize(w http.ResponseWriter, r *http.Request) {
	s.authorizeCode(w, r, authorizeSpec{vendor: "OAuth2",
		pages:           mockkit.AuthorizePages{UnknownClient: "unknown client_id", BadRedirect: "invalid redirect_uri"},
		badResponseType: url.Values{"error": {"unsupported_response_type"}},
		badPKCE:         url.Values{"error": {"invalid_request"}, "error_description": {"only S256 PKCE is supported"}},
		denied:          url.Values{"error_description": {"The resource owner denied the request."}},
	})
}

func oauth2Error(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// oauth2ClientAuth accepts client_secret_post and client_secret_basic (both at once
// too, as the oauth2 module sends them with includeBasicAuth, as long as they agree).
func (s *Server) oauth2ClientAuth(w http.ResponseWriter, r *http.Request) bool {
	ok := s.cgClientOK(r, false)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="mockvendor"`)
		oauth2Error(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
	}
	return ok
}

func (s *Server) oauth2Token(w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenFault(w, r, func(w http.ResponseWriter, status int) {
		oauth2Error(w, status, "server_error", "mock fault: upstream body canary")
	})
	if !ok {
		return
	}
	if !s.oauth2ClientAuth(w, r) {
		return
	}
	red, ok := s.redeemGrant(w, r, f, refreshPolicy{rotate: true}, grantErrors{
		unknownCode:           "unknown, used or expired code",
		redirectMismatch:      "redirect_uri mismatch",
		badVerifier:           "PKCE verification failed",
		badRefresh:            "unknown, used or revoked refresh token",
		wideScope:             "the scope exceeds the grant",
		unsupportedGrantTypes: "unsupported grant_type",
	}, oauth2Error)
	if !ok {
		return
	}
	g := red.g
	at, rt := s.issue("mock-at-", "mock-rt-", g, true)
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int64(s.opts.AccessTokenTTL / time.Second), "refresh_token": rt}
	if g.scope != "" {
		resp["scope"] = g.scope
	}
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, http.StatusOK, resp)
}
