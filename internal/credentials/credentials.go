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

// StaticToken is one static external-access token and the subject its principal has
// (backend.auth.externalAccess[].options.{token,subject}). An alias of the unnamed
// struct, so config (a leaf this package does not import) can hand its entries over.
type StaticToken = struct{ Token, Subject string }

// StaticTokens are the digests of the static external-access tokens, with their subjects.
type StaticTokens struct {
	digests  [][sha256.Size]byte
	subjects []string
}

// NewStaticTokens keeps the digests of the non-empty tokens.
func NewStaticTokens(tokens []StaticToken) StaticTokens {
	var s StaticTokens
	for _, t := range tokens {
		if t.Token != "" {
			s.digests = append(s.digests, sha256.Sum256([]byte(t.Token)))
			s.subjects = append(s.subjects, t.Subject)
		}
	}
	return s
}

// Contains reports whether token is one of them.
func (s StaticTokens) Contains(token string) bool {
	_, ok := s.Principal(token)
	return ok
}

// Principal returns the principal subject of a static token, "external:<subject>" as
// Backstage's ExternalTokenHandler names it, comparing every digest in constant time.
func (s StaticTokens) Principal(token string) (string, bool) {
	if len(s.digests) == 0 {
		return "", false
	}
	d := sha256.Sum256([]byte(token))
	match := -1
	for i := range s.digests {
		if subtle.ConstantTimeCompare(d[:], s.digests[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", false
	}
	return "external:" + s.subjects[match], true
}
