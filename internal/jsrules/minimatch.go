package jsrules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is minimatch 11 (the version @backstage/plugin-auth-backend 0.31,
// backend-defaults 0.19 and plugin-catalog-backend 4 resolve to), ported for the
// options Backstage uses: nocase, noglobstar, dot and windowsPathsNoEscape, on a
// POSIX platform, optimizationLevel 1, no partial matching. Patterns are compiled once;
// Match does no allocation for the common shapes.

// MinimatchOptions are the minimatch options we support.
type MinimatchOptions struct {
	NoCase               bool
	NoGlobstar           bool
	Dot                  bool
	WindowsPathsNoEscape bool
	NoComment            bool // a leading '#' is not a comment (glob sets it)
	NoNegate             bool // a leading '!' is not a negation (glob sets it)
}

type portionKind uint8

const (
	portionLiteral portionKind = iota
	portionGlobstar
	portionWild
)

type mmPortion struct {
	kind portionKind
	lit  string
	m    *portionMatcher
}

func (p *mmPortion) match(f string) bool {
	switch p.kind {
	case portionLiteral:
		return f == p.lit
	case portionWild:
		return f != "" && p.m.test(f)
	}
	return false
}

type rowShape uint8

const (
	shapeNone rowShape = iota
	shapeTail          // **/x
	shapeMid           // **/x/**
	shapeHead          // x/**
)

type globstarParts struct {
	head, body, tail []mmPortion
	segments         []bodySegment
	hasGlobstar      bool
}

type bodySegment struct {
	parts []mmPortion
	need  int
}

type mmRow struct {
	parts []mmPortion
	shape rowShape
	gs    globstarParts
}

// Minimatch is a compiled minimatch pattern. It is safe for concurrent use.
type Minimatch struct {
	pattern string
	opts    MinimatchOptions
	negate  bool
	comment bool
	empty   bool
	rows    []mmRow
}

// maxGlobstarRecursion is minimatch's default maxGlobstarRecursion.
const maxGlobstarRecursion = 200

// maxPatternLength is minimatch's MAX_PATTERN_LENGTH (in UTF-16 units).
const maxPatternLength = 64 * 1024

// maxRows bounds the rows a pattern may expand to, and maxExpandedBytes their total
// size (ours: compiling and matching cost grow with them).
const (
	maxRows          = 4096
	maxExpandedBytes = 1 << 18
)

// MinimatchError is a pattern minimatch rejects or that we refuse because we cannot
// match it exactly as minimatch does.
type MinimatchError struct {
	Pattern string
	Reason  string
	// Unsupported is set when Node would accept the pattern.
	Unsupported bool
}

func (e *MinimatchError) Error() string {
	if e.Unsupported {
		return fmt.Sprintf("pattern %s: %s (refused rather than matched differently from Node's minimatch)", QuoteString(e.Pattern), e.Reason)
	}
	return fmt.Sprintf("pattern %s: %s", QuoteString(e.Pattern), e.Reason)
}

// CompileMinimatch compiles pattern as `new Minimatch(pattern, opts)` would.
func CompileMinimatch(pattern string, opts MinimatchOptions) (*Minimatch, error) {
	fail := func(reason string, unsupported bool) (*Minimatch, error) {
		return nil, &MinimatchError{Pattern: pattern, Reason: reason, Unsupported: unsupported}
	}
	if !utf8.ValidString(pattern) {
		return fail("not valid UTF-8", true)
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return fail("NUL characters are not supported", true)
	}
	if jsLen(pattern) > maxPatternLength {
		return fail("pattern is too long", false)
	}
	mm := &Minimatch{pattern: pattern, opts: opts}
	p := pattern
	if opts.WindowsPathsNoEscape {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	if !opts.NoComment && strings.HasPrefix(p, "#") {
		mm.comment = true
		return mm, nil
	}
	if p == "" {
		mm.empty = true
		return mm, nil
	}
	// parseNegate: every leading '!' flips the pattern.
	n := 0
	for !opts.NoNegate && n < len(p) && p[n] == '!' {
		n++
	}
	mm.negate = n%2 == 1
	p = p[n:]

	set, mark, err := expandBracesMarked(p, opts.WindowsPathsNoEscape)
	if err != nil {
		return fail(err.Error(), true) // Node would truncate the expansion
	}
	seen := make(map[string]bool, len(set))
	var globParts [][]string
	total := 0
	for _, s := range set {
		if total += len(s); total > maxExpandedBytes {
			return fail("brace expansion too large", true)
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		globParts = append(globParts, slashSplit(s))
	}
	if len(globParts) > maxRows {
		return fail(fmt.Sprintf("brace expansion makes more than %d patterns", maxRows), true)
	}
	for _, parts := range globParts {
		if opts.NoGlobstar {
			for j, s := range parts {
				if s == "**" {
					parts[j] = "*"
				}
			}
		}
	}
	rows := levelOneOptimize(globParts)
	for _, parts := range rows {
		for _, s := range parts {
			if jsLen(s) > maxPatternLength {
				return fail("pattern is too long", false)
			}
		}
	}
	rows = mergeRows(rows, func(s string) bool { return mm.isWild(s, mark) })
	matchers := map[string]*portionMatcher{}
	for _, parts := range rows {
		row := make([]mmPortion, len(parts))
		for j, s := range parts {
			pp, err := mm.parsePortion(s, mark, matchers)
			if err != nil {
				var ue *unsupportedError
				return fail(err.Error(), errors.As(err, &ue))
			}
			row[j] = pp
		}
		mm.rows = append(mm.rows, newRow(row))
	}
	return mm, nil
}

// MustCompileMinimatch is CompileMinimatch for patterns known to be valid.
func MustCompileMinimatch(pattern string, opts MinimatchOptions) *Minimatch {
	m, err := CompileMinimatch(pattern, opts)
	if err != nil {
		panic(err)
	}
	return m
}

// Pattern is the pattern as given.
func (m *Minimatch) Pattern() string { return m.pattern }

// isWild reports whether parse() makes a portion matcher (not a string or **) of s.
func (m *Minimatch) isWild(s, mark string) bool {
	if s == "**" || s == "" {
		return false
	}
	if mark != "" && strings.Contains(s, mark) {
		return true
	}
	_, ok := literalPortion(s)
	return !ok || (m.opts.NoCase && jsCased(s))
}

// mergeRows is Minimatch#mergeRows: rows that differ only in one portion, a portion
// matcher in each, become one row with @(a|b|...) there. Node does this to walk a
// path once for all of them; it is not always the same as separate rows (an
// unclosed '[' in one alternative can close in the next), so we do it too.
func mergeRows(rows [][]string, isWild func(string) bool) [][]string {
	for merged := true; merged; {
		merged = false
		if len(rows) < 2 {
			return rows
		}
		maxLen := 0
		for _, r := range rows {
			maxLen = max(maxLen, len(r))
		}
		for k := 0; k < maxLen; k++ {
			// Groups of rows equal except at k, in order of their first row.
			var order []string
			groups := map[string][]int{}
			for i, r := range rows {
				if k >= len(r) || !isWild(r[k]) || !extSafe(r[k]) {
					continue
				}
				key := strconv.Itoa(len(r)) + "\x00" + strings.Join(r[:k], "\x00") + "\x01" + strings.Join(r[k+1:], "\x00")
				if _, ok := groups[key]; !ok {
					order = append(order, key)
				}
				groups[key] = append(groups[key], i)
			}
			drop := map[int]bool{}
			for _, key := range order {
				g := groups[key]
				if len(g) < 2 {
					continue
				}
				alts := make([]string, len(g))
				for j, i := range g {
					alts[j] = rows[i][k]
				}
				glob := "@(" + strings.Join(alts, "|") + ")"
				if extglobCount(glob) > maxExtglobs {
					continue
				}
				first := append([]string(nil), rows[g[0]]...)
				first[k] = glob
				rows[g[0]] = first
				for _, i := range g[1:] {
					drop[i] = true
				}
			}
			if len(drop) > 0 {
				merged = true
				kept := rows[:0:0]
				for i, r := range rows {
					if !drop[i] {
						kept = append(kept, r)
					}
				}
				rows = kept
				if len(rows) < 2 {
					return rows
				}
			}
		}
	}
	return rows
}

// extSafe is minimatch's extSafe: whether a portion means the same as one
// alternative inside @(...).
func extSafe(p string) bool {
	if p == "?()" || p == "*()" || p == "+()" || p == "@()" || strings.Contains(p, "[:") {
		return false
	}
	depth := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			i++
			if i == len(p) {
				return false
			}
		case c == '[':
			if end := classEnd(p, i); end != -1 {
				i = end
			}
		case strings.IndexByte("+@!?*", c) >= 0 && i+1 < len(p) && p[i+1] == '(':
			depth++
			i++
		case c == ')':
			if depth == 0 {
				return false
			}
			depth--
		case c == '|' && depth == 0:
			return false
		}
	}
	return depth == 0
}

func (m *Minimatch) parsePortion(s, mark string, cache map[string]*portionMatcher) (mmPortion, error) {
	if s == "**" {
		return mmPortion{kind: portionGlobstar}, nil
	}
	if s == "" {
		return mmPortion{kind: portionLiteral}, nil
	}
	if jsLen(s) > maxPatternLength {
		return mmPortion{}, errors.New("pattern is too long")
	}
	if mark == "" || !strings.Contains(s, mark) {
		// With nocase, a literal with cased characters still goes through the
		// portion matcher (which, unlike a string compare, keeps wildcards such as
		// "[.]" from matching a leading dot).
		if lit, ok := literalPortion(s); ok && !(m.opts.NoCase && jsCased(s)) {
			return mmPortion{kind: portionLiteral, lit: lit}, nil
		}
	}
	pm := cache[s]
	if pm == nil {
		var err error
		if pm, err = newPortionMatcher(s, m.opts.NoCase, m.opts.Dot, mark); err != nil {
			return mmPortion{}, err
		}
		cache[s] = pm
	}
	return mmPortion{kind: portionWild, m: pm}, nil
}

// HasMagic reports whether any portion needs more than a string comparison.
func (m *Minimatch) HasMagic() bool {
	for _, r := range m.rows {
		for _, p := range r.parts {
			if p.kind != portionLiteral {
				return true
			}
		}
	}
	return false
}

// LiteralPrefixes returns, for each row, the leading portions that are plain
// strings, joined by "/" (the directory a file walk for the row starts from).
func (m *Minimatch) LiteralPrefixes() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range m.rows {
		var parts []string
		for _, p := range r.parts[:len(r.parts)-1] {
			if p.kind != portionLiteral {
				break
			}
			parts = append(parts, p.lit)
		}
		prefix := strings.Join(parts, "/")
		if len(parts) == 1 && parts[0] == "" {
			prefix = "/"
		}
		if !seen[prefix] {
			seen[prefix] = true
			out = append(out, prefix)
		}
	}
	return out
}

