package mockvendor

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Atlassian's paths: authorize and token at auth.atlassian.com, the user and the sites
// the token may use at api.atlassian.com.
const (
	AtlassianAuthorizePath = "/authorize"
	AtlassianTokenPath     = "/oauth/token"
	AtlassianMePath        = "/me"
	AtlassianResourcesPath = "/oauth/token/accessible-resources"
	// AtlassianAudience is the audience every authorize request must name.
	AtlassianAudience = "api.atlassian.com"
)

func (s *Server) atlassianRoutes(mux *http.ServeMux) {
	s.codeGrantRoutes(mux, AtlassianAuthorizePath, AtlassianTokenPath, s.atlassianVendor)
	mux.HandleFunc("GET "+AtlassianMePath, s.atlassianMe)
	mux.HandleFunc("GET "+AtlassianResourcesPath, s.atlassianResources)
}

// atlassianVendor: rotating refresh tokens, issued only for offline_access; errors are
// 403s with RFC 6749 bodies.
func (s *Server) atlassianVendor() codeGrantVendor {
	return codeGrantVendor{
		vendor: "Atlassian",
		pages: mockkit.AuthorizePages{
			UnknownClient: "Something went wrong: the app's client_id is invalid.", BadRedirect: "Something went wrong: redirect_uri is not registered for the app.",
		},
		denied: url.Values{"error_description": {"access_denied"}},
		check: func(q url.Values) url.Values {
			if q.Get("audience") != AtlassianAudience {
				return url.Values{"error": {"invalid_request"}, "error_description": {"audience is required and must be api.atlassian.com"}}
			}
			if q.Get("scope") == "" {
				return url.Values{"error": {"invalid_scope"}, "error_description": {"scope is required"}}
			}
			return nil
		},
		accessPrefix: "eyJatl.", refreshPrefix: "eyJatlrt.", rotate: true,
		answer: func(at, rt string, g grant, _ bool) map[string]any {
			m := map[string]any{"access_token": at, "expires_in": int64(s.opts.AccessTokenTTL / time.Second), "token_type": "Bearer", "scope": g.scope}
			if strings.Contains(" "+g.scope+" ", " offline_access ") {
				m["refresh_token"] = rt
			}
			return m
		},
		fail: func(w http.ResponseWriter, status int, code, desc string) {
			if status != http.StatusUnauthorized {
				status = http.StatusForbidden
			}
			cgOAuthError(w, status, code, desc)
		},
		upstreamFault: func(w http.ResponseWriter, status int) {
			cgOAuthError(w, status, "server_error", "mock fault: upstream body canary")
		},
	}
}

// AtlassianAccountID is the mock's Atlassian account id of a user id.
func AtlassianAccountID(id int64) string {
	return fmt.Sprintf("557058:%08x-0000-4000-8000-%012x", id, id)
}

func (s *Server) atlassianAuth(w http.ResponseWriter, r *http.Request) (User, *grant, bool) {
	if s.cgProfileFault(w, r, func(status int) any {
		return map[string]any{"code": status, "message": "mock fault: upstream body canary"}
	}) {
		return User{}, nil, false
	}
	u, g, ok := s.cgBearerUser(r)
	if !ok {
		mockkit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "Unauthorized"})
	}
	return u, g, ok
}

func (s *Server) atlassianMe(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.atlassianAuth(w, r)
	if !ok {
		return
	}
	name := nameOrLogin(u)
	me := map[string]any{"account_type": "atlassian", "account_id": AtlassianAccountID(u.ID), "name": name,
		"picture": "https://avatar-management.services.atlassian.com/" + u.Login + "/128", "account_status": "active",
		"nickname": u.Login, "zoneinfo": "Europe/Berlin", "locale": "en-GB",
		"extended_profile": map[string]any{"job_title": "Engineer", "organization": "Example"}}
	u.addEmail(me)
	mockkit.WriteJSON(w, http.StatusOK, me)
}

func (s *Server) atlassianResources(w http.ResponseWriter, r *http.Request) {
	_, g, ok := s.atlassianAuth(w, r)
	if !ok {
		return
	}
	mockkit.WriteJSON(w, http.StatusOK, []any{map[string]any{
		"id": "1324a887-45db-1bf4-1e99-ef0ff456d421", "url": "https://example.atlassian.net", "name": "example",
		"scopes": strings.Fields(g.scope), "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
	}})
}
