package jwks

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CanonicalEntityRef parses ref like @backstage/catalog-model's parseEntityRef
// (form [<kind>:][<namespace>/]<name>, kind required, namespace defaulting to
// "default") and returns stringifyEntityRef of the result: lower-case
// "kind:namespace/name".
func CanonicalEntityRef(ref string) (string, error) {
	colon := strings.IndexByte(ref, ':')
	slash := strings.IndexByte(ref, '/')
	// A "/" ahead of the ":" means the ":" belongs to the name.
	if slash != -1 && slash < colon {
		colon = -1
	}
	var kind, namespace string
	hasKind, hasNS := colon != -1, slash != -1
	if hasKind {
		kind = ref[:colon]
	}
	if hasNS {
		namespace = ref[colon+1 : slash]
	}
	name := ref[max(colon+1, slash+1):]
	if (hasKind && kind == "") || (hasNS && namespace == "") || name == "" {
		return "", fmt.Errorf("Entity reference %q was not on the form [<kind>:][<namespace>/]<name>", ref)
	}
	if !hasKind {
		return "", fmt.Errorf("Entity reference %q had missing or empty kind (e.g. did not start with \"component:\" or similar)", ref)
	}
	if !hasNS {
		namespace = "default"
	}
	return jsLower(kind) + ":" + jsLower(namespace) + "/" + jsLower(name), nil
}

// jsLower lower-cases like JavaScript's toLocaleLowerCase("en-US") for the cases
// where Go's strings.ToLower differs: U+0130 becomes "i̇" and a word-final capital
// sigma becomes "ς".
func jsLower(s string) string {
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
