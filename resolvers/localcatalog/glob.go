package localcatalog

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// hasGlobMeta reports whether s uses glob syntax (Backstage reads file targets with
// the `glob` package and matches rule patterns with minimatch).
func hasGlobMeta(s string) bool { return strings.ContainsAny(s, "*?[{") }

// globRegexp compiles a minimatch-style pattern: ** crosses directories, * and ?
// stay within one path segment, [...] is a class, {a,b} alternatives. Matching is
// case-insensitive when nocase is set (catalog.rules patterns use nocase).
func globRegexp(pattern string, nocase bool) (*regexp.Regexp, error) {
	var b strings.Builder
	if nocase {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	depth := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				i++
				if i+1 < len(pattern) && pattern[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(pattern[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case '{':
			depth++
			b.WriteString("(?:")
		case '}':
			if depth > 0 {
				depth--
				b.WriteString(")")
			} else {
				b.WriteString(`\}`)
			}
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	for ; depth > 0; depth-- {
		b.WriteString(")")
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// globBase is the directory part of pattern before the first segment with glob syntax.
func globBase(pattern string) string {
	segs := strings.Split(filepath.ToSlash(pattern), "/")
	for i, s := range segs {
		if hasGlobMeta(s) {
			base := strings.Join(segs[:i], "/")
			if base == "" {
				return "/"
			}
			return filepath.FromSlash(base)
		}
	}
	return filepath.Dir(pattern)
}

// maxGlobEntries bounds the directory walk of one glob target.
const maxGlobEntries = 100000

// expandGlob returns the regular files matching an absolute pattern, sorted.
func expandGlob(pattern string) ([]string, error) {
	re, err := globRegexp(filepath.ToSlash(pattern), false)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := 0
	err = filepath.WalkDir(globBase(pattern), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == globBase(pattern) {
				return err
			}
			return nil // unreadable subdirectory: skip it
		}
		seen++
		if seen > maxGlobEntries {
			return fs.SkipAll
		}
		if d.Type().IsRegular() && re.MatchString(filepath.ToSlash(p)) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}
