package origins

import (
	"fmt"
	"strings"
)

// GlobList matches strings (origins) against minimatch-style patterns with the options
// Backstage uses ({nocase: true, noglobstar: true}): patterns and input are split on
// '/', and '*' matches any run of characters within one segment, '?' exactly one,
// [...] a character class; {a,b} alternatives are expanded. As in minimatch, a
// wildcard at the start of a segment does not match a leading '.', and a segment made
// only of '*' does not match an empty segment. A pattern that is exactly "*" matches
// anything (the CORS "allow every origin" spelling).
type GlobList struct {
	matchAll bool
	globs    []compiledGlob
}

type compiledGlob struct {
	source   string
	segments [][]token
}

type tokenKind uint8

const (
	tokLiteral tokenKind = iota
	tokStar
	tokAny // '?'
	tokClass
)

type token struct {
	kind   tokenKind
	lit    byte
	negate bool
	ranges [][2]byte // inclusive byte ranges of a class
}

// CompileGlobs compiles patterns. Patterns minimatch would treat as negations ("!x")
// or comments ("#x"), extglobs and unbalanced classes or braces are rejected: for an
// allow-list they would silently allow far more (or less) than intended.
func CompileGlobs(patterns []string) (*GlobList, error) {
	g := &GlobList{}
	for _, p := range patterns {
		if p == "*" {
			g.matchAll = true
			continue
		}
		expanded, err := expandBraces(p)
		if err != nil {
			return nil, fmt.Errorf("invalid origin pattern %q: %w", p, err)
		}
		for _, e := range expanded {
			cg, err := compileOne(strings.ToLower(e))
			if err != nil {
				return nil, fmt.Errorf("invalid origin pattern %q: %w", p, err)
			}
			cg.source = p
			g.globs = append(g.globs, cg)
		}
	}
	return g, nil
}

// Match reports whether s matches any pattern (case-insensitively).
func (g *GlobList) Match(s string) bool {
	if g == nil {
		return false
	}
	if g.matchAll {
		return true
	}
	if len(g.globs) == 0 {
		return false
	}
	parts := strings.Split(strings.ToLower(s), "/")
	for _, cg := range g.globs {
		if matchSegments(cg.segments, parts) {
			return true
		}
	}
	return false
}

// Len is the number of compiled patterns (after brace expansion), for logging.
func (g *GlobList) Len() int {
	if g == nil {
		return 0
	}
	n := len(g.globs)
	if g.matchAll {
		n++
	}
	return n
}

func compileOne(p string) (compiledGlob, error) {
	if p == "" {
		return compiledGlob{}, fmt.Errorf("empty pattern")
	}
	switch p[0] {
	case '!':
		return compiledGlob{}, fmt.Errorf("negated patterns are not supported")
	case '#':
		return compiledGlob{}, fmt.Errorf("comment patterns are not supported")
	}
	if strings.ContainsAny(p, "()|") {
		return compiledGlob{}, fmt.Errorf("extglob syntax ( ) | is not supported")
	}
	var cg compiledGlob
	for _, seg := range strings.Split(p, "/") {
		toks, err := tokenize(seg)
		if err != nil {
			return compiledGlob{}, err
		}
		cg.segments = append(cg.segments, toks)
	}
	return cg, nil
}

func tokenize(seg string) ([]token, error) {
	var toks []token
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch c {
		case '\\':
			if i+1 >= len(seg) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			toks = append(toks, token{kind: tokLiteral, lit: seg[i]})
		case '*':
			// noglobstar: "**" is the same as "*".
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
		case '?':
			toks = append(toks, token{kind: tokAny})
		case '[':
			tok, next, err := parseClass(seg, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = next
		case ']':
			return nil, fmt.Errorf("unbalanced ']'")
		default:
			toks = append(toks, token{kind: tokLiteral, lit: c})
		}
	}
	return toks, nil
}

