package signingkeys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeKeyPair writes SPKI and PKCS#8 PEM files for priv and returns their paths.
func writeKeyPair(t *testing.T, dir, name string, priv any, pub any) (string, string) {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubPath, privPath := filepath.Join(dir, name+".pub.pem"), filepath.Join(dir, name+".key.pem")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pubPath, privPath
}

func TestStaticKeySet(t *testing.T) {
	dir := t.TempDir()
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub1, priv1 := writeKeyPair(t, dir, "k1", k1, &k1.PublicKey)
	pub2, priv2 := writeKeyPair(t, dir, "k2", k2, &k2.PublicKey)
	ks, err := NewStaticKeySet([]StaticKeyFile{
		{PublicKeyFile: pub1, PrivateKeyFile: priv1, KeyID: "first"},
		{PublicKeyFile: pub2, PrivateKeyFile: priv2, KeyID: "second", Algorithm: "ES256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"keys":[` + string(publicJWK(&k1.PublicKey, "first", "sig")) + "," + string(publicJWK(&k2.PublicKey, "second", "sig")) + `]}`
	doc, _ := ks.JWKS(ctxT(t))
	if string(doc) != want {
		t.Fatalf("JWKS\n got %s\nwant %s", doc, want)
	}
	var set struct{ Keys []map[string]string }
	_ = json.Unmarshal(doc, &set)
	if set.Keys[0]["use"] != "sig" || set.Keys[0]["kid"] != "first" || set.Keys[0]["alg"] != "ES256" {
		t.Errorf("JWK %v", set.Keys[0])
	}
	// The first key signs; both are listed for verification.
	k, err := ks.SigningKey(ctxT(t))
	if err != nil || k.KID != "first" || !k.Public().Equal(&k1.PublicKey) {
		t.Fatalf("signing key %+v, %v; want the first configured key", k, err)
	}
	// base64url({"typ":"vnd.backstage.user","alg":"ES256","kid":"first"}) + "."
	if k.Header(TypUser) != "eyJ0eXAiOiJ2bmQuYmFja3N0YWdlLnVzZXIiLCJhbGciOiJFUzI1NiIsImtpZCI6ImZpcnN0In0." {
		t.Errorf("user header %s", k.Header(TypUser))
	}
	p, _ := ks.PublicKeys(ctxT(t))
	if !p.Key("second").Equal(&k2.PublicKey) || !slices.Equal(p.KIDs(), []string{"first", "second"}) {
		t.Errorf("listed %v", p.KIDs())
	}
}

func TestStaticKeySetErrors(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecPub, ecPriv := writeKeyPair(t, dir, "ec", ec, &ec.PublicKey)
	ec2Pub, _ := writeKeyPair(t, dir, "ec2", ec2, &ec2.PublicKey)
	rsaPub, rsaPriv := writeKeyPair(t, dir, "rsa", rsaKey, &rsaKey.PublicKey)
	p384Pub, p384Priv := writeKeyPair(t, dir, "p384", p384, &p384.PublicKey)
	notPEM := filepath.Join(dir, "garbage.pem")
	_ = os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, tc := range []struct {
		name string
		keys []StaticKeyFile
		want string
	}{
		{"none", nil, "at least one key"},
		{"RS256", []StaticKeyFile{{PublicKeyFile: rsaPub, PrivateKeyFile: rsaPriv, KeyID: "r", Algorithm: "RS256"}}, `algorithm "RS256" is not supported`},
		{"RSA file as ES256", []StaticKeyFile{{PublicKeyFile: rsaPub, PrivateKeyFile: rsaPriv, KeyID: "r"}}, rsaPub},
		{"P-384", []StaticKeyFile{{PublicKeyFile: p384Pub, PrivateKeyFile: p384Priv, KeyID: "p"}}, p384Pub},
		{"missing file", []StaticKeyFile{{PublicKeyFile: filepath.Join(dir, "nope.pem"), PrivateKeyFile: ecPriv, KeyID: "e"}}, "nope.pem"},
		{"not PEM", []StaticKeyFile{{PublicKeyFile: notPEM, PrivateKeyFile: ecPriv, KeyID: "e"}}, notPEM},
		{"private file as public", []StaticKeyFile{{PublicKeyFile: ecPriv, PrivateKeyFile: ecPriv, KeyID: "e"}}, ecPriv},
		{"mismatched pair", []StaticKeyFile{{PublicKeyFile: ec2Pub, PrivateKeyFile: ecPriv, KeyID: "e"}}, "does not match"},
		{"no key id", []StaticKeyFile{{PublicKeyFile: ecPub, PrivateKeyFile: ecPriv}}, "keyId is required"},
		{"duplicate key id", []StaticKeyFile{{PublicKeyFile: ecPub, PrivateKeyFile: ecPriv, KeyID: "e"}, {PublicKeyFile: ecPub, PrivateKeyFile: ecPriv, KeyID: "e"}}, "duplicate keyId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStaticKeySet(tc.keys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
