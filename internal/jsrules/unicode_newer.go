package jsrules

import "unicode"

// Node 20.20's ICU implements Unicode 17; Go's unicode tables are Unicode 15.0. These
// are the upper/lower case pairs added since (checked exhaustively against Node by
// TestToLowerEveryCodePoint): ToLower, case-insensitive matching and the cased test
// use them on top of Go's tables.
var newerLower = map[rune]rune{
	0x1C89: 0x1C8A, 0xA7CB: 0x0264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3,
	0xA7D4: 0xA7D5, 0xA7DA: 0xA7DB, 0xA7DC: 0x019B,
}

var newerUpper = map[rune]rune{}

func init() {
	// Garay (U+10D50..U+10D65 -> U+10D70..) and Beria Erfe (U+16EA0..U+16EB8 -> U+16EBB..).
	for r := rune(0x10D50); r <= 0x10D65; r++ {
		newerLower[r] = r + 0x20
	}
	for r := rune(0x16EA0); r <= 0x16EB8; r++ {
		newerLower[r] = r + 0x1B
	}
	for u, l := range newerLower {
		newerUpper[l] = u
	}
}

// toLowerRune is unicode.ToLower with the newer pairs.
func toLowerRune(r rune) rune {
	if l, ok := newerLower[r]; ok {
		return l
	}
	return unicode.ToLower(r)
}

// hasNewerCase reports a character in one of the newer pairs.
func hasNewerCase(r rune) bool {
	_, a := newerLower[r]
	_, b := newerUpper[r]
	return a || b
}
