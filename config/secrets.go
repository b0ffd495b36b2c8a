package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// MinSessionSecretBytes is the shortest auth.session.secret accepted outside
// development: the secret seals every refresh and nonce cookie, and a short one can be
// guessed offline from any sealed cookie.
const MinSessionSecretBytes = 32

// publishedSecrets are the hashes of every session secret that appears in this
// project's examples and README (TestPublishedSecretsCoverExamples keeps the list
// complete): anyone can read them, so outside development they are refused.
var publishedSecrets = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range publishedSecretLiterals {
		m[secretHash(s)] = true
	}
	return m
}()

// publishedSecretLiterals are the session secrets written in examples/ and README.md.
var publishedSecretLiterals = []string{
	"demo-session-secret-change-me-0123456789", // examples/demo/app-config.yaml's fallback
}

func secretHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// checkSessionSecret is the start-up rule for auth.session.secret outside development.
// An empty secret is allowed (a random one is generated, with a warning).
func checkSessionSecret(secret string, development bool) error {
	if secret == "" || development {
		return nil
	}
	const how = "outside development (NODE_ENV=development) it must be at least 32 random bytes of your own; generate one with: openssl rand -base64 32"
	if publishedSecrets[secretHash(secret)] {
		return fmt.Errorf("is a secret published in this project's examples; %s", how)
	}
	if len(secret) < MinSessionSecretBytes {
		return fmt.Errorf("is only %d bytes; %s", len(secret), how)
	}
	return nil
}
