package resolvers_test

import (
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func TestFromConfigProblems(t *testing.T) {
	tests := []struct {
		name     string
		signIn   any // nil: key absent
		wantOK   bool
		problems []string // substrings, one per expected problem, in order
	}{
		{name: "no signIn section", signIn: nil, wantOK: false},
		// A misspelled policy must not silently switch the policy off.
		{name: "signIn without resolvers", signIn: map[string]any{"polcy": 1}, wantOK: false,
			problems: []string{"signIn.polcy: unknown key", "signIn.resolvers: missing required config value"}},
		{name: "empty resolver list", signIn: map[string]any{"resolvers": []any{}}, wantOK: false,
			problems: []string{"signIn.resolvers: the list is empty"}},
		{name: "valid", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": profile, "allowedDomains": []any{"example.com"}, "dangerouslyAllowSignInWithoutUserInCatalog": false},
			map[string]any{"resolver": localPart},
		}}, wantOK: true},
		// Unlike zod's strip, a misspelled option is an error: it would switch a check off.
		{name: "unknown option", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": profile, "allowedDomain": []any{"example.com"}},
		}}, wantOK: true, problems: []string{"signIn.resolvers[0].allowedDomain: unknown key"}},
		{name: "unknown resolver", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": "preferredUsernameMatchingUserEntityName"},
		}}, wantOK: true, problems: []string{"signIn.resolvers[0].resolver: Sign-in resolver 'preferredUsernameMatchingUserEntityName' is not available"}},
		{name: "missing resolver key", signIn: map[string]any{"resolvers": []any{map[string]any{"allowedDomains": []any{"x"}}}}, wantOK: true,
			problems: []string{"signIn.resolvers[0].resolver: missing required config value"}},
		{name: "plus option only for the profile email resolver", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": profile, "matchEmailWithoutPlusTag": true},
			map[string]any{"resolver": localPart, "matchEmailWithoutPlusTag": true},
		}}, wantOK: true, problems: []string{"signIn.resolvers[1].matchEmailWithoutPlusTag: unknown key"}},
		{name: "allowedDomains not a list", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": localPart, "allowedDomains": "example.com"},
		}}, wantOK: true, problems: []string{"signIn.resolvers[0].allowedDomains: Invalid sign-in resolver options, allowedDomains must be a list of strings, got a string"}},
		{name: "allowedDomains item not a string", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": profile, "allowedDomains": []any{"example.com", 7}},
		}}, wantOK: true, problems: []string{"signIn.resolvers[0].allowedDomains[1]: Invalid sign-in resolver options"}},
		{name: "allowedDomains empty", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": profile, "allowedDomains": []any{}},
		}}, wantOK: true, problems: []string{"an empty list would reject every email"}},
		{name: "dangerously flag not a boolean", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": localPart, "dangerouslyAllowSignInWithoutUserInCatalog": "yes"},
			map[string]any{"resolver": profile, "dangerouslyAllowSignInWithoutUserInCatalog": 1},
		}}, wantOK: true, problems: []string{
			`signIn.resolvers[0].dangerouslyAllowSignInWithoutUserInCatalog: Invalid sign-in resolver options, must be a boolean, got "yes"`,
			"signIn.resolvers[1].dangerouslyAllowSignInWithoutUserInCatalog: Invalid sign-in resolver options, must be a boolean, got a number",
		}},
		{name: "annotation empty", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": annot, "annotation": ""},
		}}, wantOK: true, problems: []string{"signIn.resolvers[0].annotation: Invalid sign-in resolver options, annotation must be a non-empty string"}},
		{name: "resolvers not a list", signIn: map[string]any{"resolvers": "emailMatchingUserEntityProfileEmail"}, wantOK: false,
			problems: []string{"signIn.resolvers: must be a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := map[string]any{}
			if tt.signIn != nil {
				tree["signIn"] = tt.signIn
			}
			sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(tree).Sub("signIn"), resolvers.NewSet(resolvers.EmailAnnotation()))
			if ok := sc != nil; ok != tt.wantOK {
				t.Fatalf("DecodeSignIn = %v, want ok=%v", sc, tt.wantOK)
			}
			if len(ps) != len(tt.problems) {
				t.Fatalf("problems = %v, want %d: %v", ps, len(tt.problems), tt.problems)
			}
			for i, want := range tt.problems {
				if !strings.Contains(ps[i].String(), want) {
					t.Fatalf("problem %d = %q, want it to contain %q", i, ps[i].String(), want)
				}
			}
		})
	}
}

func TestSetNames(t *testing.T) {
	got := strings.Join(resolvers.NewSet(resolvers.EmailAnnotation()).Names(), ",")
	want := "emailLocalPartMatchingUserEntityName,emailMatchingUserEntityAnnotation,emailMatchingUserEntityProfileEmail,expression"
	if got != want {
		t.Fatalf("Names() = %s", got)
	}
}

// markerOptions is a provider-specific resolver's options, told apart by type.
type markerOptions struct{}

func (*markerOptions) Validate(config.Section) config.Problems    { return nil }
func (*markerOptions) Build(resolvers.Catalog) resolvers.Resolver { return nil }

func TestProviderResolverReplacesCommon(t *testing.T) {
	own := resolvers.Factory{Name: profile, NewOptions: func() resolvers.Options { return &markerOptions{} }}
	set := resolvers.NewSet(own)
	if got := strings.Join(set.Names(), ","); got != localPart+","+profile+","+resolvers.NameExpression {
		t.Fatalf("names = %s", got)
	}
	if _, ok := set[profile].NewOptions().(*markerOptions); !ok {
		t.Fatal("the provider's resolver did not replace the common one")
	}
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"resolvers": []any{map[string]any{"resolver": profile}}}), set)
	if len(ps) != 0 || sc == nil || len(sc.Entries) != 1 {
		t.Fatalf("decode: %v %v", sc, ps)
	}
	if _, ok := sc.Entries[0].Options.(*markerOptions); !ok {
		t.Fatal("decoded entry does not use the provider's resolver")
	}
}
