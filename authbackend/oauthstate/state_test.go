package oauthstate

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// States captured from the real Node backend (reference captures 03, 27/29, 49).
var captured = []struct {
	name string
	hex  string
	want State
}{
	{
		name: "03-start-popup",
		hex:  "6e6f6e63653d713251466448576c62525a41774767544c644241334125334425334426656e763d646576656c6f706d656e74266f726967696e3d687474702533412532462532463132372e302e302e312533413137303037",
		want: State{Nonce: "q2QFdHWlbRZAwGgTLdBA3A==", Env: "development", Origin: "http://127.0.0.1:17007"},
	},
	{
		name: "27-start-redirect",
		hex:  "6e6f6e63653d464c325070554355424d527a59743645543379566b6725334425334426656e763d646576656c6f706d656e74266f726967696e3d687474702533412532462532463132372e302e302e31253341313730303726726564697265637455726c3d687474702533412532462532463132372e302e302e312533413137303037253246636174616c6f6725334666726f6d2533446c6f67696e26666c6f773d7265646972656374",
		want: State{Nonce: "FL2PpUCUBMRzYt6ET3yVkg==", Env: "development", Origin: "http://127.0.0.1:17007", RedirectURL: "http://127.0.0.1:17007/catalog?from=login", Flow: "redirect"},
	},
	{
		name: "49-state-no-nonce-cookie",
		hex:  "6e6f6e63653d4141414126656e763d646576656c6f706d656e74266f726967696e3d687474702533412532462532463132372e302e302e312533413137303037",
		want: State{Nonce: "AAAA", Env: "development", Origin: "http://127.0.0.1:17007"},
	},
}

func TestCapturedStates(t *testing.T) {
	for _, tc := range captured {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.hex)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Decode = %+v, want %+v", got, tc.want)
			}
			if enc := Encode(got); enc != tc.hex {
				t.Fatalf("Encode not byte-identical to Node:\n got %s\nwant %s", enc, tc.hex)
			}
		})
	}
}

type nodeVectors struct {
	Decode []struct {
		Name string            `json:"name"`
		Hex  string            `json:"hex"`
		Want map[string]string `json:"want"`
	} `json:"decode"`
	Encode []struct {
		S    map[string]string `json:"s"`
		Want string            `json:"want"`
	} `json:"encode"`
}

func loadVectors(t *testing.T) nodeVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/node-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v nodeVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Decode) == 0 || len(v.Encode) == 0 {
		t.Fatal("empty vector file")
	}
	return v
}

func fromMap(m map[string]string) State {
	return State{Nonce: m["nonce"], Env: m["env"], Origin: m["origin"], RedirectURL: m["redirectUrl"], Flow: m["flow"], Scope: m["scope"]}
}

// TestNodeDecodeVectors compares Decode with what Node's decodeOAuthState returned
// for odd lengths, invalid hex, duplicate keys, '+'/%20, malformed escapes and
// invalid UTF-8 (testdata/gen-vectors.js).
func TestNodeDecodeVectors(t *testing.T) {
	for _, tc := range loadVectors(t).Decode {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := Decode(tc.Hex)
			if wantErr, ok := tc.Want["err"]; ok {
				if err == nil {
					t.Fatalf("Decode = %+v, want error %q", got, wantErr)
				}
				be, ok := backstageerr.As(err)
				if !ok || be.Name != backstageerr.NameNotAllowed || be.Message != wantErr {
					t.Fatalf("error = %#v, want NotAllowedError %q", err, wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if want := fromMap(tc.Want); got != want {
				t.Fatalf("Decode = %q, want %q", got, want)
			}
		})
	}
}

func TestNodeEncodeVectors(t *testing.T) {
	for _, tc := range loadVectors(t).Encode {
		s := fromMap(tc.S)
		if got := Encode(s); got != tc.Want {
			t.Errorf("Encode(%+v) = %s, want %s", s, got, tc.Want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []State{
		{Nonce: "n", Env: "e"},
		{Nonce: "q2QFdHWlbRZAwGgTLdBA3A==", Env: "development", Origin: "http://localhost:3000", Flow: "popup", Scope: "openid profile email"},
		{Nonce: "x", Env: "prod", RedirectURL: "https://app/x?a=1&b=%20#f", Flow: "redirect", Scope: "a,b|c d"},
		{Nonce: "ünï", Env: "日本", Origin: "&=+%"},
	}
	for _, s := range cases {
		got, err := Decode(Encode(s))
		if err != nil || got != s {
			t.Errorf("Decode(Encode(%+v)) = %+v, %v", s, got, err)
		}
	}
}

func TestEncodeOmitsEmptyAndIsLowerHex(t *testing.T) {
	enc := Encode(State{Nonce: "a", Env: "b"})
	if enc != "6e6f6e63653d6126656e763d62" {
		t.Fatalf("Encode = %s", enc)
	}
	if strings.ToLower(enc) != enc {
		t.Fatal("not lowercase")
	}
}

func TestEncodeInvalidUTF8BecomesReplacement(t *testing.T) {
	got, err := Decode(Encode(State{Nonce: "a\xffb", Env: "e"}))
	if err != nil || got.Nonce != "a\uFFFDb" {
		t.Fatalf("got %q, %v", got.Nonce, err)
	}
}

func TestDecodeErrorOrder(t *testing.T) {
	// Both missing: env is reported first, as in Backstage.
	_, err := Decode(Encode(State{Scope: "x"}))
	if err == nil || err.Error() != "OAuth state is invalid, missing env" {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkDecode(b *testing.B) {
	enc := captured[1].hex
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
