package authbackend

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// proxyProvider is one configured proxy provider (no environments).
type proxyProvider struct {
	id       string
	provider providers.ProxyProvider
	resolver resolvers.Resolver
}

func newProxyProvider(c providers.Configured) (*proxyProvider, error) {
	pe, ok := c.Envs[""]
	if !ok || len(c.Envs) != 1 {
		return nil, fmt.Errorf("authbackend: proxy provider %q must have exactly one configuration", c.ID)
	}
	pp, ok := pe.Provider.(providers.ProxyProvider)
	if !ok {
		return nil, fmt.Errorf("authbackend: auth.providers.%s: not a proxy provider", c.ID)
	}
	if pe.Resolver == nil {
		return nil, fmt.Errorf("authbackend: No sign-in resolver configured for proxy auth provider '%s'", c.ID)
	}
	return &proxyProvider{id: c.ID, provider: pp, resolver: pe.Resolver}, nil
}

// proxyResponse is a proxy provider's refresh answer (Backstage's
// createProxyAuthRouteHandlers): providerInfo is omitted when the provider has none.
type proxyResponse struct {
	Profile           providers.Profile  `json:"profile"`
	ProviderInfo      any                `json:"providerInfo,omitempty"`
	BackstageIdentity *backstageIdentity `json:"backstageIdentity"`
}

// proxyRefresh is GET|POST /<p>/refresh of a proxy provider: no X-Requested-With check
// and no env; the request is authenticated, resolved and issued a token every time.
// Errors are not wrapped (an AuthenticationError is a 401, a plain Error a 500).
func (s *Server) proxyRefresh(p *proxyProvider) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		res, err := p.provider.AuthenticateRequest(ctx, c.Request)
		if err != nil {
			s.observeSignIn(c, p.id, "", "", false, atStage(stageIdP, err), audit.Low)
			if d, ok := idpUnavailable(err); ok {
				// The proxy's keys could not be fetched: nothing was decided, try again.
				c.Writer.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			}
			s.writeError(c, err)
			return
		}
		id, err := p.resolver.Resolve(ctx, signInInfo(p.id, res.Profile, res.Claims))
		if err != nil {
			s.observeSignIn(c, p.id, res.Profile.Email, "", false, atStage(stageResolve, err), audit.Low)
			s.writeError(c, err)
			return
		}
		bi, err := s.issue(ctx, id)
		if err != nil {
			s.observeSignIn(c, p.id, res.Profile.Email, "", false, atStage(stageIssue, err), audit.Low)
			s.writeError(c, err)
			return
		}
		// Every proxy refresh is a sign-in; successes are low severity (debug by default).
		s.observeSignIn(c, p.id, res.Profile.Email, bi.Identity.UserEntityRef, false, nil, audit.Low)
		c.Writer.Header().Set("Cache-Control", "no-store")
		s.writeJSON(c, http.StatusOK, proxyResponse{Profile: res.Profile, ProviderInfo: res.ProviderInfo, BackstageIdentity: bi})
	}
}

// signInInfo is what resolvers see of a verified sign-in.
func signInInfo(providerID string, p providers.Profile, claims map[string]any) resolvers.SignInInfo {
	return resolvers.SignInInfo{ProviderID: providerID, Email: p.Email, DisplayName: p.DisplayName, Picture: p.Picture, Claims: claims}
}
