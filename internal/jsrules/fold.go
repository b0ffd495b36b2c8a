package jsrules

import (
	"unicode"
	"unicode/utf8"
)

// Case-insensitive matching in minimatch (nocase) is a JavaScript RegExp with the
// "iu" flags: two characters match when their simple case foldings (CaseFolding.txt,
// status C and S) are equal, i.e. when they lie in the same unicode.SimpleFold orbit.

// simpleFold is unicode.SimpleFold, with the case pairs of newer Unicode versions.
func simpleFold(r rune) rune {
	if l, ok := newerLower[r]; ok {
		return l
	}
	if u, ok := newerUpper[r]; ok {
		return u
	}
	return unicode.SimpleFold(r)
}

// foldEqual reports whether a and b are equal under simple case folding.
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return lowerASCII(a) == lowerASCII(b) && isASCIILetter(a)
	}
	for f := simpleFold(a); f != a; f = simpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + ('a' - 'A')
	}
	return r
}

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// foldEqualString is /^lit$/iu.test(s): the same number of code points, each pair
// equal under simple case folding.
func foldEqualString(lit, s string) bool {
	i, j := 0, 0
	for i < len(lit) && j < len(s) {
		a, b := lit[i], s[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && !(lowerASCII(rune(a)) == lowerASCII(rune(b)) && isASCIILetter(rune(a))) {
				return false
			}
			i++
			j++
			continue
		}
		ra, na := utf8.DecodeRuneInString(lit[i:])
		rb, nb := utf8.DecodeRuneInString(s[j:])
		if !foldEqual(ra, rb) {
			return false
		}
		i += na
		j += nb
	}
	return i == len(lit) && j == len(s)
}

// specialUpper are the characters whose only uppercase mapping is a multi-character
// one from SpecialCasing.txt (so unicode.ToUpper leaves them alone).
var specialUpper = map[rune]bool{
	0x00DF: true, 0x0149: true, 0x01F0: true, 0x0390: true, 0x03B0: true, 0x0587: true,
	0x1E96: true, 0x1E97: true, 0x1E98: true, 0x1E99: true, 0x1E9A: true,
	0x1F50: true, 0x1F52: true, 0x1F54: true, 0x1F56: true,
	0x1FB2: true, 0x1FB4: true, 0x1FB6: true, 0x1FB7: true, 0x1FC2: true, 0x1FC4: true,
	0x1FC6: true, 0x1FC7: true, 0x1FD2: true, 0x1FD3: true, 0x1FD6: true, 0x1FD7: true,
	0x1FE2: true, 0x1FE3: true, 0x1FE4: true, 0x1FE6: true, 0x1FE7: true, 0x1FF2: true,
	0x1FF4: true, 0x1FF6: true, 0x1FF7: true,
	0xFB00: true, 0xFB01: true, 0xFB02: true, 0xFB03: true, 0xFB04: true, 0xFB05: true, 0xFB06: true,
	0xFB13: true, 0xFB14: true, 0xFB15: true, 0xFB16: true, 0xFB17: true,
}

// jsCased is s.toUpperCase() !== s.toLowerCase() in JavaScript: some character has
// a case mapping.
func jsCased(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if isASCIILetter(r) {
				return true
			}
			continue
		}
		if unicode.ToUpper(r) != r || unicode.ToLower(r) != r || specialUpper[r] || hasNewerCase(r) {
			return true
		}
	}
	return false
}
