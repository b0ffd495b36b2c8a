// Package proxyjwt verifies the signed JWTs that authenticating proxies put in request
// headers (Google IAP's x-goog-iap-jwt-assertion, an AWS load balancer's
// x-amzn-oidc-data, the ID token oauth2-proxy forwards): the signature with keys from
// providers/keyfetch, then iss, aud, exp, iat and nbf with a bounded clock skew. It
// owns the words a refused token is described with and the line between "refused"
// (401) and "undecided" (the key endpoint gave no usable answer: 503 with a
// Retry-After), so every proxy provider draws it the same way.
package proxyjwt
