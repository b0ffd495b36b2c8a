package credentials

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// TypPluginToken is the JWT header typ of a plugin (service-to-service) token.
const TypPluginToken = "vnd.backstage.plugin"

// BearerToken parses the Authorization header format Backstage accepts,
// /^Bearer[ ]+(\S+)$/i, by hand: the regexp cost more than the rest of a cached
// userinfo request.
func BearerToken(h string) (string, bool) {
	const scheme = "bearer"
	if len(h) < len(scheme)+2 || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", false
	}
	token := strings.TrimLeft(h[len(scheme):], " ")
	if token == "" || strings.ContainsAny(token, " \t\n\f\r") {
		return "", false
	}
	return token, true
}

// JWTHeaderType returns the typ of a JWT's (unverified) header, or "".
func JWTHeaderType(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok || len(head) > 4096 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return ""
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Typ
}

// StaticTokens are the digests of the static external-access tokens.
type StaticTokens struct{ digests [][sha256.Size]byte }

// NewStaticTokens keeps the digests of the non-empty tokens.
func NewStaticTokens(tokens []string) StaticTokens {
	var s StaticTokens
	for _, t := range tokens {
		if t != "" {
			s.digests = append(s.digests, sha256.Sum256([]byte(t)))
		}
	}
	return s
}

// Contains reports whether token is one of them, comparing every digest in constant
// time.
func (s StaticTokens) Contains(token string) bool {
	if len(s.digests) == 0 {
		return false
	}
	d := sha256.Sum256([]byte(token))
	found := 0
	for i := range s.digests {
		found |= subtle.ConstantTimeCompare(d[:], s.digests[i][:])
	}
	return found == 1
}
