package jwks

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
	"strings"
	"testing"
	"time"
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
	// The first key signs; tokens verify; nothing expires.
	clock := newFakeClock()
	is := NewIssuer(IssuerOptions{Issuer: testIss, Keys: ks, Expiration: time.Hour, Now: clock.Now})
	it, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/a"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(decodeToken(t, it.Token).header), `"kid":"first"`) {
		t.Error("not signed by the first key")
	}
	clock.Advance(30 * 24 * time.Hour)
	it2, _ := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/a"})
	if _, err := NewVerifier(ks, clock.Now).VerifyUserToken(ctxT(t), it2.Token, false); err != nil {
		t.Fatal(err)
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

func TestPluginToken(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock, nil)
	pt := NewPluginTokenIssuer(ks, "auth", clock.Now)
	ctx := ctxT(t)
	tok, err := pt.PluginToken(ctx, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ks.SigningKey(ctx)
	d := decodeToken(t, tok)
	if want := `{"typ":"vnd.backstage.plugin","alg":"ES256","kid":"` + key.KID + `"}`; string(d.header) != want {
		t.Errorf("header %s", d.header)
	}
	if want := `{"sub":"auth","aud":"catalog","iat":1795777608,"exp":1795781208}`; string(d.payload) != want {
		t.Errorf("payload %s", d.payload)
	}
	if err := verifyES256(key.Public(), d.h64+"."+d.p64, d.s64); err != nil {
		t.Fatal(err)
	}
	// Reused while at least 10 minutes remain; other targets get their own.
	clock.Advance(50 * time.Minute)
	if again, _ := pt.PluginToken(ctx, "catalog"); again != tok {
		t.Error("token not reused with 10 minutes left")
	}
	other, _ := pt.PluginToken(ctx, "scaffolder")
	if !strings.Contains(string(decodeToken(t, other).payload), `"aud":"scaffolder"`) {
		t.Error("wrong audience")
	}
	clock.Advance(time.Second)
	fresh, _ := pt.PluginToken(ctx, "catalog")
	if fresh == tok {
		t.Fatal("token reused with less than 10 minutes left")
	}
	if !strings.Contains(string(decodeToken(t, fresh).payload), `"iat":1795780609`) {
		t.Errorf("fresh payload %s", decodeToken(t, fresh).payload)
	}
	if _, err := pt.PluginToken(ctx, ""); err == nil {
		t.Error("empty target accepted")
	}
}
