package cookies

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// sealVersion prefixes every sealed value so the format (algorithm, key derivation)
// can change later without misreading old cookies.
const sealVersion = "1"

// HKDF parameters. The labels keep the AEAD key and the derivation key independent.
const (
	hkdfSalt      = "backstage-auth-go/cookies"
	infoSealKey   = "backstage-auth-go cookie seal v1"
	infoDeriveKey = "backstage-auth-go derive v1"
)

// MinSecretBytes is the shortest auth.session.secret CheckSecret accepts.
const MinSecretBytes = 32

// ErrInvalidSealed is returned by Open for anything that is not a value Seal produced
// with the same secret and AAD. It carries no detail on purpose.
var ErrInvalidSealed = errors.New("cookies: sealed value is invalid")

// Sealer seals (XChaCha20-Poly1305, random 24-byte nonce) and derives (HMAC-SHA256)
// with keys derived from one secret. It is safe for concurrent use.
type Sealer struct {
	aead      cipher.AEAD
	deriveKey []byte
	random    io.Reader
}

// NewSealer derives the sealing and derivation keys from secret (auth.session.secret)
// with HKDF-SHA256. random is the nonce source; nil means crypto/rand. It does not
// judge the secret: use CheckSecret at config time.
func NewSealer(secret []byte, random io.Reader) *Sealer {
	sealKey := mustHKDF(secret, infoSealKey, chacha20poly1305.KeySize)
	aead, err := chacha20poly1305.NewX(sealKey)
	if err != nil {
		// Unreachable: the key has the exact size NewX wants.
		panic("cookies: " + err.Error())
	}
	if random == nil {
		random = rand.Reader
	}
	return &Sealer{aead: aead, deriveKey: mustHKDF(secret, infoDeriveKey, 32), random: random}
}

// CheckSecret reports whether secret is long enough to seal cookies with.
func CheckSecret(secret []byte) error {
	if len(secret) < MinSecretBytes {
		return errors.New("auth.session.secret must be at least 32 bytes (for example `openssl rand -base64 32`)")
	}
	return nil
}

func mustHKDF(secret []byte, info string, n int) []byte {
	k, err := hkdf.Key(sha256.New, secret, []byte(hkdfSalt), info, n)
	if err != nil {
		panic("cookies: hkdf: " + err.Error()) // only for absurd n
	}
	return k
}

// Seal encrypts plaintext bound to aad (e.g. "spectrocloud|development|refresh") and
// returns "1" + base64url(nonce || ciphertext), safe as a cookie value.
func (s *Sealer) Seal(plaintext []byte, aad string) string {
	nonce := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plaintext)+s.aead.Overhead())
	if _, err := io.ReadFull(s.random, nonce); err != nil {
		// An injected reader failed; crypto/rand cannot fail. Never reuse a nonce.
		_, _ = rand.Read(nonce)
	}
	out := s.aead.Seal(nonce, nonce, plaintext, additionalData(aad))
	return sealVersion + base64.RawURLEncoding.EncodeToString(out)
}

// Open authenticates and decrypts a value from Seal. Tampering, another secret,
// another AAD, truncation or garbage all give ErrInvalidSealed.
func (s *Sealer) Open(sealed string, aad string) ([]byte, error) {
	if len(sealed) < 1 || sealed[:1] != sealVersion {
		return nil, ErrInvalidSealed
	}
	body := sealed[1:]
	// base64 decoders skip '\r' and '\n'; only the canonical encoding is accepted so
	// that exactly one string opens to a given plaintext.
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, ErrInvalidSealed
		}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || len(raw) < chacha20poly1305.NonceSizeX+s.aead.Overhead() {
		return nil, ErrInvalidSealed
	}
	nonce, ct := raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:]
	// Decrypted in place: raw is ours, and a second buffer the size of the cookie
	// per refresh is garbage the collector has to chase.
	pt, err := s.aead.Open(ct[:0], nonce, ct, additionalData(aad))
	if err != nil {
		return nil, ErrInvalidSealed
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

func additionalData(aad string) []byte {
	return []byte(sealVersion + "|" + aad)
}

// Derive returns HMAC-SHA256 under its own derived key of (label, data), length-
// prefixed so that ("ab","c") and ("a","bc") differ. Used to derive per-flow secrets
// (OIDC nonce, PKCE verifier) from the state nonce without storing them.
func (s *Sealer) Derive(label, data string) []byte {
	m := hmac.New(sha256.New, s.deriveKey)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(label)))
	m.Write(n[:])
	m.Write([]byte(label))
	m.Write([]byte(data))
	return m.Sum(nil)
}
