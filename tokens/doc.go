// Package tokens owns Backstage's tokens: issuing user tokens (with the uip
// limited-token proof) and plugin (service-to-service) tokens, verifying user and
// limited user tokens, and the user_info written for every issued token. Keys come
// from a signingkeys.KeySource; user_info is stored through the UserInfoStore this
// package defines (package authdb implements it). It knows nothing of HTTP;
// authbackend mounts /v1/userinfo and the sign-in routes over it.
//
// Issuer writes header {"typ","alg","kid"} and payload {...extra, iss, sub, ent?,
// aud, iat, exp, uip} with a serialiser that matches JavaScript's JSON.stringify byte
// for byte (internal/jsrules), because verifiers rebuild the limited token
// {"sub","iat","exp"} from the full token and check uip (its signature) against it.
// It upserts user_info only when the claims changed (per process) and serves
// /v1/userinfo from a short-TTL cache (userinfo.go). Verifier checks user and limited
// tokens against the listed keys like backend-defaults' UserTokenHandler and caches
// successes per token string. PluginTokenIssuer mints and caches plugin tokens.
// PluginVerifier verifies the plugin tokens other backends send us, like
// backend-defaults' PluginTokenHandler (the caller's keys from its discovery base URL,
// through an injected per-plugin key source that cmd builds on providers/keyfetch);
// Authenticator combines it with Verifier and static external-access tokens into
// DefaultAuthService.authenticate's credentials (a plugin token's obo limited user
// token makes them user credentials).
//
// Errors a client can see are *backstageerr.Error with the Node backend's names and
// messages ("Illegal token", "Failed user token verification", ...).
//
// Subpackage userinfotest is the UserInfoStore conformance kit.
package tokens
