package oauthstate

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
)

// NewNonce returns Backstage's state nonce: standard padded base64 of 16 random bytes
// (24 characters). random nil means crypto/rand.
func NewNonce(random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("oauthstate: reading nonce randomness: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// NonceMatches compares the state nonce with the nonce cookie in constant time
// (Backstage uses !==). Empty values never match.
func NonceMatches(stateNonce, cookieNonce string) bool {
	if stateNonce == "" || cookieNonce == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(stateNonce), []byte(cookieNonce)) == 1
}
