package signingkeys

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// StaticKeyFile is one auth.keyStore.static.keys[] entry.
type StaticKeyFile struct {
	// PublicKeyFile is an SPKI PEM ("PUBLIC KEY") file.
	PublicKeyFile string
	// PrivateKeyFile is a PKCS#8 PEM ("PRIVATE KEY") file.
	PrivateKeyFile string
	KeyID          string
	// Algorithm defaults to ES256, the only one supported.
	Algorithm string
}

// StaticKeySet is auth.keyStore.provider "static": keys from files, the first one
// signs, the JWKS lists all of them with "use":"sig", nothing ever rotates.
type StaticKeySet struct {
	signing *SigningKey
	pub     *PublicKeySet
}

// NewStaticKeySet reads and checks the key files.
func NewStaticKeySet(keys []StaticKeyFile) (*StaticKeySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("static key store: at least one key must be configured in auth.keyStore.static.keys")
	}
	listed := make([]listedKey, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	var signing *SigningKey
	for i, kf := range keys {
		alg := kf.Algorithm
		if alg == "" {
			alg = AlgES256
		}
		if alg != AlgES256 {
			return nil, fmt.Errorf("static key %q (%s): algorithm %q is not supported, only ES256", kf.KeyID, kf.PrivateKeyFile, alg)
		}
		if kf.KeyID == "" {
			return nil, fmt.Errorf("static key %d (%s): keyId is required", i, kf.PublicKeyFile)
		}
		if seen[kf.KeyID] {
			return nil, fmt.Errorf("static key %q: duplicate keyId", kf.KeyID)
		}
		seen[kf.KeyID] = true
		pub, err := readSPKIFile(kf.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		priv, err := readPKCS8File(kf.PrivateKeyFile)
		if err != nil {
			return nil, err
		}
		if !priv.PublicKey.Equal(pub) {
			return nil, fmt.Errorf("static key %q: private key %s does not match public key %s", kf.KeyID, kf.PrivateKeyFile, kf.PublicKeyFile)
		}
		if i == 0 {
			if signing, err = newSigningKey(kf.KeyID, priv); err != nil {
				return nil, err
			}
		}
		listed = append(listed, listedKey{kid: kf.KeyID, jwk: publicJWK(pub, kf.KeyID, "sig"), pub: pub,
			createdAt: time.Unix(int64(i), 0)}) // keeps the configured order
	}
	p, _ := buildPublicKeySet(listed, time.Time{}, 1)
	return &StaticKeySet{signing: signing, pub: p}, nil
}

func readPEM(path, wantType string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("static key file: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("static key file %s: no PEM block found", path)
	}
	if block.Type != wantType {
		return nil, fmt.Errorf("static key file %s: PEM type %q, want %q", path, block.Type, wantType)
	}
	return block.Bytes, nil
}

func readSPKIFile(path string) (*ecdsa.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("static key file %s: not an SPKI public key: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("static key file %s: %T is not a P-256 EC key (only ES256 is supported)", path, k)
	}
	return ec, nil
}

func readPKCS8File(path string) (*ecdsa.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("static key file %s: not a PKCS#8 private key: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("static key file %s: %T is not a P-256 EC key (only ES256 is supported)", path, k)
	}
	return ec, nil
}

// SigningKey returns the first configured key.
func (s *StaticKeySet) SigningKey(context.Context) (*SigningKey, error) { return s.signing, nil }

// PublicKeys returns every configured public key.
func (s *StaticKeySet) PublicKeys(context.Context) (*PublicKeySet, error) { return s.pub, nil }

// JWKS returns the {"keys":[...]} document with "use":"sig" on each key.
func (s *StaticKeySet) JWKS(context.Context) ([]byte, error) { return s.pub.jwks, nil }
