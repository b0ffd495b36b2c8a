// Package proxyjwt verifies the signed JWTs authenticating proxies put in front of the
// auth backend (Cloudflare Access's application token, App Service Easy Auth's Entra
// ID token): the signature with keys from providers/keyfetch, then iss, aud, exp, nbf
// and iat, as jose's jwtVerify checks them, with exp required. It owns the one
// mapping from key and claim failures to two outcomes a proxy provider needs: the
// token is refused (RejectedError, its reason safe to show a user), or nothing could
// be decided because the keys could not be fetched (UndecidedError, 503). It is
// internal to providers: the router never sees a token's claims.
package proxyjwt
