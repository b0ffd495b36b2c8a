package oidc

import (
	"encoding/json"
	"errors"
	"fmt"
)

const sessionVersion = 1

// sessionData is the provider-private session the server seals into the refresh cookie.
// It is versioned so a later format can still read (or cleanly refuse) old cookies.
type sessionData struct {
	V int `json:"v"`
	// RefreshToken is an OAuth refresh token (refresh grant, revocation).
	RefreshToken string `json:"rt,omitempty"`
	// IDToken is the last verified ID token.
	IDToken string `json:"idt,omitempty"`
	// AccessToken is the last access token.
	AccessToken string `json:"at,omitempty"`
	// SessionToken is an IdP session token returned in place of a refresh token
	// (Palette's HS256 JWT); never sent to a token endpoint.
	SessionToken string `json:"st,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// Expiry is the access token's expiry (unix seconds), 0 when unknown.
	Expiry int64 `json:"exp,omitempty"`
}

func (s sessionData) encode() ([]byte, error) { return json.Marshal(s) }

func decodeSession(b []byte) (sessionData, error) {
	var s sessionData
	if len(b) == 0 {
		return s, errors.New("empty session")
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("session is not JSON: %w", err)
	}
	if s.V != sessionVersion {
		return s, fmt.Errorf("unsupported session version %d", s.V)
	}
	return s, nil
}
