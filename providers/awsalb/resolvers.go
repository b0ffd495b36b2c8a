package awsalb

import (
	"context"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// NameEmailMatchingUserEntityProfileEmail is the ALB module's resolver, which
// replaces the common one of that name for awsalb.
const NameEmailMatchingUserEntityProfileEmail = "emailMatchingUserEntityProfileEmail"

// EmailMatchingUserEntityProfileEmail is the ALB module's version: the User whose
// spec.profile.email is the verified email, exactly (no plus-address retry, no
// allowedDomains option); the fallback is user:default/<email>.
func EmailMatchingUserEntityProfileEmail() resolvers.Factory {
	return oauth2engine.NewResolverFactory(NameEmailMatchingUserEntityProfileEmail, func(cat resolvers.Catalog, dangerously bool) resolvers.Resolver {
		return resolvers.ResolverFunc(func(ctx context.Context, info resolvers.SignInInfo) (resolvers.Identity, error) {
			if info.Email == "" {
				return resolvers.Identity{}, backstageerr.Plain(resolvers.MsgProfileWithoutEmail)
			}
			var fb *resolvers.EntityRef
			if dangerously {
				fb = &resolvers.EntityRef{Name: info.Email}
			}
			q := resolvers.CatalogUserQuery{Filter: map[string]string{"kind": "User", "spec.profile.email": info.Email}}
			return oauth2engine.SignIn(ctx, cat, q, fb, "spec.profile.email="+info.Email)
		})
	})
}
