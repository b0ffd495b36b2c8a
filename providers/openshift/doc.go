// Package openshift is Backstage's OpenShift sign-in provider (provider id
// "openshift", @backstage/plugin-auth-backend-module-openshift-provider 0.1.11, plain
// passport-oauth2) on providers/oauth2engine: auth.providers.openshift.<env> with
// clientId, clientSecret, authorizationUrl, tokenUrl and openshiftApiServerUrl (all
// required) and additionalScopes; user:full is always requested, nothing persists.
//
// The profile is GET {openshiftApiServerUrl}/apis/user.openshift.io/v1/users/~ with the
// access token as a Bearer: displayName is the user's metadata.name (the OpenShift
// user name, e.g. "alice" or "kube:admin"); there is no email or picture.
//
// Sessions: OpenShift issues no refresh token, so, as Backstage does, the access
// token itself is the session, sealed in the refresh cookie and re-checked at the
// users/~ endpoint on every refresh. Unlike Backstage the session ends when the
// access token does (its expires_in), and logout deletes the token at the API server
// (DELETE .../oauthaccesstokens/sha256~<name>, as `oc logout` does).
//
// Resolvers: displayNameMatchingUserEntityName (the user name as the User entity's
// name), plus the common ones (which need an email OpenShift never gives).
package openshift
