package credentials

import (
	"regexp"
	"testing"
)

// The hand-written parser must accept exactly what Backstage's regexp accepts.
func TestBearerTokenMatchesBackstageRegexp(t *testing.T) {
	re := regexp.MustCompile(`(?i)^Bearer[ ]+(\S+)$`)
	for _, h := range []string{
		"Bearer abc", "bearer abc", "BEARER   abc.def.ghi", "Bearer", "Bearer ", "Bearer  ",
		"Bearerabc", "Bearer\tabc", "Bearer abc def", "Bearer abc ", " Bearer abc", "Basic abc",
		"Bearer a\nb", "Bearer ä", "Bear abc", "", "Bearer \x0babc",
	} {
		m := re.FindStringSubmatch(h)
		got, ok := BearerToken(h)
		if ok != (m != nil) || (ok && got != m[1]) {
			t.Errorf("%q: got %q %v, regexp says %v", h, got, ok, m)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	re := regexp.MustCompile(`(?i)^Bearer[ ]+(\S+)$`)
	for _, s := range []string{"Bearer abc", "bearer  x", "Bearer", "Bearer a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		m := re.FindStringSubmatch(h)
		got, ok := BearerToken(h)
		if ok != (m != nil) || (ok && got != m[1]) {
			t.Errorf("%q: got %q %v, regexp says %v", h, got, ok, m)
		}
	})
}
