package oauth2proxy

import (
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Resolver names and messages of Backstage's oauth2-proxy module.
const (
	NameForwardedUserMatchingUserEntityName              = "forwardedUserMatchingUserEntityName"
	NameForwardedPreferredUsernameMatchingUserEntityName = "forwardedPreferredUsernameMatchingUserEntityName"

	MsgNoUser              = "Request did not contain a user"
	MsgNoPreferredUsername = "Request did not contain a preferred username"
)

// ForwardedUserMatchingUserEntityName signs in as user:default/<X-Forwarded-User>.
func ForwardedUserMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver(NameForwardedUserMatchingUserEntityName,
		func(info resolvers.SignInInfo) string { return forwardedOf(info).user }, MsgNoUser)
}

// ForwardedPreferredUsernameMatchingUserEntityName signs in as
// user:default/<X-Forwarded-Preferred-Username>.
func ForwardedPreferredUsernameMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver(NameForwardedPreferredUsernameMatchingUserEntityName,
		func(info resolvers.SignInInfo) string { return forwardedOf(info).preferredUsername }, MsgNoPreferredUsername)
}
