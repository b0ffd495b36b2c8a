package tokens

import (
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v5"
)

func TestPluginToken(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
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
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return key.Public(), nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(clock.Now)); err != nil {
		t.Fatalf("golang-jwt rejects the plugin token: %v", err)
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