// LiteralPaths returns the strings the pattern matches when it has no magic (brace
// alternatives of plain strings), or nil.
func (m *Minimatch) LiteralPaths() []string {
	if m.comment || m.negate || m.HasMagic() {
		return nil
	}
	if m.empty {
		return []string{""}
	}
	out := make([]string, 0, len(m.rows))
	for _, r := range m.rows {
		parts := make([]string, len(r.parts))
		for i, p := range r.parts {
			parts[i] = p.lit
		}
		out = append(out, strings.Join(parts, "/"))
	}
	return out
}

func newRow(parts []mmPortion) mmRow {
	row := mmRow{parts: parts}
	n := len(parts)
	isGS := func(i int) bool { return parts[i].kind == portionGlobstar }
	isEmpty := func(i int) bool { return parts[i].kind == portionLiteral && parts[i].lit == "" }
	switch {
	case n == 2 && isGS(0) && !isGS(1):
		row.shape = shapeTail
	case n == 3 && isGS(0) && isGS(2) && !isGS(1) && !isEmpty(1):
		row.shape = shapeMid
	case n == 2 && isGS(1) && !isGS(0) && !isEmpty(0):
		row.shape = shapeHead
	}
	first, last := -1, -1
	for i := range parts {
		if isGS(i) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return row
	}
	gs := globstarParts{hasGlobstar: true, head: parts[:first], tail: parts[last+1:]}
	if last > first {
		gs.body = parts[first+1 : last]
	}
	gs.segments = []bodySegment{{}}
	nonGs := 0
	sums := []int{0}
	for _, b := range gs.body {
		if b.kind == portionGlobstar {
			sums = append(sums, nonGs)
			gs.segments = append(gs.segments, bodySegment{})
			continue
		}
		cur := &gs.segments[len(gs.segments)-1]
		cur.parts = append(cur.parts, b)
		nonGs++
	}
	for i := range gs.segments {
		gs.segments[i].need = nonGs - sums[i]
	}
	row.gs = gs
	return row
}

