package oauth2engine

import (
	"encoding/json"
	"errors"
	"fmt"
)

const sessionVersion = 1

// Session is the provider-private state the router seals into the refresh cookie.
type Session struct {
	V int `json:"v"`
	// RefreshToken is the IdP's refresh token (refresh grant).
	RefreshToken string `json:"rt,omitempty"`
	// AccessToken is kept only where the access token itself is the long-lived
	// credential (GitHub OAuth apps, OpenShift: Config.KeepAccessToken): refresh then
	// re-validates it at the profile endpoint instead of running a grant.
	AccessToken string `json:"at,omitempty"`
	// Subject is the vendor's user id at sign-in; a refresh that returns another
	// user's profile is refused.
	Subject string `json:"sub,omitempty"`
}

// Encode returns the session's bytes (Result.Session).
func (s Session) Encode() ([]byte, error) {
	s.V = sessionVersion
	return json.Marshal(s)
}

// DecodeSession reads bytes an earlier Result.Session held.
func DecodeSession(b []byte) (Session, error) {
	var s Session
	if len(b) == 0 {
		return s, errors.New("empty session")
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("session is not JSON: %w", err)
	}
	if s.V != sessionVersion {
		return s, fmt.Errorf("unsupported session version %d", s.V)
	}
	if s.RefreshToken == "" && s.AccessToken == "" {
		return s, errors.New("session holds no token")
	}
	return s, nil
}
