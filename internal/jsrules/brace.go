package jsrules

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is minimatch 11's braceExpand and the brace-expansion 5.1 / balanced-match
// 4.0 code it calls, ported statement by statement so that every pattern expands to
// exactly the strings Node produces. Where Node would silently truncate (more than
// braceExpandMax results, more than maxLength characters, the step budget spent,
// nesting or rewrite limits reached), we refuse the pattern instead: a truncated
// expansion matches a different set of strings.

// errBraceLimit reports a pattern whose expansion would hit one of brace-expansion's
// limits (where Node stops expanding and leaves the rest literal).
var errBraceLimit = errors.New("brace expansion too large")

const (
	braceMaxResults = 10_000    // ours; Node's is 100,000 (we refuse rather than truncate)
	braceMaxLength  = 4_000_000 // EXPANSION_MAX_LENGTH
	braceMaxDepth   = 100       // ours; Node's is 1,000
	braceMaxRewrite = 100       // ours; Node's is 1,000
	braceMaxSteps   = 20_000_000
	braceCallSteps  = 16
)

// Sentinels for escaped characters. brace-expansion uses "\0SLASH<random>\0" etc.; the
// budget charges their JavaScript length, which jsLen reproduces. NUL never occurs in a
// pattern we accept.
const (
	escSlash  = "\x00S\x00"
	escOpen   = "\x00O\x00"
	escClose  = "\x00C\x00"
	escComma  = "\x00M\x00"
	escPeriod = "\x00P\x00"
	// maskByte stands for an unmatched '{' in the masked copy (brace-expansion uses
	// '\0'); control characters never occur in a pattern we accept.
	maskByte = '\x01'
)

// jsLen is the JavaScript (UTF-16) length of s, counting each sentinel as the
// brace-expansion sentinel it stands for ("\0" + NAME + 18 digits + "\0").
func jsLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0 && i+2 < len(s) && s[i+2] == 0 {
			switch s[i+1] {
			case 'S', 'C', 'M':
				n += 25
			case 'O':
				n += 24
			case 'P':
				n += 26
			}
			i += 3
			continue
		}
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

type braceExpander struct {
	budget int
	err    error
}

func (x *braceExpander) spend(n int) {
	x.budget -= n
	if x.budget < 0 && x.err == nil {
		x.err = errBraceLimit
	}
}

func (x *braceExpander) fail() {
	if x.err == nil {
		x.err = errBraceLimit
	}
}

// balancedRange is balanced-match's range('{', '}', str).
func balancedRange(str string) (int, int, bool) {
	ai := strings.IndexByte(str, '{')
	bi := indexByteFrom(str, '}', ai+1)
	i := ai
	if !(ai >= 0 && bi > 0) {
		return 0, 0, false
	}
	var begs []int
	left, right, haveRight := len(str), 0, false
	resultL, resultR, have := 0, 0, false
	for i >= 0 && !have {
		switch {
		case i == ai:
			begs = append(begs, i)
			ai = indexByteFrom(str, '{', i+1)
		case len(begs) == 1:
			resultL, resultR, have = begs[0], bi, true
			begs = begs[:0]
		default:
			beg := begs[len(begs)-1]
			begs = begs[:len(begs)-1]
			if beg < left {
				left, right, haveRight = beg, bi, true
			}
			bi = indexByteFrom(str, '}', i+1)
		}
		if ai < bi && ai >= 0 {
			i = ai
		} else {
			i = bi
		}
	}
	if len(begs) > 0 && haveRight {
		return left, right, true
	}
	return resultL, resultR, have
}

func indexByteFrom(s string, c byte, from int) int {
	if from < 0 {
		from = 0
	}
	if from >= len(s) {
		return -1
	}
	i := strings.IndexByte(s[from:], c)
	if i < 0 {
		return -1
	}
	return from + i
}

type braceMatch struct {
	end             int
	pre, body, post string
	unmatched       bool
}

