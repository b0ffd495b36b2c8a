package tokens

import (
	"context"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/credentials"
)

// Principal kinds of Credentials, as Backstage's principal types.
const (
	KindUser    = "user"
	KindService = "service"
)

// Credentials are an authenticated request's principal, as backend-defaults'
// DefaultAuthService.authenticate builds them.
type Credentials struct {
	// Kind is KindUser or KindService.
	Kind string
	// Subject is the user entity ref (user) or "plugin:<id>" / "external:<subject>".
	Subject string
	// UserToken is the user's token: the full token, or the limited token a plugin
	// token carried on behalf of the user (user credentials only).
	UserToken string
	// Limited: UserToken is a limited user token.
	Limited bool
	// Via is the calling plugin ("plugin:<id>") of user credentials from a plugin
	// token's obo claim.
	Via string
}

// Authenticator turns a Bearer token into Credentials like DefaultAuthService:
// a plugin token (verified with the caller's keys; its obo limited user token with
// ours), a user token, or a static external-access token.
type Authenticator struct {
	Users   *Verifier
	Plugins *PluginVerifier // nil: plugin tokens are refused
	Static  credentials.StaticTokens
}

// Authenticate verifies token. allowLimited accepts a limited user token presented
// directly (it is always accepted inside a plugin token's obo claim, as in Node).
func (a *Authenticator) Authenticate(ctx context.Context, token string, allowLimited bool) (Credentials, error) {
	if IsPluginToken(token) {
		if a.Plugins == nil {
			return Credentials{}, backstageerr.Authentication("Plugin tokens are not accepted by this endpoint")
		}
		p, err := a.Plugins.VerifyPluginToken(ctx, token)
		if err != nil {
			return Credentials{}, err
		}
		if p.OnBehalfOf == "" {
			return Credentials{Kind: KindService, Subject: p.Subject}, nil
		}
		u, err := a.Users.VerifyUserToken(ctx, p.OnBehalfOf, true)
		if err != nil {
			return Credentials{}, &backstageerr.Error{Name: backstageerr.NameAuthentication, Message: "Invalid user token in plugin token obo claim", Cause: err}
		}
		return Credentials{Kind: KindUser, Subject: u.Sub, UserToken: p.OnBehalfOf, Limited: u.Limited, Via: p.Subject}, nil
	}
	if sub, ok := a.Static.Principal(token); ok {
		return Credentials{Kind: KindService, Subject: sub}, nil
	}
	u, err := a.Users.VerifyUserToken(ctx, token, allowLimited)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Kind: KindUser, Subject: u.Sub, UserToken: token, Limited: u.Limited}, nil
}
