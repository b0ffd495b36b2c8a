// Package mockkit is what the mock IdPs (providers/mockpalette, providers/mockvendor)
// share: the request recorder behind their /_mock/requests, redirect_uri checks and the
// redirect back to the client, S256 PKCE checks, delays that end with the request, JSON
// answers, and RS256 keys (cached per process), ID token signing and the JWKS document
// for mocks of OpenID Connect vendors. Nothing here is for production use.
package mockkit
