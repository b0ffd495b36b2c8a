package jsrules

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the matcher minimatch 11 uses for one path portion (the
// @isaacs/nonrecursive-glob-match 1.1 Matcher): literals, '?', '*', [...] classes,
// numeric ranges left by brace expansion, and the extglobs @( ) ?( ) *( ) +( ) !( ),
// run as a Thompson simulation (no backtracking), with the same fast paths Node takes
// (whole literal, length bounds, literal prefix and suffix, a linear chain).

type itemKind uint8

const (
	itemLit itemKind = iota
	itemAny
	itemStar
	itemClass
	itemExt
)

type item struct {
	kind itemKind
	ch   rune       // itemLit
	cls  *charClass // itemClass
	ext  byte       // itemExt: one of "!?+*@"
	alts [][]item   // itemExt
}

// charClass is one [...] class (or a digit class of a numeric range).
type charClass struct {
	negate bool
	never  bool // a class that cannot match (minimatch's /$./): poisons the portion
	nocase bool
	ranges [][2]rune
}

func (c *charClass) matches(r rune) bool {
	if c.never {
		return false
	}
	found := c.has(r)
	if !found && c.nocase {
		for f := simpleFold(r); f != r; f = simpleFold(f) {
			if c.has(f) {
				found = true
				break
			}
		}
	}
	return found != c.negate
}

func (c *charClass) has(r rune) bool {
	for _, rg := range c.ranges {
		if rg[0] <= r && r <= rg[1] {
			return true
		}
	}
	return false
}

// posixClassNames are the [:name:] classes minimatch turns into Unicode properties;
// we refuse them rather than approximate their case-folded Unicode semantics.
var posixClassNames = []string{
	"[:alnum:]", "[:alpha:]", "[:ascii:]", "[:blank:]", "[:cntrl:]", "[:digit:]", "[:graph:]",
	"[:lower:]", "[:print:]", "[:punct:]", "[:space:]", "[:upper:]", "[:word:]", "[:xdigit:]",
}

// errUnsupported is wrapped by every refusal of a pattern Node would accept but we
// cannot match exactly.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string { return e.what + " are not supported" }

// parseClass is nonrecursive-glob-match's parseClass: the class starting at p[pos]
// == '[' and the number of bytes it consumes (0: not a class, the '[' is literal).
func parseClass(p string, pos int, nocase bool) (*charClass, int, error) {
	cls := &charClass{nocase: nocase}
	i := pos + 1
	sawStart, escaping := false, false
	endPos := pos
	var rangeStart rune = -1
	for i < len(p) {
		c, size := utf8.DecodeRuneInString(p[i:])
		if (c == '!' || c == '^') && i == pos+1 {
			cls.negate = true
			i++
			continue
		}
		if c == ']' && sawStart && !escaping {
			endPos = i + 1
			break
		}
		sawStart = true
		if c == '\\' && !escaping {
			escaping = true
			i++
			continue
		}
		if c == '[' && !escaping {
			for _, name := range posixClassNames {
				if strings.HasPrefix(p[i:], name) {
					return nil, 0, &unsupportedError{"POSIX character classes such as " + name}
				}
			}
		}
		escaping = false
		if rangeStart >= 0 {
			switch {
			case c > rangeStart:
				cls.ranges = append(cls.ranges, [2]rune{rangeStart, c})
			case c == rangeStart:
				cls.ranges = append(cls.ranges, [2]rune{c, c})
			}
			rangeStart = -1
			i += size
			continue
		}
		if strings.HasPrefix(p[i+size:], "-]") {
			cls.ranges = append(cls.ranges, [2]rune{c, c}, [2]rune{'-', '-'})
			i += size + 1
			continue
		}
		if strings.HasPrefix(p[i+size:], "-") {
			rangeStart = c
			i += size + 1
			continue
		}
		cls.ranges = append(cls.ranges, [2]rune{c, c})
		i += size
	}
	if endPos < i {
		return nil, 0, nil // not closed: the '[' is a literal
	}
	if len(cls.ranges) == 0 {
		return &charClass{never: true}, len(p) - pos, nil
	}
	return cls, endPos - pos, nil
}

// numericRangeAlts is nonrecursive-glob-match's numericRange: the strings brace
// expansion makes for {lo..hi}, as alternatives of digits and digit classes.
func numericRangeAlts(loStr, hiStr string) ([][]item, bool) {
	lo, err1 := strconv.ParseInt(loStr, 10, 64)
	hi, err2 := strconv.ParseInt(hiStr, 10, 64)
	if err1 != nil || err2 != nil || abs64(lo) > maxSafeInteger || abs64(hi) > maxSafeInteger {
		return nil, false
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	width := 0
	if isPadded(loStr) || isPadded(hiStr) {
		width = max(len(loStr), len(hiStr))
	}
	var out [][]item
	if lo < 0 {
		w := 0
		if width > 0 {
			w = width - 1
		}
		for _, s := range nonneg(max(-hi, 1), -lo, w) {
			out = append(out, append([]item{{kind: itemLit, ch: '-'}}, s...))
		}
	}
	if hi >= 0 {
		out = append(out, nonneg(max(lo, 0), hi, width)...)
	}
	return out, true
}

const maxSafeInteger = 1<<53 - 1

func digitItem(a, b byte) item {
	if a == b {
		return item{kind: itemLit, ch: rune('0' + a)}
	}
	return item{kind: itemClass, cls: &charClass{ranges: [][2]rune{{rune('0' + a), rune('0' + b)}}}}
}

func prefixDigit(d byte, alts [][]item) [][]item {
	out := make([][]item, len(alts))
	for i, s := range alts {
		out[i] = append([]item{digitItem(d, d)}, s...)
	}
	return out
}

// fixedDigits: the digit strings from a to b, which have the same length.
func fixedDigits(a, b string) [][]item {
	if a == "" {
		return [][]item{{}}
	}
	lo, hi := a[0]-'0', b[0]-'0'
	ra, rb := a[1:], b[1:]
	if lo == hi {
		return prefixDigit(lo, fixedDigits(ra, rb))
	}
	zeros := strings.Repeat("0", len(ra))
	nines := strings.Repeat("9", len(ra))
	var out [][]item
	if ra != zeros {
		out = append(out, prefixDigit(lo, fixedDigits(ra, nines))...)
		lo++
	}
	var last [][]item
	if rb != nines {
		last = prefixDigit(hi, fixedDigits(zeros, rb))
		hi--
	}
	if lo <= hi {
		s := []item{digitItem(lo, hi)}
		for range ra {
			s = append(s, digitItem(0, 9))
		}
		out = append(out, s)
	}
	return append(out, last...)
}

func nonneg(a, b int64, width int) [][]item {
	if width > 0 {
		return fixedDigits(padLeft(a, width), padLeft(b, width))
	}
	var out [][]item
	la, lb := len(strconv.FormatInt(a, 10)), len(strconv.FormatInt(b, 10))
	for l := la; l <= lb; l++ {
		lo := a
		if l > 1 {
			lo = max(a, pow10(l-1))
		}
		hi := min(b, pow10(l)-1)
		out = append(out, fixedDigits(strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10))...)
	}
	return out
}

func padLeft(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

type tokKind uint8

const (
	tkItem tokKind = iota // a finished item (lit, any, star, class, range ext)
	tkOpen
	tkBar
	tkClose
)

type ptoken struct {
	kind tokKind
	it   item
	ext  byte
}

// tokenizePortion is nonrecursive-glob-match's tokenize.
func tokenizePortion(p string, nocase, noext bool, mark string) ([]ptoken, error) {
	var toks []ptoken
	lastClose := strings.LastIndexByte(p, ']') // no class can close after it
	for i := 0; i < len(p); {
		c, size := utf8.DecodeRuneInString(p[i:])
		if mark != "" {
			m := 0
			if c == '\\' && strings.HasPrefix(p[i+1:], mark) {
				m = 1
			}
			if m == 1 || strings.HasPrefix(p[i:], mark) {
				start := i + m + len(mark)
				if end := strings.Index(p[start:], mark); end >= 0 {
					body := p[start : start+end]
					if lo, hi, ok := strings.Cut(body, ".."); ok && isIntPart(lo) && isIntPart(hi) {
						if alts, ok := numericRangeAlts(lo, hi); ok {
							toks = append(toks, ptoken{kind: tkItem, it: item{kind: itemExt, ext: '@', alts: alts}})
							i = start + end + len(mark)
							continue
						}
					}
				}
			}
		}
		if c == '\\' {
			if i+1 >= len(p) {
				toks = append(toks, ptoken{kind: tkItem, it: item{kind: itemLit, ch: '\\'}})
				i++
				continue
			}
			e, esize := utf8.DecodeRuneInString(p[i+1:])
			toks = append(toks, ptoken{kind: tkItem, it: item{kind: itemLit, ch: e}})
			i += 1 + esize
			continue
		}
		if c == '[' && i < lastClose {
			cls, consumed, err := parseClass(p, i, nocase)
			if err != nil {
				return nil, err
			}
			if consumed > 0 {
				toks = append(toks, ptoken{kind: tkItem, it: item{kind: itemClass, cls: cls}})
				i += consumed
				continue
			}
		}
		if !noext && strings.ContainsRune("!?+*@", c) && i+1 < len(p) && p[i+1] == '(' {
			toks = append(toks, ptoken{kind: tkOpen, ext: byte(c)})
			i += 2
			continue
		}
		switch {
		case !noext && c == '|':
			toks = append(toks, ptoken{kind: tkBar})
		case !noext && c == ')':
			toks = append(toks, ptoken{kind: tkClose})
		case c == '*':
			toks = append(toks, ptoken{kind: tkItem, it: item{kind: itemStar}})
		case c == '?':
			toks = append(toks, ptoken{kind: tkItem, it: item{kind: itemAny}})
		default:
			toks = append(toks, ptoken{kind: tkItem, it: item{kind: itemLit, ch: c}})
		}
		i += size
	}
	return toks, nil
}

// pairTokens maps each open token index to the index of its close token.
func pairTokens(toks []ptoken) map[int]int {
	pairs := map[int]int{}
	var stack []int
	for i, t := range toks {
		switch {
		case t.kind == tkOpen:
			stack = append(stack, i)
		case t.kind == tkClose && len(stack) > 0:
			pairs[stack[len(stack)-1]] = i
			stack = stack[:len(stack)-1]
		}
	}
	return pairs
}

// buildItems is nonrecursive-glob-match's build: the alternatives between start and
// end. Unclosed opens, and bars and closes at the top level, are literal.
func buildItems(toks []ptoken, pairs map[int]int, start, end int, top bool) [][]item {
	var seq []item
	var alts [][]item
	for i := start; i < end; i++ {
		t := toks[i]
		closeAt, paired := pairs[i]
		switch {
		case t.kind == tkOpen && paired:
			seq = append(seq, item{kind: itemExt, ext: t.ext, alts: buildItems(toks, pairs, i+1, closeAt, false)})
			i = closeAt
		case t.kind == tkBar && !top:
			alts = append(alts, seq)
			seq = nil
		case t.kind == tkOpen:
			seq = append(seq, item{kind: itemLit, ch: rune(t.ext)}, item{kind: itemLit, ch: '('})
		case t.kind == tkBar:
			seq = append(seq, item{kind: itemLit, ch: '|'})
		case t.kind == tkClose:
			seq = append(seq, item{kind: itemLit, ch: ')'})
		default:
			seq = append(seq, t.it)
		}
	}
	return append(alts, seq)
}

type nodeKind uint8

const (
	nodeMatch nodeKind = iota
	nodeLit
	nodeAny
	nodeStar
	nodeClass
	nodeSplit
	nodeNeg
)

type pnode struct {
	kind nodeKind
	id   int
	ch   rune
	fold bool
	cls  *charClass
	next *pnode
	out  []*pnode // split
	sub  *pnode   // neg
}

// matchNode ends the pattern or a negated sub-pattern; its id is 0.
var matchNode = &pnode{kind: nodeMatch}

type compiler struct {
	nocase bool
	id     int
}

func (c *compiler) seq(items []item, next *pnode) *pnode {
	for i := len(items) - 1; i >= 0; i-- {
		next = c.item(items[i], next)
	}
	return next
}

func (c *compiler) newID() int {
	c.id++
	return c.id
}

func (c *compiler) split(out []*pnode) *pnode {
	return &pnode{kind: nodeSplit, id: c.newID(), out: out}
}

func (c *compiler) item(it item, next *pnode) *pnode {
	switch it.kind {
	case itemLit:
		return &pnode{kind: nodeLit, id: c.newID(), ch: it.ch, fold: c.nocase, next: next}
	case itemAny:
		return &pnode{kind: nodeAny, id: c.newID(), next: next}
	case itemStar:
		return &pnode{kind: nodeStar, id: c.newID(), next: next}
	case itemClass:
		return &pnode{kind: nodeClass, id: c.newID(), cls: it.cls, next: next}
	}
	alts := func(next *pnode) []*pnode {
		out := make([]*pnode, len(it.alts))
		for i, a := range it.alts {
			out[i] = c.seq(a, next)
		}
		return out
	}
	switch it.ext {
	case '@':
		return c.split(alts(next))
	case '?':
		return c.split(append([]*pnode{next}, alts(next)...))
	case '!':
		sub := c.split(alts(matchNode))
		return &pnode{kind: nodeNeg, id: c.newID(), sub: sub, next: next}
	}
	// * and +: loop back after each match.
	after := c.split(nil)
	entry := c.split(alts(after))
	after.out = append(after.out, next, entry)
	if it.ext == '*' {
		return after
	}
	return entry
}

// litMatch: the same char, or (nocase) the same under simple case folding.
func litMatch(n *pnode, r rune) bool {
	return r == n.ch || (n.fold && foldEqual(n.ch, r))
}

// portionMatcher matches one path portion (no '/').
type portionMatcher struct {
	dot     bool
	nocase  bool
	literal string // the string to compare, when the pattern has no magic
	isLit   bool
	start   *pnode
	size    int
	prefix  []rune   // the literal items a match starts with
	suffix  []rune   // and ends with
	linear  []*pnode // the chain between prefix and suffix, if the graph is one chain
	isLin   bool
	wild    bool // linear is only '*' and '?'
	minLen  int
	maxLen  int // -1: unbounded
}

// maxExtglobs is minimatch's MAX_EXTGLOBS per portion.
const maxExtglobs = 256

func extglobCount(p string) int {
	n := 0
	for i := 0; i < len(p)-1; i++ {
		c := p[i]
		if c == '\\' {
			i++
		} else if strings.IndexByte("+@!?*", c) >= 0 && p[i+1] == '(' {
			n++
			i++
		}
	}
	return n
}

func newPortionMatcher(pattern string, nocase, dot bool, mark string) (*portionMatcher, error) {
	if extglobCount(pattern) > maxExtglobs {
		return nil, fmt.Errorf("pattern has too many extglobs")
	}
	// A pattern that is only an empty extglob is a literal string (except "!()").
	noext := pattern == "?()" || pattern == "*()" || pattern == "+()" || pattern == "@()"
	toks, err := tokenizePortion(pattern, nocase, noext, mark)
	if err != nil {
		return nil, err
	}
	items := buildItems(toks, pairTokens(toks), 0, len(toks), true)[0]
	c := &compiler{nocase: nocase}
	m := &portionMatcher{dot: dot, nocase: nocase}
	m.start = c.seq(items, matchNode)
	m.size = c.id + 1
	allLit := true
	for _, it := range items {
		if it.kind != itemLit {
			allLit = false
			break
		}
	}
	if allLit {
		var b strings.Builder
		for _, it := range items {
			b.WriteRune(it.ch)
		}
		m.literal, m.isLit = b.String(), true
		return m, nil
	}
	// The literal items a match must start and end with, and the chain between them
	// when the graph is a single chain (no extglob).
	np := 0
	for np < len(items) && items[np].kind == itemLit {
		np++
	}
	ns := 0
	for ns < len(items) && items[len(items)-1-ns].kind == itemLit {
		ns++
	}
	for _, it := range items[:np] {
		m.prefix = append(m.prefix, it.ch)
	}
	for _, it := range items[len(items)-ns:] {
		m.suffix = append(m.suffix, it.ch)
	}
	var chain []*pnode
	linear := true
	for n := m.start; n.kind != nodeMatch; n = n.next {
		if n.kind == nodeSplit || n.kind == nodeNeg {
			linear = false
			break
		}
		chain = append(chain, n)
	}
	if linear {
		m.linear, m.isLin = chain[np:len(chain)-ns], true
		m.wild = true
		for _, n := range m.linear {
			if n.kind != nodeStar && n.kind != nodeAny {
				m.wild = false
			}
		}
	}
	m.minLen, m.maxLen = itemsLengths(items)
	return m, nil
}

func itemsLengths(items []item) (int, int) {
	lo, hi := 0, 0
	for _, it := range items {
		a, b := itemLengths(it)
		lo += a
		if hi >= 0 {
			if b < 0 {
				hi = -1
			} else {
				hi += b
			}
		}
	}
	return lo, hi
}

func itemLengths(it item) (int, int) {
	switch it.kind {
	case itemStar:
		return 0, -1
	case itemLit, itemAny, itemClass:
		return 1, 1
	}
	if it.ext == '!' {
		return 0, -1
	}
	lo, hi := -1, 0
	for _, a := range it.alts {
		l, h := itemsLengths(a)
		if lo < 0 || l < lo {
			lo = l
		}
		if hi >= 0 && (h < 0 || h > hi) {
			hi = h
		}
	}
	if lo < 0 {
		lo = 0
	}
	loop := -1
	if hi == 0 {
		loop = 0
	}
	switch it.ext {
	case '@':
		return lo, hi
	case '?':
		return 0, hi
	case '*':
		return 0, loop
	}
	return lo, loop
}

// test matches one portion s (no '/'), following Matcher#test's paths.
func (m *portionMatcher) test(s string) bool {
	if m.isLit {
		if m.nocase {
			return foldEqualString(m.literal, s)
		}
		return s == m.literal
	}
	var buf [64]rune
	chars := appendRunes(buf[:0], s)
	n := len(chars)
	if n < m.minLen || (m.maxLen >= 0 && n > m.maxLen) {
		return false
	}
	for j, p := range m.prefix {
		if chars[j] != p && !(m.nocase && foldEqual(p, chars[j])) {
			return false
		}
	}
	end := n - len(m.suffix)
	for j, p := range m.suffix {
		if chars[end+j] != p && !(m.nocase && foldEqual(p, chars[end+j])) {
			return false
		}
	}
	dotStart := !m.dot && strings.HasPrefix(s, ".")
	if m.isLin {
		if s == "." || s == ".." {
			return false
		}
		if dotStart && len(m.prefix) == 0 {
			return false
		}
		if m.wild {
			return true
		}
		return testLinear(m.linear, chars, len(m.prefix), end)
	}
	dots := s == "." || s == ".."
	sim := newSim(m.size, dots, dotStart && !dots)
	st := sim.newState()
	sim.add(st, m.start, 0, true)
	sim.done(st)
	for i, c := range chars {
		if !dots && st.dead() {
			return false
		}
		st = sim.step(st, c, i, true)
	}
	return st.match
}

func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

// testLinear matches a chain of nodes where only '*' varies in length: on a failure
// it is enough to let the last '*' take one more char.
func testLinear(nodes []*pnode, chars []rune, start, end int) bool {
	ni, ci := 0, start
	starNi, starCi := -1, 0
	for ci < end {
		if ni < len(nodes) && nodes[ni].kind == nodeStar {
			starNi = ni
			ni++
			starCi = ci
			continue
		}
		if ni < len(nodes) {
			n := nodes[ni]
			c := chars[ci]
			if n.kind == nodeAny || (n.kind == nodeLit && litMatch(n, c)) || (n.kind == nodeClass && n.cls.matches(c)) {
				ni++
				ci++
				continue
			}
		}
		if starNi == -1 {
			return false
		}
		ni = starNi + 1
		starCi++
		ci = starCi
	}
	for ni < len(nodes) && nodes[ni].kind == nodeStar {
		ni++
	}
	return ni == len(nodes)
}

// simState is the set of threads at one position.
type simState struct {
	gen     int
	threads []*pnode
	match   bool
	runs    []simRun
	ids     []int
}

type simRun struct {
	neg *pnode
	st  *simState
}

func (s *simState) dead() bool { return len(s.threads) == 0 && !s.match && len(s.runs) == 0 }

type sim struct {
	dots     bool // the string is "." or "..": only literal dots may match them
	dotStart bool // the string starts with '.' and dot is not set
	has      []int
	seen     []int
	gen      int
}

func newSim(size int, dots, dotStart bool) *sim {
	return &sim{dots: dots, dotStart: dotStart, has: make([]int, size), seen: make([]int, size)}
}

func (s *sim) newState() *simState {
	s.gen++
	return &simState{gen: s.gen}
}

func (s *sim) done(st *simState) *simState {
	ids := make([]int, 0, len(st.threads)+1)
	if st.match {
		ids = append(ids, 0)
	}
	for _, n := range st.threads {
		ids = append(ids, n.id)
	}
	sortInts(ids)
	st.ids = ids
	return st
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func sameState(a, b *simState) bool {
	if len(a.ids) != len(b.ids) || len(a.runs) != len(b.runs) {
		return false
	}
	for i := range a.ids {
		if a.ids[i] != b.ids[i] {
			return false
		}
	}
	for _, r := range a.runs {
		found := false
		for _, o := range b.runs {
			if o.neg == r.neg && sameState(o.st, r.st) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s *sim) visit(st *simState, n *pnode) bool {
	if s.seen[n.id] == st.gen {
		return false
	}
	s.seen[n.id] = st.gen
	return true
}

func (s *sim) addThread(st *simState, n *pnode) bool {
	if s.has[n.id] == st.gen {
		return false
	}
	s.has[n.id] = st.gen
	st.threads = append(st.threads, n)
	return true
}

// restricted: wildcards may not match a leading dot (outside negated sub-patterns).
func (s *sim) restricted(i int, top bool) bool {
	return top && (s.dots || (s.dotStart && i == 0))
}

func (s *sim) add(st *simState, n *pnode, i int, top bool) {
	switch n.kind {
	case nodeSplit:
		if !s.visit(st, n) {
			return
		}
		for _, o := range n.out {
			s.add(st, o, i, top)
		}
	case nodeNeg:
		if !s.visit(st, n) {
			return
		}
		sub := s.newState()
		s.add(sub, n.sub, i, false)
		s.done(sub)
		s.addRun(st, simRun{neg: n, st: sub}, i, top)
	case nodeStar:
		if s.restricted(i, top) {
			return // a '*' cannot start a dotfile, even matching nothing
		}
		if s.addThread(st, n) {
			s.add(st, n.next, i, top)
		}
	case nodeMatch:
		st.match = true
	default:
		s.addThread(st, n)
	}
}

func (s *sim) addRun(st *simState, r simRun, i int, top bool) {
	for _, o := range st.runs {
		if o.neg == r.neg && sameState(o.st, r.st) {
			return
		}
	}
	st.runs = append(st.runs, r)
	if !r.st.match {
		s.add(st, r.neg.next, i, top)
	}
}

func (s *sim) step(st *simState, c rune, i int, top bool) *simState {
	next := s.newState()
	for _, th := range st.threads {
		switch th.kind {
		case nodeLit:
			if litMatch(th, c) {
				s.add(next, th.next, i+1, top)
			}
		case nodeAny:
			if !s.restricted(i, top) {
				s.add(next, th.next, i+1, top)
			}
		case nodeClass:
			if !s.restricted(i, top) && th.cls.matches(c) {
				s.add(next, th.next, i+1, top)
			}
		case nodeStar:
			if !s.restricted(i, top) {
				s.add(next, th, i+1, top)
			}
		}
	}
	if !s.restricted(i, top) {
		for _, r := range st.runs {
			if r.st.dead() {
				s.addRun(next, r, i+1, top)
				continue
			}
			sub := s.step(r.st, c, i, false)
			s.addRun(next, simRun{neg: r.neg, st: sub}, i+1, top)
		}
	}
	return s.done(next)
}
