package authbackend

import (
	"bytes"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/cookies"
)

// FuzzOpenNonceCookie: the callback's nonce-cookie check never panics and binds only
// what this server sealed for that provider and that state nonce. The genuine cookies
// are the seeds; any other (nonce, cookie) pair, including a genuine cookie presented
// with another sign-in's nonce or for another provider, is refused.
func FuzzOpenNonceCookie(f *testing.F) {
	// A fixed random stream, so the genuine cookies (and the corpus) are reproducible.
	random := bytes.NewReader(bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuv"), 64))
	s := &Server{rand: random, sealer: cookies.NewSealer([]byte("fuzz-session-secret-0123456789abcdef"), random)}
	type key struct{ provider, nonce, cookie string }
	genuine := map[key]bool{}
	for _, k := range []key{{"spectrocloud", "bm9uY2UtMQ", ""}, {"github", "bm9uY2UtMg", ""}} {
		c, want, err := s.newNonceCookie(k.provider, k.nonce)
		if err != nil {
			f.Fatal(err)
		}
		got, err := s.openNonceCookie(k.provider, k.nonce, c)
		if err != nil || got != want {
			f.Fatalf("a genuine cookie does not open to its secrets: %v", err)
		}
		k.cookie = c
		genuine[k] = true
		f.Add(k.provider, k.nonce, c)
		f.Add(k.provider, k.nonce+"x", c) // another sign-in's state
	}
	f.Add("github", "bm9uY2UtMQ", "")
	f.Add("spectrocloud", "", "1AAAA")
	f.Fuzz(func(t *testing.T, provider, nonce, cookie string) {
		fs, err := s.openNonceCookie(provider, nonce, cookie)
		if err != nil {
			if fs.Nonce != "" || fs.PKCEVerifier != "" {
				t.Fatal("flow secrets returned with an error")
			}
			return
		}
		if !genuine[key{provider, nonce, cookie}] {
			t.Fatalf("accepted a nonce cookie this server never sealed for (%q, %q): %q", provider, nonce, cookie)
		}
		if fs.Nonce == "" || fs.PKCEVerifier == "" || fs.Nonce == nonce {
			t.Fatalf("flow secrets %+v for state nonce %q", fs, nonce)
		}
	})
}
