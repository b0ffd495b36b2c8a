package oauthstate

import "testing"

// FuzzDecodeState: Decode never panics, and any state it accepts survives
// Encode/Decode unchanged (our encoder and decoder agree on everything Decode yields).
func FuzzDecodeState(f *testing.F) {
	for _, tc := range captured {
		f.Add(tc.hex)
	}
	f.Add("zzzz")
	f.Add("")
	f.Add("6e6f6e63653d6126656e763d6465766")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Decode(in)
		if err != nil {
			return
		}
		if s.Env == "" || s.Nonce == "" {
			t.Fatalf("accepted state without env/nonce: %+v", s)
		}
		again, err := Decode(Encode(s))
		if err != nil {
			t.Fatalf("re-decode failed: %v", err)
		}
		if again != s {
			t.Fatalf("round trip changed state:\n%+v\n%+v", s, again)
		}
	})
}
