// Package google is Backstage's Google sign-in provider (provider id "google",
// @backstage/plugin-auth-backend-module-google-provider 0.3.19 with
// passport-google-oauth20 2.0.0) on providers/oauth2engine: auth.providers.google.<env>
// with clientId, clientSecret and additionalScopes; openid and the userinfo.email and
// userinfo.profile scopes are always requested, none persists.
//
// The authorize request carries access_type=offline, prompt=consent and
// include_granted_scopes=true, as Backstage sends them, so that Google issues a refresh
// token; the code is redeemed at www.googleapis.com/oauth2/v4/token; the profile is
// the OpenID userinfo (www.googleapis.com/oauth2/v3/userinfo) mapped as the strategy
// maps it: id (sub), displayName (name), emails [{email, email_verified}] (an email
// Google says is unverified is dropped), photos (picture). Refresh is the
// refresh_token grant (Google does not rotate refresh tokens) and userinfo again;
// logout revokes the refresh token at oauth2.googleapis.com/revoke.
//
// Differences from Backstage: the token answer's id_token is verified as providers/oidc
// verifies ID tokens (Google's keys, iss https://accounts.google.com or
// accounts.google.com, aud and azp, exp/iat, at_hash, and the nonce we send) before its
// claims fill profile gaps; Backstage decodes it unverified. The access token goes to
// userinfo in an Authorization header and the refresh token to the revocation endpoint
// in the form body, where Backstage puts both in the query string. S256 PKCE is sent.
// A failed revocation is logged and the user is signed out anyway, where Backstage
// answers the logout with an error and keeps the cookies.
//
// Resolvers: emailMatchingUserEntityAnnotation (the verified profile email against
// the google.com/email annotation), plus the common ones.
package google
