package atlassian

import (
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Resolver name and message of Backstage's atlassian module.
const (
	NameUsernameMatchingUserEntityName = "usernameMatchingUserEntityName"
	MsgNoUsername                      = "Atlassian user profile does not contain a username"
)

// UsernameMatchingUserEntityName is the module's resolver: it reads the profile's
// username, which Atlassian profiles never have, so it always stops the chain with
// MsgNoUsername, as in Backstage. It is registered so that configs naming it start
// (and fail the same way); use an email resolver instead.
func UsernameMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver(NameUsernameMatchingUserEntityName,
		func(info resolvers.SignInInfo) string { return oauth2engine.FullProfileOf(info).Username }, MsgNoUsername)
}
