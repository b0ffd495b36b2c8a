package onelogin

import (
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Resolver names and messages of Backstage's onelogin module.
const (
	NameUsernameMatchingUserEntityName = "usernameMatchingUserEntityName"
	MsgNoUsername                      = "OneLogin user profile does not contain a username"
)

// UsernameMatchingUserEntityName signs in as the User named like the OneLogin
// username (preferred_username from /me); the fallback is user:default/<username>.
func UsernameMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver(NameUsernameMatchingUserEntityName,
		func(info resolvers.SignInInfo) string { return oauth2engine.FullProfileOf(info).Username }, MsgNoUsername)
}
