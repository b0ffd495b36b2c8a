package google

import (
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// EmailAnnotation is the annotation Backstage's google module matches the email against.
const EmailAnnotation = "google.com/email"

// Resolver names and messages of Backstage's google module.
const (
	NameEmailMatchingUserEntityAnnotation = "emailMatchingUserEntityAnnotation"
	MsgNoEmail                            = "Google profile contained no email"
)

// EmailMatchingUserEntityAnnotation signs in as the User whose google.com/email
// annotation is the profile email (which the profile transform keeps only when Google
// did not say it is unverified); the fallback is user:default/<email>.
func EmailMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameEmailMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		if info.Email == "" {
			return "", "", backstageerr.Plain(MsgNoEmail)
		}
		return EmailAnnotation, info.Email, nil
	})
}
