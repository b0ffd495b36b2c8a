package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The static and memory key stores, wired through the real binary: tokens verify
// against the served JWKS, and with static keys they are signed by the configured key.
func TestKeyStores(t *testing.T) {
	dir := t.TempDir()
	var keys string
	for i, kid := range []string{"static-1", "static-2"} {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
		spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		privPath, pubPath := filepath.Join(dir, fmt.Sprintf("k%d.key", i)), filepath.Join(dir, fmt.Sprintf("k%d.pub", i))
		writePEM(t, privPath, "PRIVATE KEY", pkcs8)
		writePEM(t, pubPath, "PUBLIC KEY", spki)
		keys += fmt.Sprintf("\n        - {keyId: %s, publicKeyFile: %s, privateKeyFile: %s}", kid, pubPath, privPath)
	}
	for _, tc := range []struct{ name, keyStore, wantKID string }{
		{"static", "  keyStore:\n    provider: static\n    static:\n      keys:" + keys, "static-1"},
		{"memory", "  keyStore:\n    provider: memory", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, serverConfig{Auth: tc.keyStore})
			b := newBrowser(t, s.AppURL)
			resp, body := b.get(s.auth("/guest/refresh"))
			if resp.StatusCode != 200 {
				t.Fatalf("guest refresh: %d %s", resp.StatusCode, body)
			}
			token, _ := dig(jsonBody(t, body), "backstageIdentity", "token").(string)
			set := fetchJWKS(t, s.auth("/.well-known/jwks.json"))
			typ, c := verifyToken(t, token, set)
			if typ != "vnd.backstage.user" || c.Sub != "user:development/guest" {
				t.Fatalf("typ %q claims %+v", typ, c)
			}
			if tc.wantKID != "" {
				if len(set.Keys) != 2 || set.Keys[0].KeyID != "static-1" || set.Keys[0].Use != "sig" {
					t.Fatalf("static JWKS = %+v", set.Keys)
				}
				if len(set.Key(tc.wantKID)) != 1 {
					t.Fatalf("no key %s", tc.wantKID)
				}
				if kid := mustKID(t, token); kid != tc.wantKID {
					t.Fatalf("token signed by %q, want the first static key", kid)
				}
			}
		})
	}
}
