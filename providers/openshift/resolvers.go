package openshift

import (
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Resolver name and message of Backstage's openshift module.
const (
	NameDisplayNameMatchingUserEntityName = "displayNameMatchingUserEntityName"
	MsgNoDisplayName                      = "OpenShift user profile does not contain a displayName"
)

// DisplayNameMatchingUserEntityName signs in as the User entity named like the
// OpenShift user name (the profile's displayName, metadata.name of users/~); the
// fallback with dangerouslyAllowSignInWithoutUserInCatalog is user:default/<name>.
func DisplayNameMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver(NameDisplayNameMatchingUserEntityName,
		func(info resolvers.SignInInfo) string { return oauth2engine.FullProfileOf(info).DisplayName }, MsgNoDisplayName)
}
