// Package oauth2engine is the machinery Backstage's createOAuthProviderFactory and
// PassportOAuthAuthenticatorHelper give every passport-based sign-in module (github,
// microsoft, google, okta, gitlab, atlassian, bitbucket, bitbucketServer, oauth2,
// onelogin, auth0, openshift), for the vendor packages under providers/ to build on.
//
// It owns what passes between this server and the vendor: the authorize URL
// (passport's parameter order and Node's querystring encoding, the configured URL's
// own query kept, scope omitted when empty, S256 PKCE and the OIDC nonce where the
// vendor supports them), the code exchange and the refresh_token grant (client
// credentials in the body, optionally HTTP Basic; the answer parsed as JSON, else as a
// form string, as the oauth library does; expires_in always an integer), the profile
// request (hooks with timeouts and body limits), passport's default profile transform,
// providerInfo {idToken, accessToken, scope, expiresInSeconds}, the session the router
// seals (the refresh token, or the access token where it is the long-lived
// credential), and the sign-in error texts.
//
// The router (authbackend) owns state, the nonce cookie, scope merging and
// persistence, the sealed refresh cookie, sessionDuration and callbackUrl; the engine
// sees only the interfaces of package providers.
//
// Differences from Backstage, on purpose: an id_token is used for the profile only when
// a verifier (oidc.IDTokenVerifier) checked it, never decoded without verification;
// expiresInSeconds is an integer even from a form-encoded answer; the access token goes
// in an Authorization header, never a query string; error messages name HTTP statuses
// and OAuth error codes but never quote an upstream body; redirects are not followed;
// a refresh that returns another user's profile is refused.
package oauth2engine
