package gitlab

import (
	"net/url"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Resolver names and messages of Backstage's gitlab module.
const (
	NameUsernameMatchingUserEntityName     = "usernameMatchingUserEntityName"
	NameUserIDMatchingUserEntityAnnotation = "userIdMatchingUserEntityAnnotation"
	MsgNoUsername                          = "GitLab user profile does not contain a username"
	MsgNoUserID                            = "GitLab user profile does not contain a user ID"
	MsgNoProfileURL                        = "GitLab user profile does not contain a profile URL"
	MsgBadProfileURL                       = "GitLab user profile URL is not a valid URL"
)

// UsernameMatchingUserEntityName signs in as the User entity named like the GitLab
// username; the fallback is user:default/<username>.
func UsernameMatchingUserEntityName() resolvers.Factory {
	return oauth2engine.EntityNameResolver(NameUsernameMatchingUserEntityName,
		func(info resolvers.SignInInfo) string { return oauth2engine.FullProfileOf(info).Username }, MsgNoUsername)
}

// UserIDMatchingUserEntityAnnotation signs in as the User whose
// <host of the profile's web_url>/user-id annotation (gitlab.com/user-id, or the
// self-managed instance's host name) is the numeric GitLab user id; the fallback is
// user:default/<id>.
func UserIDMatchingUserEntityAnnotation() resolvers.Factory {
	return oauth2engine.AnnotationResolver(NameUserIDMatchingUserEntityAnnotation, func(info resolvers.SignInInfo) (string, string, error) {
		fp := oauth2engine.FullProfileOf(info)
		if fp.ID == "" {
			return "", "", backstageerr.Plain(MsgNoUserID)
		}
		if fp.ProfileURL == "" {
			return "", "", backstageerr.Plain(MsgNoProfileURL)
		}
		u, err := url.Parse(fp.ProfileURL)
		if err != nil || u.Hostname() == "" {
			return "", "", backstageerr.Plain(MsgBadProfileURL)
		}
		// The hostname without a port, lower-cased, as JavaScript's new URL(...).hostname.
		return strings.ToLower(u.Hostname()) + "/user-id", fp.ID, nil
	})
}
