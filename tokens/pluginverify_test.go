package tokens

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// keySetVerifier checks signatures against a KeySet's published keys (what the
// calling plugin's JWKS holds).
type keySetVerifier struct{ ks *signingkeys.KeySet }

func (k keySetVerifier) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	pub, err := k.ks.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := jwt.Parse(raw, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if key := pub.Key(kid); key != nil {
			return key, nil
		}
		return nil, errors.New("unknown kid")
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithoutClaimsValidation()); err != nil {
		return nil, err
	}
	parts := strings.Split(raw, ".")
	return base64.RawURLEncoding.DecodeString(parts[1])
}

// Plugin tokens another plugin sends to auth verify against that plugin's keys,
// found by its id; the audience must be auth, and expired, forged, misaddressed and
// user tokens are refused. obo is reported.
func TestPluginTokenVerifier(t *testing.T) {
	clock := newFakeClock()
	catalogKeys := newTestKeySet(t, clock)
	otherKeys := newTestKeySet(t, clock)
	var asked []string
	v := NewPluginTokenVerifier("auth", func(id string) (SignatureVerifier, error) {
		asked = append(asked, id)
		switch id {
		case "catalog":
			return keySetVerifier{catalogKeys}, nil
		case "scaffolder":
			return keySetVerifier{otherKeys}, nil
		}
		return nil, errors.New("no such plugin")
	}, clock.Now)
	ctx := ctxT(t)
	catalog := NewPluginTokenIssuer(catalogKeys, "catalog", clock.Now)
	tok, err := catalog.PluginToken(ctx, "auth")
	if err != nil {
		t.Fatal(err)
	}
	sub, obo, err := v.VerifyPluginToken(ctx, tok)
	if err != nil || sub != "catalog" || obo {
		t.Fatalf("VerifyPluginToken = %q, %v, %v", sub, obo, err)
	}
	if _, _, err := v.VerifyPluginToken(ctx, tok); err != nil || len(asked) != 1 {
		t.Fatalf("key source built %d times (%v)", len(asked), err)
	}

	refused := map[string]string{}
	toScaffolder, _ := catalog.PluginToken(ctx, "scaffolder")
	refused["addressed to another plugin"] = toScaffolder
	// Signed by catalog's key but claiming to be scaffolder: scaffolder's keys do not verify it.
	key, _ := catalogKeys.SigningKey(ctx)
	forged, _ := key.Sign(signingkeys.TypPlugin, []byte(`{"sub":"scaffolder","aud":"auth","iat":1795777608,"exp":1795781208}`))
	refused["signed with another plugin's key"] = forged
	unknown, _ := key.Sign(signingkeys.TypPlugin, []byte(`{"sub":"nobody","aud":"auth","iat":1795777608,"exp":1795781208}`))
	refused["from an unknown plugin"] = unknown
	badID, _ := key.Sign(signingkeys.TypPlugin, []byte(`{"sub":"../x","aud":"auth","iat":1795777608,"exp":1795781208}`))
	refused["with a path for a plugin id"] = badID
	user, _ := key.Sign(signingkeys.TypUser, []byte(`{"sub":"catalog","aud":"auth","iat":1795777608,"exp":1795781208}`))
	refused["of type user"] = user
	refused["garbage"] = "a.b.c"
	for name, tok := range refused {
		if _, _, err := v.VerifyPluginToken(ctx, tok); backstageerr.NameOf(err) != backstageerr.NameAuthentication || backstageerr.MessageOf(err) != MsgFailedPluginTokenVerify {
			t.Errorf("token %s: %v", name, err)
		}
	}
	withObo, _ := key.Sign(signingkeys.TypPlugin, []byte(`{"sub":"catalog","aud":"auth","iat":1795777608,"exp":1795781208,"obo":"eyJ..."}`))
	if _, obo, err := v.VerifyPluginToken(ctx, withObo); err != nil || !obo {
		t.Errorf("obo token: %v, %v", obo, err)
	}
	clock.Advance(2 * time.Hour)
	if _, _, err := v.VerifyPluginToken(ctx, tok); err == nil {
		t.Error("expired plugin token accepted")
	}
}
