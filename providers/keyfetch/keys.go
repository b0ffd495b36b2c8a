package keyfetch

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// SupportedAlgs are the JWS algorithms a Fetcher verifies. none and HS* are never
// among them: HS* "verified" with a public key is the classic algorithm-confusion
// forgery.
var SupportedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

const (
	minRSABits = 2048
	// maxRSABits bounds the work one verification costs.
	maxRSABits = 8192
	// maxTokenBytes bounds what is parsed at all.
	maxTokenBytes = 64 << 10
	maxKIDBytes   = 256
)

// key is one checked public key.
type key struct {
	id string
	// alg is the JWK's alg ("" when the key does not name one).
	alg string
	pub crypto.PublicKey
}

// snapshot is one successfully fetched document: a JWK set, or the PEM key of one kid.
type snapshot struct {
	gen     *Generation
	keys    []key
	fetched time.Time
	// rejected says why keys of the document were not kept, by kid.
	rejected map[string]string
}

// Generation identifies one fetched snapshot. Verifications done with it may be
// remembered while Fetcher.Current says it is still the one in use.
type Generation struct {
	e       *entry
	fetched time.Time
}

// find returns the keys a token with kid and alg may be verified with (all of them for
// a token without kid), or why the kid's key cannot (reason non-empty), or neither when
// the snapshot has no key with kid.
func (s *snapshot) find(kid, alg string) (keys []key, reason string) {
	for _, k := range s.keys {
		if kid != "" && k.id != kid {
			continue
		}
		if why := compatible(k, alg); why != "" {
			reason = why
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		return keys, ""
	}
	if why, ok := s.rejected[kid]; ok && kid != "" {
		return nil, why
	}
	if kid == "" {
		reason = "" // a kid-less token has no key: unknown, not unusable
	}
	return nil, reason
}

// usable checks a public key on its own: type and strength.
func usable(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits || n > maxRSABits {
			return fmt.Sprintf("an RSA key of %d bits (%d to %d are accepted)", n, minRSABits, maxRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return "an RSA key with an invalid public exponent"
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return "an EC key on an unsupported curve"
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "a malformed Ed25519 key"
		}
	default:
		return fmt.Sprintf("an unsupported key type (%T)", pub)
	}
	return ""
}

// compatible checks that k may verify a token signed with alg.
func compatible(k key, alg string) string {
	if k.alg != "" && k.alg != alg {
		return fmt.Sprintf("the key is for %s, the token is signed with %s", k.alg, alg)
	}
	ok := false
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		_, ok = k.pub.(*rsa.PublicKey)
	case "ES256", "ES384", "ES512":
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		ec, isEC := k.pub.(*ecdsa.PublicKey)
		ok = isEC && ec.Curve == want
	case "EdDSA":
		_, ok = k.pub.(ed25519.PublicKey)
	}
	if !ok {
		return fmt.Sprintf("%s is not a key for %s", keyKind(k.pub), alg)
	}
	return ""
}

func keyKind(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "an RSA key"
	case *ecdsa.PublicKey:
		return "an EC " + k.Curve.Params().Name + " key"
	case ed25519.PublicKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T", pub)
}

// parseJWKS reads a JWK set. A key that cannot be decoded, is not for signatures or
// fails usable is left out (and remembered under its kid, so a token naming it learns
// why); keys beyond maxKeys are left out. Only a document that is not a key set at all
// is an error.
func parseJWKS(body []byte, maxKeys int) (keys []key, rejected map[string]string, dropped int, reason string) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, nil, 0, "a body that is not a JSON object"
	}
	raw, ok := doc["keys"]
	if !ok {
		return nil, nil, 0, "a JSON object without keys"
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, 0, "a keys member that is not an array"
	}
	rejected = map[string]string{}
	reject := func(kid, why string) {
		if kid != "" && len(rejected) < maxKeys {
			rejected[kid] = why
		}
	}
	for _, item := range items {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(item); err != nil {
			var loose struct {
				Kid string `json:"kid"`
			}
			_ = json.Unmarshal(item, &loose)
			reject(loose.Kid, "the key set's entry for it cannot be decoded")
			continue
		}
		if jwk.Use != "" && jwk.Use != "sig" {
			reject(jwk.KeyID, "it is not a signing key (use "+jwk.Use+")")
			continue
		}
		pub := jwk.Public()
		if !pub.Valid() {
			reject(jwk.KeyID, "it is not an asymmetric public key")
			continue
		}
		if why := usable(pub.Key); why != "" {
			reject(jwk.KeyID, "it is "+why)
			continue
		}
		if len(keys) == maxKeys {
			dropped++
			continue
		}
		keys = append(keys, key{id: jwk.KeyID, alg: jwk.Algorithm, pub: pub.Key})
	}
	return keys, rejected, dropped, ""
}

// parsePEM reads one PEM public key (SubjectPublicKeyInfo), as AWS serves the keys of
// its load balancers.
func parsePEM(body []byte, kid string) (keys []key, rejected map[string]string, reason string) {
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, nil, "a body that is not a PEM public key"
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, nil, "a PEM public key that cannot be parsed"
	}
	if why := usable(pub); why != "" {
		return nil, map[string]string{kid: "it is " + why}, ""
	}
	return []key{{id: kid, pub: pub}}, nil, ""
}

// token is a parsed compact JWS.
type token struct {
	alg, kid     string
	signingInput string
	sig, payload []byte
}

// parseToken splits a compact JWS and reads its header. Segments may carry base64
// padding (AWS load balancers pad theirs); the signature is always checked over the
// bytes as received.
func parseToken(raw string, algs map[string]bool) (*token, error) {
	if len(raw) > maxTokenBytes {
		return nil, &TokenError{Reason: "is too large"}
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, &TokenError{Reason: "is not a compact JWS (three dot-separated parts)"}
	}
	hb, err1 := segment(parts[0])
	payload, err2 := segment(parts[1])
	sig, err3 := segment(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, &TokenError{Reason: "is not base64url-encoded"}
	}
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, &TokenError{Reason: "header is not a JSON object"}
	}
	if hdr.Crit != nil {
		return nil, &TokenError{Reason: "has critical header parameters, which are not supported"}
	}
	if !algs[hdr.Alg] {
		return nil, &TokenError{Reason: fmt.Sprintf("is signed with %q, which is not an accepted algorithm", printable(hdr.Alg))}
	}
	if len(hdr.Kid) > maxKIDBytes {
		return nil, &TokenError{Reason: "has too long a kid"}
	}
	return &token{alg: hdr.Alg, kid: hdr.Kid, signingInput: parts[0] + "." + parts[1], sig: sig, payload: payload}, nil
}

func segment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// printable shortens s to printable ASCII for messages.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f && r != '"' {
			b.WriteRune(r)
		}
		if b.Len() >= 20 {
			break
		}
	}
	return b.String()
}
