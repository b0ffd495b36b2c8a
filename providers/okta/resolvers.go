package okta

import (
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// EmailAnnotation is the annotation Backstage's okta module matches the email against.
const EmailAnnotation = "okta.com/email"

// Resolver names and messages of Backstage's okta module.
const (
	NameEmailMatchingUserEntityAnnotation = "emailMatchingUserEntityAnnotation"
	MsgNoEmail                            = "Okta profile contained no email"
)

// EmailMatchingUserEntityAnnotation signs in as the User whose okta.com/email
// annotation is the profile email; the fallback is user:default/<email>.
func EmailMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameEmailMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		if info.Email == "" {
			return "", "", backstageerr.Plain(MsgNoEmail)
		}
		return EmailAnnotation, info.Email, nil
	})
}
