package gcpiap

import (
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Annotations and resolver names of Backstage's gcp-iap module.
const (
	EmailAnnotation  = "google.com/email"
	UserIDAnnotation = "google.com/user-id"

	NameEmailMatchingUserEntityAnnotation = "emailMatchingUserEntityAnnotation"
	NameIDMatchingUserEntityAnnotation    = "idMatchingUserEntityAnnotation"

	MsgResultMissingEmail = "Google IAP sign-in result is missing email"
	// MsgSubjectWithoutID is ours: Backstage looks up an undefined id when sub has no
	// "<idp>:" prefix.
	MsgSubjectWithoutID = "Google IAP token subject has no user id after its ':'"
)

// EmailMatchingUserEntityAnnotation signs in as the User whose google.com/email
// annotation is the verified token's email; the fallback is user:default/<email>.
func EmailMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameEmailMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		email := tokenOf(info).Email
		if email == "" {
			return "", "", backstageerr.Plain(MsgResultMissingEmail)
		}
		return EmailAnnotation, email, nil
	})
}

// IDMatchingUserEntityAnnotation signs in as the User whose google.com/user-id
// annotation is the part of sub after its first ':' (accounts.google.com:1234 ->
// 1234, up to a second ':' as Backstage's split(":")[1]); the fallback is
// user:default/<id>.
func IDMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameIDMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		parts := strings.Split(tokenOf(info).Sub, ":")
		if len(parts) < 2 || parts[1] == "" {
			return "", "", backstageerr.Plain(MsgSubjectWithoutID)
		}
		return UserIDAnnotation, parts[1], nil
	})
}