// parseClass parses the class starting at seg[start] == '['; it returns the index of
// the closing ']'.
func parseClass(seg string, start int) (token, int, error) {
	tok := token{kind: tokClass}
	i := start + 1
	if i < len(seg) && (seg[i] == '!' || seg[i] == '^') {
		tok.negate = true
		i++
	}
	first := true
	for ; i < len(seg); i++ {
		c := seg[i]
		if c == ']' && !first {
			if len(tok.ranges) == 0 {
				return token{}, 0, fmt.Errorf("empty character class")
			}
			return tok, i, nil
		}
		first = false
		if c == '\\' && i+1 < len(seg) {
			i++
			c = seg[i]
		}
		lo, hi := c, c
		if i+2 < len(seg) && seg[i+1] == '-' && seg[i+2] != ']' {
			hi = seg[i+2]
			if hi == '\\' && i+3 < len(seg) {
				hi = seg[i+3]
				i++
			}
			i += 2
			if hi < lo {
				return token{}, 0, fmt.Errorf("invalid range %q-%q", lo, hi)
			}
		}
		tok.ranges = append(tok.ranges, [2]byte{lo, hi})
	}
	return token{}, 0, fmt.Errorf("unterminated character class")
}

// expandBraces expands {a,b} alternatives (nested allowed). A brace group without a
// top-level comma is literal, as in brace-expansion. Expansion is bounded.
func expandBraces(p string) ([]string, error) {
	const maxExpansions = 256
	out := []string{}
	var rec func(s string, depth int) error
	rec = func(s string, depth int) error {
		if depth > 16 || len(out) > maxExpansions {
			return fmt.Errorf("brace expansion too large")
		}
		open, close, commas := findBraceGroup(s)
		if open < 0 {
			out = append(out, s)
			return nil
		}
		prefix, suffix := s[:open], s[close+1:]
		start := open + 1
		for _, c := range append(commas, close) {
			if err := rec(prefix+s[start:c]+suffix, depth+1); err != nil {
				return err
			}
			start = c + 1
		}
		return nil
	}
	if err := rec(p, 0); err != nil {
		return nil, err
	}
	if len(out) > maxExpansions {
		return nil, fmt.Errorf("brace expansion too large")
	}
	return out, nil
}

// findBraceGroup finds the first '{' ... '}' group with at least one top-level comma.
func findBraceGroup(s string) (open, close int, commas []int) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth := 0
			var cs []int
			for j := i; j < len(s); j++ {
				switch s[j] {
				case '\\':
					j++
				case '{':
					depth++
				case '}':
					depth--
					if depth == 0 {
						if len(cs) > 0 {
							return i, j, cs
						}
						j = len(s) // literal group; keep scanning after '{'
					}
				case ',':
					if depth == 1 {
						cs = append(cs, j)
					}
				}
			}
		}
	}
	return -1, -1, nil
}

func matchSegments(pat [][]token, parts []string) bool {
	if len(parts) == len(pat)+1 && parts[len(parts)-1] == "" {
		// minimatch: "a/*" also matches "a/b/" (a trailing slash on the input).
		parts = parts[:len(parts)-1]
	}
	if len(pat) != len(parts) {
		return false
	}
	for i, seg := range pat {
		if !matchSegment(seg, parts[i]) {
			return false
		}
	}
	return true
}

func matchSegment(toks []token, s string) bool {
	if len(toks) > 0 && len(s) > 0 && s[0] == '.' && toks[0].kind != tokLiteral {
		// minimatch without {dot:true}: a wildcard never matches a leading dot.
		return false
	}
	allStars := len(toks) > 0
	for _, t := range toks {
		if t.kind != tokStar {
			allStars = false
		}
	}
	if allStars && s == "" {
		return false
	}
	return matchTokens(toks, s)
}

// matchTokens is iterative wildcard matching with single-star backtracking, linear in
// practice and never exponential.
func matchTokens(toks []token, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case tokStar:
				starT, starS = ti, si
				ti++
				continue
			case tokLiteral:
				if t.lit == s[si] {
					ti++
					si++
					continue
				}
			case tokAny:
				ti++
				si++
				continue
			case tokClass:
				if t.matches(s[si]) {
					ti++
					si++
					continue
				}
			}
		}
		if starT >= 0 {
			starS++
			si = starS
			ti = starT + 1
			continue
		}
		return false
	}
	for ti < len(toks) && toks[ti].kind == tokStar {
		ti++
	}
	return ti == len(toks)
}

func (t token) matches(c byte) bool {
	in := false
	for _, r := range t.ranges {
		if r[0] <= c && c <= r[1] {
			in = true
			break
		}
	}
	return in != t.negate
}
