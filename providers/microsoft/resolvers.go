package microsoft

import (
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Annotations Backstage's microsoft module matches.
const (
	EmailAnnotation  = "microsoft.com/email"
	UserIDAnnotation = "graph.microsoft.com/user-id"
)

// Resolver names and messages of Backstage's microsoft module.
const (
	NameEmailMatchingUserEntityAnnotation  = "emailMatchingUserEntityAnnotation"
	NameUserIDMatchingUserEntityAnnotation = "userIdMatchingUserEntityAnnotation"
	MsgNoEmail                             = "Microsoft profile contained no email"
	MsgNoID                                = "Microsoft profile contained no id"
)

// EmailMatchingUserEntityAnnotation signs in as the User whose microsoft.com/email
// annotation is the profile email (Graph's mail or userPrincipalName, else the verified
// ID token's email); the fallback is user:default/<email>.
func EmailMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameEmailMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		if info.Email == "" {
			return "", "", backstageerr.Plain(MsgNoEmail)
		}
		return EmailAnnotation, info.Email, nil
	})
}

// UserIDMatchingUserEntityAnnotation signs in as the User whose
// graph.microsoft.com/user-id annotation is the user's object id: Graph's /me id, or,
// when Graph was not asked (skipUserProfile), the verified ID token's oid (Backstage
// fails there with a TypeError). The fallback is user:default/<id>.
func UserIDMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameUserIDMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		id := ObjectID(info)
		if id == "" {
			return "", "", backstageerr.Plain(MsgNoID)
		}
		return UserIDAnnotation, id, nil
	})
}

// ObjectID is the signed-in user's object id: the Graph profile's id, else the
// verified ID token's oid (the engine puts only verified ID token claims and the
// profile's own fields into the claims; Graph's /me has no oid).
func ObjectID(info resolvers.SignInInfo) string {
	if id := oauth2engine.FullProfileOf(info).ID; id != "" {
		return id
	}
	oid, _ := info.Claims["oid"].(string)
	return oid
}
