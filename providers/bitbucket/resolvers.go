package bitbucket

import (
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Annotations Backstage's bitbucket module matches against.
const (
	UserIDAnnotation   = "bitbucket.org/user-id"
	UsernameAnnotation = "bitbucket.org/username"
)

// Resolver names and messages of Backstage's bitbucket module.
const (
	NameUserIDMatchingUserEntityAnnotation   = "userIdMatchingUserEntityAnnotation"
	NameUsernameMatchingUserEntityAnnotation = "usernameMatchingUserEntityAnnotation"
	MsgNoID                                  = "Bitbucket user profile does not contain an ID"
	MsgNoUsername                            = "Bitbucket user profile does not contain a Username"
)

// UserIDMatchingUserEntityAnnotation signs in as the User whose bitbucket.org/user-id
// annotation is the account UUID (with its braces, e.g. {a1b2...}); the fallback is
// user:default/<uuid>.
func UserIDMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameUserIDMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		id := oauth2engine.FullProfileOf(info).ID
		if id == "" {
			return "", "", backstageerr.Plain(MsgNoID)
		}
		return UserIDAnnotation, id, nil
	})
}

// UsernameMatchingUserEntityAnnotation signs in as the User whose
// bitbucket.org/username annotation is the Bitbucket username; the fallback is
// user:default/<username>.
func UsernameMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameUsernameMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		name := oauth2engine.FullProfileOf(info).Username
		if name == "" {
			return "", "", backstageerr.Plain(MsgNoUsername)
		}
		return UsernameAnnotation, name, nil
	})
}
