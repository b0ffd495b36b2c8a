// Package signingkeys owns the ES256 signing keys of Backstage tokens and the JWKS
// documents that publish them. It knows nothing of token contents (package tokens),
// of SQL (package authdb implements its KeyStore) or of HTTP (authbackend serves the
// JWKS bytes).
//
// A KeySet mirrors Backstage's TokenFactory over one KeyStore (memory, signing_keys,
// or backstage_backend_public_keys__keys): each process generates its own P-256 key
// (kid = random UUID), keeps the private half only in memory, and inserts the public
// JWK in the store before the key ever signs. A key signs for KeyDuration and stays
// listed until created+ListDuration (3×KeyDuration by default, or the row's
// ExpiresAt); expired keys drop out of the JWKS and are deleted from the store in the
// background. With several replicas, PublishDelay makes a new key wait until every
// replica has loaded it (via ChangeNotifier or PollInterval polls), and the next key
// is created ahead of rotation so no caller waits. Start loads the store and inserts
// the first key, and its loop retries both with backoff if that failed. The JWKS
// bytes, ETag and parsed public keys are an immutable in-memory snapshot
// (PublicKeySet): serving JWKS or verifying never reads the store; RefreshUnknownKID
// is the paced exception for a kid nobody has listed yet.
//
// StaticKeySet (auth.keyStore.provider: static) loads PEM files and never rotates.
// Both implement KeySource, which is all token issuers and verifiers need: a
// SigningKey (pre-encoded JWS headers per token type, ES256 signatures in the raw
// R||S form) and the PublicKeySet.
//
// Subpackage keystoretest is the KeyStore conformance kit.
package signingkeys
