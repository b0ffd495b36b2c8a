// Package jwks owns Backstage token issuance and verification: the ES256 signing
// keys and their lifecycle, the JWKS documents, user tokens (with the uip limited-
// token proof), user_info, and plugin (service-to-service) tokens. It knows nothing
// of HTTP; authbackend mounts JWKS and userinfo handlers over it.
//
// Keys. A KeySet mirrors Backstage's TokenFactory over one KeyStore (memory,
// signing_keys, or backstage_backend_public_keys__keys): each process generates its
// own P-256 key (kid = random UUID), keeps the private half only in memory, and
// inserts the public JWK in the store before the key ever signs. A key signs for
// KeyDuration and stays listed until created+ListDuration (3×KeyDuration by default,
// or the row's ExpiresAt); expired keys drop out of the JWKS and are deleted from
// the store in the background. With several replicas, PublishDelay makes a new key
// wait until every replica has loaded it (via ChangeNotifier or PollInterval
// polls), and the next key is created ahead of rotation so no caller waits. The
// JWKS bytes, ETag and parsed public keys are an immutable in-memory snapshot
// (PublicKeySet): serving JWKS or verifying never reads the store. StaticKeySet
// (auth.keyStore.provider: static) loads PEM files and never rotates. Both
// implement KeySource, which is all Issuer, Verifier and PluginTokenIssuer need.
//
// Tokens. Issuer writes header {"typ","alg","kid"} and payload {...extra, iss, sub,
// ent?, aud, iat, exp, uip} with a serialiser that matches JavaScript's
// JSON.stringify byte for byte, because verifiers rebuild the limited token
// {"sub","iat","exp"} from the full token and check uip (its signature) against
// it. It upserts user_info only when the claims changed (per process) and serves
// /v1/userinfo from a short-TTL cache. Verifier checks user and limited tokens
// against the listed keys like backend-defaults' UserTokenHandler and caches
// successes per token string.
package jwks
