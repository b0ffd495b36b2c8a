package jsrules

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// DefaultNamespace is @backstage/catalog-model's DEFAULT_NAMESPACE.
const DefaultNamespace = "default"

// EntityRef is a parsed entity reference; String gives the canonical form.
type EntityRef struct {
	Kind      string
	Namespace string
	Name      string
}

// ParseEntityRef parses "[<kind>:][<namespace>/]<name>" exactly as catalog-model's
// parseEntityRef does: a "/" before the first ":" makes the colon part of the name,
// empty parts are a TypeError, and a missing kind with no defaultKind is an Error. An
// empty defaultNamespace means "default". Case is preserved; String lower-cases.
func ParseEntityRef(ref string, defaultKind, defaultNamespace string) (EntityRef, error) {
	if ref == "" {
		return EntityRef{}, backstageerr.Plain("Entity reference must not be empty")
	}
	if defaultNamespace == "" {
		defaultNamespace = DefaultNamespace
	}
	colon := strings.IndexByte(ref, ':')
	slash := strings.IndexByte(ref, '/')
	if slash != -1 && slash < colon {
		colon = -1
	}
	var kind, namespace string
	hasKind, hasNamespace := colon != -1, slash != -1
	if hasKind {
		kind = ref[:colon]
	}
	if hasNamespace {
		namespace = ref[colon+1 : slash]
	}
	name := ref[max(colon+1, slash+1):]
	if (hasKind && kind == "") || (hasNamespace && namespace == "") || name == "" {
		// A template literal in Node: the ref is not escaped.
		return EntityRef{}, backstageerr.New("TypeError",
			"Entity reference \"%s\" was not on the form [<kind>:][<namespace>/]<name>", ref)
	}
	if !hasKind {
		kind = defaultKind
	}
	if !hasNamespace {
		namespace = defaultNamespace
	}
	if kind == "" {
		return EntityRef{}, backstageerr.Plain(
			"Entity reference %s had missing or empty kind (e.g. did not start with \"component:\" or similar)", QuoteString(ref))
	}
	return EntityRef{Kind: kind, Namespace: namespace, Name: name}, nil
}

// String is catalog-model's stringifyEntityRef: "kind:namespace/name" lower-cased with
// toLocaleLowerCase('en-US'), the default namespace filled in.
func (r EntityRef) String() string {
	ns := r.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return ToLower(r.Kind) + ":" + ToLower(ns) + "/" + ToLower(r.Name)
}

// CanonicalEntityRef parses ref with no default kind and returns its canonical string.
func CanonicalEntityRef(ref string) (string, error) {
	r, err := ParseEntityRef(ref, "", "")
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// ToLower lower-cases like JavaScript's toLocaleLowerCase("en-US") (the same as
// toLowerCase), which differs from Go's strings.ToLower for U+0130 (to "i̇") and for
// a final capital sigma (to "ς": after a cased letter, not before one, skipping
// case-ignorable characters such as "." and "'" as ICU does).
func ToLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if casedBefore(s[:i]) && !casedAfter(s[i+len("Σ"):]) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(toLowerRune(r))
		}
	}
	return b.String()
}

// casedBefore: the last character before, skipping case-ignorable ones, is cased.
func casedBefore(s string) bool {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
		if caseIgnorable(r) {
			continue
		}
		return cased(r)
	}
	return false
}

// casedAfter: the first character after, skipping case-ignorable ones, is cased.
func casedAfter(s string) bool {
	for _, r := range s {
		if caseIgnorable(r) {
			continue
		}
		return cased(r)
	}
	return false
}

// cased is the Unicode Cased property (Lowercase, Uppercase or Lt).
func cased(r rune) bool {
	return hasNewerCase(r) || unicode.In(r, unicode.Ll, unicode.Lu, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is the Unicode Case_Ignorable property: Mn, Me, Cf, Lm, Sk and the
// Word_Break MidLetter, MidNumLet and Single_Quote characters.
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// QuoteString is JSON.stringify of a string.
func QuoteString(s string) string { return string(AppendString(nil, s)) }
