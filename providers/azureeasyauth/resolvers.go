package azureeasyauth

import (
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Names and messages of Backstage's Easy Auth resolver.
const (
	NameIDMatchingUserEntityAnnotation = "idMatchingUserEntityAnnotation"
	UserIDAnnotation                   = "graph.microsoft.com/user-id"
	MsgNoID                            = "User profile contained no id"
)

// Resolvers are the module's own: idMatchingUserEntityAnnotation.
func Resolvers() []resolvers.Factory {
	return []resolvers.Factory{IDMatchingUserEntityAnnotation()}
}

// IDMatchingUserEntityAnnotation signs in as the User whose graph.microsoft.com/user-id
// annotation is the verified ID token's oid; the fallback is user:default/<oid>.
func IDMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameIDMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		oid, _ := info.Claims["oid"].(string)
		if oid == "" {
			return "", "", backstageerr.Plain(MsgNoID)
		}
		return UserIDAnnotation, oid, nil
	})
}
