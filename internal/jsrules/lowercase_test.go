package jsrules

import (
	"testing"
	"unicode/utf8"
)

type lowerCaseVectors struct {
	Unicode     string    `json:"unicode"`
	Map         [][]any   `json:"map"`
	Cased       [][2]rune `json:"cased"`
	FoldClasses [][]rune  `json:"foldClasses"`
	Contexts    []struct {
		In     string `json:"in"`
		Out    string `json:"out"`
		Locale string `json:"locale"`
	} `json:"contexts"`
}

// TestToLowerEveryCodePoint compares ToLower of every code point with Node's
// toLowerCase, and the final-sigma contexts with toLocaleLowerCase("en-US").
func TestToLowerEveryCodePoint(t *testing.T) {
	var v lowerCaseVectors
	readVectors(t, "lowercase.json", &v)
	want := make(map[rune]string, len(v.Map))
	for _, e := range v.Map {
		want[rune(e[0].(float64))] = e[1].(string)
	}
	bad := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := string(r)
		w, ok := want[r]
		if !ok {
			w = s
		}
		if got := ToLower(s); got != w {
			if bad++; bad < 20 {
				t.Errorf("ToLower(U+%04X %q) = %q, Node %q", r, s, got, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d code points differ (Node's Unicode %s)", bad, v.Unicode)
	}
	for _, c := range v.Contexts {
		if c.Out != c.Locale {
			t.Errorf("%q: toLowerCase %q != toLocaleLowerCase %q", c.In, c.Out, c.Locale)
		}
		if got := ToLower(c.In); got != c.Locale {
			t.Errorf("ToLower(%q) = %q, Node %q", c.In, got, c.Locale)
		}
	}
}

// TestJSCasedEveryCodePoint: jsCased(c) is c.toUpperCase() !== c.toLowerCase().
func TestJSCasedEveryCodePoint(t *testing.T) {
	var v lowerCaseVectors
	readVectors(t, "lowercase.json", &v)
	want := map[rune]bool{}
	for _, rg := range v.Cased {
		for r := rg[0]; r <= rg[1]; r++ {
			want[r] = true
		}
	}
	bad := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if got := jsCased(string(r)); got != want[r] {
			if bad++; bad < 20 {
				t.Errorf("jsCased(U+%04X %q) = %v, Node %v", r, string(r), got, want[r])
			}
		}
	}
}

// TestFoldClasses: characters a case-insensitive ("iu") RegExp treats as equal are
// equal under foldEqual, and nothing else in their class's orbit is.
func TestFoldClasses(t *testing.T) {
	var v lowerCaseVectors
	readVectors(t, "lowercase.json", &v)
	inClass := map[rune]int{}
	for i, cls := range v.FoldClasses {
		for _, r := range cls {
			inClass[r] = i + 1
		}
	}
	for i, cls := range v.FoldClasses {
		for _, a := range cls {
			for _, b := range cls {
				if !foldEqual(a, b) {
					t.Errorf("class %q: foldEqual(%q, %q) = false", string(cls), a, b)
				}
			}
			for f := simpleFold(a); f != a; f = simpleFold(f) {
				if inClass[f] != i+1 {
					t.Errorf("class %q: %q folds to %q, which Node does not equate", string(cls), a, f)
				}
			}
		}
	}
	// Every non-trivial Go orbit is one of Node's classes.
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if simpleFold(r) != r && inClass[r] == 0 {
			t.Errorf("%q (U+%04X) has a fold orbit Node does not know", r, r)
		}
	}
}
