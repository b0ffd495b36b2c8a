package proxyjwt

import (
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	e := Expect{Issuer: "https://iss", Audience: "app", Now: func() time.Time { return now }}
	base := func() map[string]any {
		return map[string]any{"iss": "https://iss", "aud": []any{"other", "app"}, "exp": now.Unix() + 10, "iat": now.Unix(), "nbf": now.Unix()}
	}
	tests := []struct {
		name   string
		change func(c map[string]any)
		e      func(e Expect) Expect
		says   string
	}{
		{"valid", func(map[string]any) {}, nil, ""},
		{"aud as a string", func(c map[string]any) { c["aud"] = "app" }, nil, ""},
		{"aud missing the app", func(c map[string]any) { c["aud"] = []any{"other"} }, nil, "audience"},
		{"aud a number", func(c map[string]any) { c["aud"] = int64(1) }, nil, "audience"},
		{"no iss", func(c map[string]any) { delete(c, "iss") }, nil, "no issuer"},
		{"other iss", func(c map[string]any) { c["iss"] = "https://iss/" }, nil, "issuer"},
		{"issuer func", func(c map[string]any) { c["iss"] = "https://t1" }, func(e Expect) Expect {
			e.IssuerOK = func(iss string, _ map[string]any) bool { return iss == "https://t1" }
			return e
		}, ""},
		{"no exp", func(c map[string]any) { delete(c, "exp") }, nil, "no expiry"},
		{"exp a string", func(c map[string]any) { c["exp"] = "soon" }, nil, "no expiry"},
		{"exp now is expired (jose)", func(c map[string]any) { c["exp"] = now.Unix() }, nil, "expired"},
		{"exp within leeway", func(c map[string]any) { c["exp"] = now.Unix() - 5 }, func(e Expect) Expect { e.Leeway = 10 * time.Second; return e }, ""},
		{"nbf in the future", func(c map[string]any) { c["nbf"] = now.Unix() + 1 }, nil, "not valid yet"},
		{"nbf not a number", func(c map[string]any) { c["nbf"] = "x" }, nil, "nbf is not a number"},
		{"iat slightly ahead", func(c map[string]any) { c["iat"] = now.Unix() + 30 }, nil, ""},
		{"iat far ahead", func(c map[string]any) { c["iat"] = now.Unix() + 120 }, nil, "issued in the future"},
		{"fractional exp", func(c map[string]any) { c["exp"] = float64(now.Unix()) + 0.5 }, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(c)
			ee := e
			if tt.e != nil {
				ee = tt.e(e)
			}
			err := ee.check(c)
			switch {
			case tt.says == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Fatalf("error %v, want %q", err, tt.says)
			}
		})
	}
}
