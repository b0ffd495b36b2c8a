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

// ToLower lower-cases like JavaScript's toLocaleLowerCase("en-US"), which differs from
// Go's strings.ToLower for U+0130 (to "i̇") and for a word-final capital sigma ("ς").
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
			prev, _ := utf8.DecodeLastRuneInString(s[:i])
			next, _ := utf8.DecodeRuneInString(s[i+len("Σ"):])
			if i > 0 && unicode.IsLetter(prev) && !unicode.IsLetter(next) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// QuoteString is JSON.stringify of a string.
func QuoteString(s string) string { return string(AppendString(nil, s)) }
