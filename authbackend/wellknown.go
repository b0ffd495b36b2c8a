package authbackend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/credentials"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// readinessTimeout bounds the dependency ping so that readiness answers promptly.
const readinessTimeout = 2 * time.Second

var statusOK = []byte(`{"status":"ok"}`)

func (s *Server) liveness(c *gin.Context) {
	writeBody(c, http.StatusOK, "application/json; charset=utf-8", statusOK)
}

// readiness answers 503 once shutdown has begun (Drain), else pings the database (when
// configured). It never waits for a signing key: keys are created lazily at the first
// sign-in.
func (s *Server) readiness(c *gin.Context) {
	if s.draining.Load() {
		s.writeError(c, backstageerr.ServiceUnavailable("Service is not ready: shutting down"))
		return
	}
	if s.opts.Health != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readinessTimeout)
		err := s.opts.Health.Ping(ctx)
		cancel()
		if err != nil {
			s.log.Warn("readiness check failed", "error", err)
			s.writeError(c, backstageerr.ServiceUnavailable("Service is not ready: the database is not reachable"))
			return
		}
	}
	writeBody(c, http.StatusOK, "application/json; charset=utf-8", statusOK)
}

// oidcConfiguration is /.well-known/openid-configuration for a server with no static
// clients, no CIMD and no refresh tokens, keys in Backstage's order. Like Backstage it
// advertises the authorize and token endpoints even though they are not mounted.
type oidcConfiguration struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	CIMDSupported                     bool     `json:"client_id_metadata_document_supported,omitempty"`
}

// buildOIDCConfig is the discovery document; as is the authorization server, or nil.
func buildOIDCConfig(authBase string, as AuthorizationServer) ([]byte, error) {
	doc := oidcConfiguration{
		Issuer:                            authBase,
		TokenEndpoint:                     authBase + "/v1/token",
		UserinfoEndpoint:                  authBase + "/v1/userinfo",
		JWKSURI:                           authBase + "/.well-known/jwks.json",
		ResponseTypesSupported:            []string{"code", "id_token"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"},
		ScopesSupported:                   []string{"openid"},
		TokenEndpointAuthMethodsSupported: []string{},
		ClaimsSupported:                   []string{"sub", "ent"},
		GrantTypesSupported:               []string{"authorization_code"},
		AuthorizationEndpoint:             authBase + "/v1/authorize",
		CodeChallengeMethodsSupported:     []string{"S256"},
	}
	if as != nil {
		scopes, methods, grants, revocation, cimd, _ := as.DiscoveryFields()
		doc.ScopesSupported, doc.TokenEndpointAuthMethodsSupported, doc.GrantTypesSupported = scopes, methods, grants
		if revocation {
			doc.RevocationEndpoint = authBase + "/v1/revoke"
		}
		doc.CIMDSupported = cimd
	}
	out, err := jsrules.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("authbackend: openid-configuration: %w", err)
	}
	return out, nil
}

func (s *Server) openIDConfiguration(c *gin.Context) {
	writeBody(c, http.StatusOK, "application/json; charset=utf-8", s.oidcConfig)
}

// serveJWKS serves a key set from memory.
func (s *Server) serveJWKS(src JWKSSource) gin.HandlerFunc {
	return func(c *gin.Context) {
		doc, err := src.JWKS(c.Request.Context())
		if err != nil {
			s.writeError(c, err)
			return
		}
		// No caching in front of us: a new key is published only seconds before it
		// signs, and verifiers refetch on an unknown kid; a cached document would hide
		// the new key from them. Serving it costs nothing (the bytes are in memory).
		c.Writer.Header().Set("Cache-Control", "no-cache")
		writeBody(c, http.StatusOK, "application/json; charset=utf-8", doc)
	}
}

// userInfo is GET /v1/userinfo: the stored claims of the user a (full or limited)
// user token belongs to.
func (s *Server) userInfo(c *gin.Context) {
	ctx := c.Request.Context()
	token, ok := credentials.BearerToken(c.Request.Header.Get("Authorization"))
	if !ok {
		s.writeError(c, backstageerr.Authentication("No token provided"))
		return
	}
	principal, err := s.opts.Verifier.VerifyUserToken(ctx, token, true)
	if err != nil {
		// Failed verifications count against the userinfo limit.
		if s.userInfoLimit != nil {
			if _, ok := s.admit(c, s.userInfoLimit); !ok {
				return
			}
		}
		// Service credentials never verify as user tokens; only then is it worth
		// telling them apart from bad tokens.
		if s.staticTokens.Contains(token) || credentials.JWTHeaderType(token) == credentials.TypPluginToken {
			err = backstageerr.Input("Userinfo endpoint must be called with a token that represents a user principal")
		}
		s.writeError(c, err)
		return
	}
	// Only requests no cache answers (they read the database) count against the limit.
	if s.userInfoLimit != nil && !s.userInfoCached(principal.Sub) {
		if _, ok := s.admit(c, s.userInfoLimit); !ok {
			return
		}
	}
	info, err := s.opts.UserInfo.UserInfo(ctx, principal.Sub)
	if errors.Is(err, tokens.ErrNotFound) || (err == nil && len(info) == 0) {
		writeBody(c, http.StatusNotFound, "text/html; charset=utf-8", []byte("User info not found"))
		return
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Writer.Header().Set("Cache-Control", "no-store")
	writeBody(c, http.StatusOK, "application/json; charset=utf-8", info)
}

func (s *Server) notImplemented(c *gin.Context) {
	s.writeError(c, backstageerr.NotImplemented("Not implemented"))
}

// userInfoCached reports whether the user info reader answers sub from memory; readers
// that cannot tell count every request.
func (s *Server) userInfoCached(sub string) bool {
	if c, ok := s.opts.UserInfo.(CachedUserInfo); ok {
		return c.HasCachedUserInfo(sub)
	}
	return false
}
