package jsrules

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// escapePattern backslash-escapes every ASCII punctuation character, so the pattern
// matches s literally.
func escapePattern(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func fuzzOptions(bits uint8) MinimatchOptions {
	return MinimatchOptions{NoCase: bits&1 != 0, NoGlobstar: bits&2 != 0, Dot: bits&4 != 0, WindowsPathsNoEscape: bits&8 != 0}
}

// FuzzMinimatch: compiling and matching never panic; a refusal is a *MinimatchError;
// compiling and matching are deterministic; "!"+pattern matches exactly what pattern
// does not; and an escaped string matches itself. (No Node is available while
// fuzzing: exactness is what the vectors check.)
func FuzzMinimatch(f *testing.F) {
	for _, s := range [][2]string{
		{"https://*.example.com", "https://a.example.com"}, {"*", "https://evil.example"},
		{"http://localhost:{3000..3002}", "http://localhost:3001"}, {"http://localhost:{1..120}", "http://localhost:99"},
		{"/srv/**/*.yaml", "/srv/a/b.yaml"}, {"**/.*", "a/.b"}, {"+(a|b)!(c)", "abd"}, {"[!a-c]?", "dx"},
		{"{a},b}", "a}"}, {"${a,b}", "${a,b}"}, {"{}a", "{}a"}, {"[[:alpha:]]", "a"}, {"a/../b", "b"},
		{"\\\\{a,b}", "\\a"}, {"[k][{1..120}", "k[3"}, {"!#x", "#x"}, {"#x", "#x"}, {"", ""}, {"!", "a"},
		{"@(a|b/c)", "b/c"}, {"*(a|)b", "aab"}, {"[ſ]", "S"}, {"ΑΣ*", "ας"}, {"{01..10..3}", "07"},
	} {
		for _, bits := range []uint8{0, 1, 3, 5, 8} {
			f.Add(s[0], s[1], bits)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, path string, bits uint8) {
		if len(pattern) > 512 || len(path) > 512 {
			return
		}
		opts := fuzzOptions(bits)
		mm, err := CompileMinimatch(pattern, opts)
		if err != nil {
			var me *MinimatchError
			if !errors.As(err, &me) {
				t.Fatalf("CompileMinimatch(%q) error %T %v", pattern, err, err)
			}
			return
		}
		got := mm.Match(path)
		again, err := CompileMinimatch(pattern, opts)
		if err != nil || again.Match(path) != got || mm.Match(path) != got {
			t.Fatalf("%q on %q: not deterministic", pattern, path)
		}
		// ("" is special: it matches only "", while "!" is the row [""], which also
		// matches "/" as Node's minimatch does.)
		if pattern != "" && !strings.HasPrefix(pattern, "#") && (!opts.WindowsPathsNoEscape || !strings.Contains(pattern, `\`)) {
			if neg, err := CompileMinimatch("!"+pattern, opts); err == nil && neg.Match(path) == got {
				t.Fatalf("%q and its negation agree on %q (%v)", pattern, path, got)
			}
		}
		if !opts.WindowsPathsNoEscape && utf8.ValidString(path) && !strings.ContainsAny(path, "/\x00") {
			lit, err := CompileMinimatch(escapePattern(path), opts)
			if err == nil && !lit.Match(path) {
				t.Fatalf("escaped %q does not match itself", path)
			}
		}
	})
}