// balanced is balancedWithBudget: the first balanced group of str, found in masked.
func (x *braceExpander) balanced(str, masked string) (braceMatch, bool) {
	if x.budget < 0 {
		return braceMatch{}, false
	}
	l, r, ok := balancedRange(masked)
	unmatched := ok && strings.IndexByte(masked, '{') < l
	if ok && !unmatched {
		x.spend(jsLen(masked[:r]) + 1)
	} else {
		x.spend(jsLen(str))
	}
	if !ok || x.budget < 0 {
		return braceMatch{}, false
	}
	return braceMatch{end: r, pre: str[:l], body: str[l+1 : r], post: str[r+1:], unmatched: unmatched}, true
}

// maskUnmatchedOpens replaces every '{' without a matching '}' by maskByte.
func (x *braceExpander) maskUnmatchedOpens(masked string) string {
	x.spend(jsLen(masked))
	var open []int
	for i := 0; i < len(masked); i++ {
		switch masked[i] {
		case '{':
			open = append(open, i)
		case '}':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	if len(open) == 0 {
		return masked
	}
	b := []byte(masked)
	for _, at := range open {
		b[at] = maskByte
	}
	return string(b)
}

// commaSetFollows is /,(?!,).*\}/.test(str).
func (x *braceExpander) commaSetFollows(str string) bool {
	x.spend(jsLen(str))
	if x.budget < 0 {
		return false
	}
	closeSeen := false
	for i := len(str); i > 0; {
		r, size := utf8.DecodeLastRuneInString(str[:i])
		i -= size
		switch {
		case r == '}':
			closeSeen = true
		case r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029:
			closeSeen = false
		case r == ',' && closeSeen && (i+1 >= len(str) || str[i+1] != ','):
			return true
		}
	}
	return false
}

// parseCommaParts splits a set's body on its top-level commas.
func (x *braceExpander) parseCommaParts(str string) ([]string, bool) {
	var parts []string
	carry := ""
	for {
		m, ok := x.balanced(str, str)
		if x.budget < 0 {
			return nil, false
		}
		if !ok {
			tail := strings.Split(str, ",")
			tail[0] = carry + tail[0]
			return append(parts, tail...), true
		}
		p := strings.Split(m.pre, ",")
		p[0] = carry + p[0]
		p[len(p)-1] += "{" + m.body + "}"
		if m.post == "" {
			return append(parts, p...), true
		}
		carry = p[len(p)-1]
		parts = append(parts, p[:len(p)-1]...)
		str = m.post
	}
}

// combine builds acc[a]+pre+values[v] for every combination; reaching a limit is an
// error (Node would truncate).
func (x *braceExpander) combine(acc []string, pre string, values []string, dropEmpties bool) []string {
	var out []string
	length := 0
	var nonEmpty []string
	nonEmptyDone := false
	for _, a := range acc {
		prefix := a + pre
		vs := values
		if dropEmpties && prefix == "" {
			if !nonEmptyDone {
				for _, v := range values {
					if v != "" {
						nonEmpty = append(nonEmpty, v)
					}
				}
				nonEmptyDone = true
			}
			vs = nonEmpty
		}
		for _, v := range vs {
			if len(out) >= braceMaxResults {
				x.fail()
				return out
			}
			e := prefix + v
			el := jsLen(e)
			if length+el > braceMaxLength {
				x.fail()
				return out
			}
			out = append(out, e)
			length += el
		}
	}
	x.spend(len(out))
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isIntPart matches -?\d+.
func isIntPart(s string) bool {
	return isDigits(strings.TrimPrefix(s, "-"))
}

func isAlpha(s string) bool {
	return len(s) == 1 && ('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z')
}

// sequenceKind reports whether body is a numeric (^-?\d+\.\.-?\d+(\.\.-?\d+)?$) or an
// alphabetic (^[a-zA-Z]\.\.[a-zA-Z](\.\.-?\d+)?$) sequence.
func sequenceKind(body string) (numeric, alpha bool) {
	n := strings.Split(body, "..")
	if len(n) != 2 && len(n) != 3 {
		return false, false
	}
	if len(n) == 3 && !isIntPart(n[2]) {
		return false, false
	}
	return isIntPart(n[0]) && isIntPart(n[1]), isAlpha(n[0]) && isAlpha(n[1])
}

// isPadded is /^-?0\d/.
func isPadded(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return len(s) >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9'
}

// seqNumber is brace-expansion's numeric(): parseInt for digits, else the char code.
// Numbers beyond 15 digits (where JavaScript numbers lose integer precision or print
// in exponent form) are refused.
func (x *braceExpander) seqNumber(s string) int64 {
	if isIntPart(s) {
		if len(strings.TrimPrefix(s, "-")) > 15 {
			x.fail()
			return 0
		}
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	return int64(s[0])
}

// expandSequence is brace-expansion's expandSequence.
func (x *braceExpander) expandSequence(body string, alpha bool) []string {
	n := strings.Split(body, "..")
	a := x.seqNumber(n[0])
	b := x.seqNumber(n[1])
	width := max(len(n[0]), len(n[1]))
	incr := int64(1)
	if len(n) == 3 {
		incr = max(abs64(x.seqNumber(n[2])), 1)
	}
	if x.err != nil {
		return nil
	}
	reverse := b < a
	if reverse {
		incr = -incr
	}
	pad := false
	for _, p := range n {
		if isPadded(p) {
			pad = true
		}
	}
	cost := 1
	if pad {
		cost = width
	}
	var out []string
	length := 0
	for i := a; (!reverse && i <= b) || (reverse && i >= b); i += incr {
		if len(out) >= braceMaxResults {
			x.fail()
			return nil
		}
		x.spend(cost)
		if x.budget < 0 {
			return nil
		}
		var c string
		if alpha {
			c = string(rune(i))
			if c == `\` {
				c = ""
			}
		} else {
			c = strconv.FormatInt(i, 10)
			if pad {
				if need := width - len(c); need > 0 {
					z := strings.Repeat("0", need)
					if i < 0 {
						c = "-" + z + c[1:]
					} else {
						c = z + c
					}
				}
			}
		}
		if length+len(c) > braceMaxLength {
			x.fail()
			return nil
		}
		out = append(out, c)
		length += len(c)
	}
	return out
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func embrace(s string) string { return "{" + s + "}" }

// expandInner is brace-expansion's expand_.
func (x *braceExpander) expandInner(str string, depth int, isTop bool) []string {
	x.spend(braceCallSteps)
	if depth > braceMaxDepth {
		x.fail()
		return nil
	}
	acc := []string{""}
	rewrites := 0
	dropEmpties := false
	firstGroup := true
	masked := str
	for x.err == nil {
		m, ok := x.balanced(str, masked)
		if !ok {
			return x.combine(acc, str, []string{""}, dropEmpties)
		}
		if m.unmatched {
			masked = x.maskUnmatchedOpens(masked)
		}
		pre := m.pre
		if strings.HasSuffix(pre, "$") {
			acc = x.combine(acc, pre+"{"+m.body+"}", []string{""}, dropEmpties && m.post == "")
			firstGroup = false
			if m.post == "" {
				break
			}
			str = m.post
			masked = masked[m.end+1:]
			continue
		}
		isNumeric, isAlphaSeq := sequenceKind(m.body)
		isSequence := isNumeric || isAlphaSeq
		isOptions := strings.IndexByte(m.body, ',') >= 0
		if !isSequence && !isOptions {
			// {a},b}
			if rewrites < braceMaxRewrite && x.commaSetFollows(m.post) {
				rewrites++
				str = m.pre + "{" + m.body + escClose + m.post
				masked = masked[:m.end] + escClose + masked[m.end+1:]
				isTop = true
				continue
			}
			if rewrites >= braceMaxRewrite {
				x.fail()
				return nil
			}
			return x.combine(acc, pre+"{"+m.body+"}"+m.post, []string{""}, dropEmpties)
		}
		if firstGroup {
			dropEmpties = isTop && !isSequence
			firstGroup = false
		}
		var values []string
		if isSequence {
			values = x.expandSequence(m.body, isAlphaSeq)
			if x.err != nil {
				return nil
			}
		} else {
			n, ok := x.parseCommaParts(m.body)
			if !ok {
				x.fail()
				return nil
			}
			if len(n) == 1 {
				// x{{a,b}}y ==> x{a}y x{b}y
				inner := x.expandInner(n[0], depth+1, false)
				if x.err != nil {
					return nil
				}
				n = make([]string, len(inner))
				for i, s := range inner {
					n[i] = embrace(s)
				}
				if len(n) == 1 {
					acc = x.combine(acc, pre+n[0], []string{""}, dropEmpties && m.post == "")
					if x.err != nil {
						return nil
					}
					if m.post == "" {
						break
					}
					str = m.post
					masked = masked[m.end+1:]
					continue
				}
			}
			dropsEmpties := dropEmpties && m.post == "" && pre == ""
			for _, a := range acc {
				if a != "" {
					dropsEmpties = false
				}
			}
			valuesLength := 0
			for _, part := range n {
				expanded := x.expandInner(part, depth+1, false)
				if x.err != nil {
					return nil
				}
				for _, v := range expanded {
					if dropsEmpties && v == "" {
						continue
					}
					vl := jsLen(v)
					if len(values) >= braceMaxResults || valuesLength+vl > braceMaxLength {
						x.fail()
						return nil
					}
					values = append(values, v)
					valuesLength += vl
				}
			}
		}
		acc = x.combine(acc, pre, values, dropEmpties && m.post == "")
		if x.err != nil {
			return nil
		}
		if m.post == "" {
			break
		}
		str = m.post
		masked = masked[m.end+1:]
	}
	if x.err != nil {
		return nil
	}
	return acc
}

var (
	braceEscaper   = strings.NewReplacer(`\{`, escOpen, `\}`, escClose, `\,`, escComma, `\.`, escPeriod)
	braceUnescaper = strings.NewReplacer(escSlash, `\`, escOpen, "{", escClose, "}", escComma, ",", escPeriod, ".")
)

// braceExpandString is brace-expansion's expand(str).
func braceExpandString(str string) ([]string, error) {
	if str == "" {
		return nil, nil
	}
	if strings.HasPrefix(str, "{}") {
		str = `\{\}` + str[2:]
	}
	// escapeBraces: the `\\` pairs first, then the other escapes, as sequential
	// global replacements do.
	str = braceEscaper.Replace(strings.ReplaceAll(str, `\\`, escSlash))
	x := &braceExpander{budget: braceMaxSteps}
	out := x.expandInner(str, 0, true)
	if x.err != nil {
		return nil, x.err
	}
	for i, s := range out {
		out[i] = braceUnescaper.Replace(s)
	}
	return out, nil
}

// hasBraceGroup is /\{(?:(?!\{).)*\}/.test(p): a '{' later closed by a '}' with no '{'
// or line terminator between them.
func hasBraceGroup(p string) bool {
	open := false
	for _, r := range p {
		switch r {
		case '{':
			open = true
		case '\n', '\r', 0x2028, 0x2029:
			open = false
		case '}':
			if open {
				return true
			}
		}
	}
	return false
}

// minimatchBraceExpand is minimatch's braceExpand(pattern, options).
func minimatchBraceExpand(pattern string, windowsPathsNoEscape bool) ([]string, error) {
	if !hasBraceGroup(pattern) {
		return []string{pattern}, nil
	}
	// Double every `\\` pair so an escaped backslash survives brace-expansion.
	p := strings.ReplaceAll(pattern, `\\`, `\\\\`)
	if windowsPathsNoEscape {
		p = strings.NewReplacer("[{]", `[\{]`, "[}]", `[\}]`).Replace(p)
	}
	return braceExpandString(p)
}