// slashSplit is p.split(/\/+/).
func slashSplit(p string) []string { return splitInto(nil, p) }

// levelOneOptimize removes adjacent ** portions and resolves "x/.." pairs.
func levelOneOptimize(globParts [][]string) [][]string {
	out := make([][]string, len(globParts))
	for i, parts := range globParts {
		var set []string
		for _, part := range parts {
			var prev string
			if len(set) > 0 {
				prev = set[len(set)-1]
			}
			if part == "**" && prev == "**" && len(set) > 0 {
				continue
			}
			if part == ".." && len(set) > 0 && prev != "" && prev != ".." && prev != "." && prev != "**" {
				set = set[:len(set)-1]
				continue
			}
			set = append(set, part)
		}
		if len(set) == 0 {
			set = []string{""}
		}
		out[i] = set
	}
	return out
}

// classEnd is minimatch's classEnd: the index of the ']' closing the class at start.
func classEnd(p string, start int) int {
	i := start + 1
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		i++
	}
	sawStart := false
	for ; i < len(p); i++ {
		c := p[i]
		if c == ']' && sawStart {
			return i
		}
		sawStart = true
		if c == '\\' {
			i++
		}
	}
	return -1
}

// literalPortion is minimatch's literal(): the string a magic-free portion matches.
func literalPortion(p string) (string, bool) {
	if p == "+()" || p == "@()" {
		return p, true
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		c, size := utf8.DecodeRuneInString(p[i:])
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				b.WriteByte('\\')
				i++
				continue
			}
			e, esize := utf8.DecodeRuneInString(p[i+1:])
			b.WriteRune(e)
			i += 1 + esize
			continue
		case c == '*' || c == '?':
			return "", false
		case c == '[':
			end := classEnd(p, i)
			if end == -1 {
				b.WriteByte('[')
				i++
				continue
			}
			body := p[i+1 : end]
			body = strings.TrimPrefix(body, `\`)
			if utf8.RuneCountInString(body) != 1 || p[i+1] == '!' || p[i+1] == '^' {
				return "", false
			}
			b.WriteString(body)
			i = end + 1
			continue
		case (c == '+' || c == '@' || c == '!') && i+1 < len(p) && p[i+1] == '(' && strings.Contains(p[i+2:], ")"):
			return "", false
		}
		b.WriteRune(c)
		i += size
	}
	return b.String(), true
}

// rangeMin is minimatch's RANGE_MIN: ranges with at least this many values are
// matched as one portion instead of expanded.
const rangeMin = 100

// markRanges is pattern.replace(rangeRe, ...): {lo..hi} ranges of rangeMin or more
// values (not after '\' or '$') become mark lo..hi mark.
func markRanges(p, mark string) (string, bool) {
	var b strings.Builder
	found := false
	last := 0
	for i := 0; i < len(p); i++ {
		if p[i] != '{' || (i > 0 && (p[i-1] == '\\' || p[i-1] == '$')) {
			continue
		}
		lo, j := scanInt(p, i+1)
		if lo == "" || !strings.HasPrefix(p[j:], "..") {
			continue
		}
		hi, k := scanInt(p, j+2)
		if hi == "" || k >= len(p) || p[k] != '}' {
			continue
		}
		a, _ := strconv.ParseFloat(lo, 64)
		z, _ := strconv.ParseFloat(hi, 64)
		if !safeInteger(a) || !safeInteger(z) || absF(a-z)+1 < rangeMin {
			i = k
			continue
		}
		found = true
		b.WriteString(p[last:i])
		b.WriteString(mark + lo + ".." + hi + mark)
		last = k + 1
		i = k
	}
	if !found {
		return p, false
	}
	b.WriteString(p[last:])
	return b.String(), true
}

// scanInt reads -?\d+ at p[i:].
func scanInt(p string, i int) (string, int) {
	j := i
	if j < len(p) && p[j] == '-' {
		j++
	}
	k := j
	for k < len(p) && p[k] >= '0' && p[k] <= '9' {
		k++
	}
	if k == j {
		return "", i
	}
	return p[i:k], k
}

func safeInteger(f float64) bool { return f <= maxSafeInteger && f >= -maxSafeInteger }

func absF(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// inRepeatOrNegExt reports whether a range mark in portion is inside !( ), *( ) or
// +( ), where one range matcher would not mean the same as the expanded values.
func inRepeatOrNegExt(portion, mark string) bool {
	markRune, _ := utf8.DecodeRuneInString(mark)
	var stack []rune
	rs := []rune(portion)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\':
			i++
		case c == markRune:
			for _, t := range stack {
				if t != '@' && t != '?' {
					return true
				}
			}
		case i+1 < len(rs) && rs[i+1] == '(' && strings.ContainsRune("!?+*@", c):
			stack = append(stack, c)
			i++
		case c == ')':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return false
}

// expandBracesMarked is Minimatch#expandBraces: brace expansion, with large numeric
// ranges kept as marked ranges for the portion matcher when that means the same.
func expandBracesMarked(p string, wpne bool) ([]string, string, error) {
	code := rune(0xE000)
	for strings.ContainsRune(p, code) {
		code++
		if code > 0xF8FF {
			set, err := minimatchBraceExpand(p, wpne)
			return set, "", err
		}
	}
	mark := string(code)
	marked, found := markRanges(p, mark)
	if !found {
		set, err := minimatchBraceExpand(p, wpne)
		return set, "", err
	}
	set, err := minimatchBraceExpand(marked, wpne)
	if err != nil {
		return nil, "", err
	}
	for _, s := range set {
		for _, portion := range strings.Split(s, "/") {
			c := strings.IndexByte(portion, '[')
			if (c != -1 && c < strings.LastIndex(portion, mark)) || inRepeatOrNegExt(portion, mark) {
				set, err := minimatchBraceExpand(p, wpne)
				return set, "", err
			}
		}
	}
	return set, mark, nil
}

// maxSplit is the portion count Match splits without allocating.
const maxSplit = 16

// Match reports whether f matches, as Minimatch#match(f) does.
func (m *Minimatch) Match(f string) bool {
	if m.comment {
		return false
	}
	if m.empty {
		return f == ""
	}
	var buf [maxSplit]string
	file := splitInto(buf[:0], f)
	for i := range m.rows {
		r := &m.rows[i]
		var hit bool
		switch r.shape {
		case shapeNone:
			if r.gs.hasGlobstar {
				hit = m.matchGlobstar(file, r)
			} else {
				hit = matchOne(file, r.parts, 0, 0, len(file))
			}
		default:
			hit = m.matchShape(file, r)
		}
		if hit {
			return !m.negate
		}
	}
	return m.negate
}

// splitInto appends the portions of p.split(/\/+/) to dst.
func splitInto(dst []string, p string) []string {
	start := 0
	for i := 0; i < len(p); {
		if p[i] != '/' {
			i++
			continue
		}
		dst = append(dst, p[start:i])
		for i < len(p) && p[i] == '/' {
			i++
		}
		start = i
	}
	return append(dst, p[start:])
}

// matchOne matches file[fileIndex:fileEnd] against pattern[patternIndex:].
func matchOne(file []string, pattern []mmPortion, fileIndex, patternIndex, fileEnd int) bool {
	fi, pi := fileIndex, patternIndex
	fl, pl := min(fileEnd, len(file)), len(pattern)
	for ; fi < fl && pi < pl; fi, pi = fi+1, pi+1 {
		p := &pattern[pi]
		if p.kind == portionGlobstar || !p.match(file[fi]) {
			return false
		}
	}
	switch {
	case fi == fl && pi == pl:
		return true
	case fi == fl:
		return false
	default:
		// a/* matches a/b/: only the empty portion after a trailing slash may be left.
		return fi == fl-1 && file[fi] == ""
	}
}

// badDot reports a portion ** may not walk.
func (m *Minimatch) badDot(f string) bool {
	return f == "." || f == ".." || (!m.opts.Dot && strings.HasPrefix(f, "."))
}

func (m *Minimatch) matchGlobstar(file []string, r *mmRow) bool {
	gs := &r.gs
	fileIndex := 0
	if len(gs.head) > 0 {
		if !matchOne(file, gs.head, fileIndex, 0, fileIndex+len(gs.head)) {
			return false
		}
		fileIndex += len(gs.head)
	}
	fileTailMatch := 0
	if len(gs.tail) > 0 {
		if len(gs.tail)+fileIndex > len(file) {
			return false
		}
		tailStart := len(file) - len(gs.tail)
		if matchOne(file, gs.tail, tailStart, 0, len(file)) {
			fileTailMatch = len(gs.tail)
		} else {
			if file[len(file)-1] != "" || fileIndex+len(gs.tail) == len(file) {
				return false
			}
			tailStart--
			if !matchOne(file, gs.tail, tailStart, 0, len(file)) {
				return false
			}
			fileTailMatch = len(gs.tail) + 1
		}
	}
	if len(gs.body) == 0 {
		sawSome := fileTailMatch != 0
		for i := fileIndex; i < len(file)-fileTailMatch; i++ {
			sawSome = true
			if m.badDot(file[i]) {
				return false
			}
		}
		return sawSome
	}
	tried := make([]bool, (len(gs.segments)+1)*(len(file)+1))
	return m.matchBody(file, gs.segments, len(file)-fileTailMatch, fileIndex, 0, 0, fileTailMatch != 0, tried) == triTrue
}

type tri uint8

const (
	triFalse tri = iota // no match here, keep trying
	triNull             // no match, stop trying
	triTrue
)

// matchBody is #matchGlobStarBodySections.
func (m *Minimatch) matchBody(file []string, segs []bodySegment, fileLength, fileIndex, bodyIndex, depth int, sawTail bool, tried []bool) tri {
	if bodyIndex >= len(segs) {
		for i := fileIndex; i < fileLength; i++ {
			sawTail = true
			if m.badDot(file[i]) {
				return triFalse
			}
		}
		if sawTail {
			return triTrue
		}
		return triFalse
	}
	body, need := segs[bodyIndex].parts, segs[bodyIndex].need
	after := fileLength - need
	for fileIndex <= after {
		key := bodyIndex*(len(file)+1) + fileIndex
		if tried[key] {
			return triFalse
		}
		tried[key] = true
		if matchOne(file, body, fileIndex, 0, fileIndex+len(body)) && depth < maxGlobstarRecursion {
			if sub := m.matchBody(file, segs, fileLength, fileIndex+len(body), bodyIndex+1, depth+1, sawTail, tried); sub != triFalse {
				return sub
			}
		}
		if fileIndex == after {
			break
		}
		if m.badDot(file[fileIndex]) {
			return triFalse
		}
		fileIndex++
	}
	return triNull
}

func (m *Minimatch) walkable(f string) bool {
	return f != "." && f != ".." && (m.opts.Dot || !strings.HasPrefix(f, "."))
}

// matchShape is #matchShape for rows of the form x/**, **/x and **/x/**.
func (m *Minimatch) matchShape(file []string, r *mmRow) bool {
	n := len(file)
	switch r.shape {
	case shapeHead:
		if n < 2 || !r.parts[0].match(file[0]) {
			return false
		}
		for i := 1; i < n; i++ {
			if !m.walkable(file[i]) {
				return false
			}
		}
		return true
	case shapeTail:
		x := &r.parts[1]
		t := n - 1
		if !x.match(file[t]) {
			if file[t] != "" || n == 1 {
				return false
			}
			t--
			if !x.match(file[t]) {
				return false
			}
		}
		for i := 0; i < t; i++ {
			if !m.walkable(file[i]) {
				return false
			}
		}
		return true
	}
	x := &r.parts[1]
	for k := 0; k < n; k++ {
		if x.match(file[k]) && k+1 < n {
			i := k + 1
			for i < n && m.walkable(file[i]) {
				i++
			}
			if i == n {
				return true
			}
		}
		if !m.walkable(file[k]) {
			return false
		}
	}
	return false
}

// EscapeMinimatch is minimatch's escape(s, {magicalBraces: true}): a pattern that
// matches exactly s (as long as s has no '/' runs to collapse).
func EscapeMinimatch(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '?', '*', '(', ')', '[', ']', '\\', '{', '}':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '#', '!':
			if i == 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
