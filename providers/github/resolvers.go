package github

import (
	"context"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// UserIDAnnotation is Backstage's GITHUB_USER_ID_ANNOTATION; its value is the user's
// node id (e.g. MDQ6VXNlcjE=), not the numeric id.
const UserIDAnnotation = "github.com/user-id"

// Resolver names and messages of Backstage's github module.
const (
	NameUsernameMatchingUserEntityName     = "usernameMatchingUserEntityName"
	NameUserIDMatchingUserEntityAnnotation = "userIdMatchingUserEntityAnnotation"
	MsgNoUsername                          = "GitHub user profile does not contain a username"
	MsgNoUserID                            = "GitHub user profile does not contain a user ID"
	MsgUserIDMismatch                      = "GitHub user ID does not match the catalog user"
	MsgMultipleExactMatches                = "User lookup resulted in multiple exact matches"
)

// UsernameMatchingUserEntityName signs in as the User entity named like the GitHub
// login (Backstage marks it deprecated in the schema but registers it).
func UsernameMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver(NameUsernameMatchingUserEntityName,
		func(info resolvers.SignInInfo) string { return oauth2engine.FullProfileOf(info).Username }, MsgNoUsername)
}

// UserIDMatchingUserEntityAnnotation is the module's createGithubProviderSignInResolvers
// version (it replaces the namespace one): Users whose github.com/user-id annotation
// equals the node id, then only the exact, case-sensitive matches (the catalog
// compares values case-insensitively). One exact match signs in; several are a
// ConflictError; matches that are not exact are an Error that stops the chain; none is
// a NotFoundError, or with dangerouslyAllowSignInWithoutUserInCatalog the fallback
// user:default/<node id>.
func UserIDMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.NewResolverFactory(NameUserIDMatchingUserEntityAnnotation, func(cat resolvers.Catalog, dangerously bool) resolvers.Resolver {
		return resolvers.ResolverFunc(func(ctx context.Context, info resolvers.SignInInfo) (resolvers.Identity, error) {
			nodeID := NodeID(oauth2engine.FullProfileOf(info))
			if nodeID == "" {
				return resolvers.Identity{}, backstageerr.Plain(MsgNoUserID)
			}
			lookup := "metadata.annotations." + UserIDAnnotation + "=" + nodeID
			if cat == nil {
				return fallbackOr(dangerously, nodeID, oauth2engine.NotFoundWith(backstageerr.NotFound(resolvers.MsgUserNotFound+" (no catalog is configured)"), lookup))
			}
			items, err := cat.FindUsers(ctx, map[string]string{"kind": "user", "metadata.annotations." + UserIDAnnotation: nodeID})
			if err != nil {
				return resolvers.Identity{}, err
			}
			var exact []resolvers.Entity
			for _, e := range items {
				if e.Metadata.Annotations[UserIDAnnotation] == nodeID {
					exact = append(exact, e)
				}
			}
			switch {
			case len(exact) > 1:
				return resolvers.Identity{}, backstageerr.Conflict(MsgMultipleExactMatches)
			case len(exact) == 1:
				return resolvers.Identity{UserEntityRef: resolvers.EntityRefOf(exact[0]).String(), OwnershipEntityRefs: resolvers.OwnershipEntityRefs(exact[0])}, nil
			case len(items) > 0:
				return resolvers.Identity{}, backstageerr.Plain(MsgUserIDMismatch)
			}
			return fallbackOr(dangerously, nodeID, oauth2engine.NotFoundWith(backstageerr.NotFound(resolvers.MsgUserNotFound), lookup))
		})
	})
}

// fallbackOr is the dangerous fallback user:default/<name> when allowed, else err.
func fallbackOr(dangerously bool, name string, err error) (resolvers.Identity, error) {
	if !dangerously {
		return resolvers.Identity{}, err
	}
	ref := resolvers.EntityRef{Kind: "User", Namespace: resolvers.DefaultNamespace, Name: name}.String()
	return resolvers.Identity{UserEntityRef: ref, OwnershipEntityRefs: []string{ref}}, nil
}
