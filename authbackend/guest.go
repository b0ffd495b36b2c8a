package authbackend

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// defaultGuestUser is Backstage's guest provider default userEntityRef.
const defaultGuestUser = "user:development/guest"

const msgGuestOutsideDevelopment = "The guest provider cannot be used outside of a development environment unless 'auth.providers.guest.dangerouslyAllowOutsideDevelopment' is enabled"

// guestResponse is a proxy provider's refresh answer: no providerInfo.
type guestResponse struct {
	Profile           struct{}           `json:"profile"`
	BackstageIdentity *backstageIdentity `json:"backstageIdentity"`
}

// guestRefresh is GET|POST /guest/refresh (a proxy provider: no X-Requested-With
// check and no env). It signs in the configured user, from the catalog when the
// entity exists there.
func (s *Server) guestRefresh(c *gin.Context) {
	g := s.cfg.Auth.Guest
	if !s.cfg.DevelopmentMode && !g.DangerouslyAllowOutsideDevelopment {
		s.writeError(c, backstageerr.NotAllowed(msgGuestOutsideDevelopment))
		return
	}
	ctx := c.Request.Context()
	userRef := g.UserEntityRef
	if userRef == "" {
		userRef = defaultGuestUser
	}
	ref, err := resolvers.ParseEntityRef(userRef, "User", resolvers.DefaultNamespace)
	if err != nil {
		s.writeError(c, err)
		return
	}
	id, err := resolvers.SignInWithCatalogUser(ctx, s.opts.Catalog, resolvers.CatalogUserQuery{EntityRef: &ref}, nil)
	if err != nil {
		if !backstageerr.IsNotFound(err) {
			s.writeError(c, err)
			return
		}
		sub := ref.String()
		ent := g.OwnershipEntityRefs
		if len(ent) == 0 {
			ent = []string{sub}
		}
		id = resolvers.Identity{UserEntityRef: sub, OwnershipEntityRefs: ent}
	}
	bi, err := s.issue(ctx, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Writer.Header().Set("Cache-Control", "no-store")
	s.writeJSON(c, http.StatusOK, guestResponse{BackstageIdentity: bi})
}
