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
		{name: "signIn without resolvers", signIn: map[string]any{"other": 1}, wantOK: false,
			problems: []string{"signIn.resolvers: missing required config value"}},
		{name: "empty resolver list", signIn: map[string]any{"resolvers": []any{}}, wantOK: false},
		{name: "valid", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": profile, "allowedDomains": []any{"example.com"}, "dangerouslyAllowSignInWithoutUserInCatalog": false},
			map[string]any{"resolver": localPart, "somethingElse": 42}, // unknown keys are stripped, like zod
		}}, wantOK: true},
		{name: "unknown resolver", signIn: map[string]any{"resolvers": []any{
			map[string]any{"resolver": "preferredUsernameMatchingUserEntityName"},
		}}, wantOK: true, problems: []string{"signIn.resolvers[0].resolver: Sign-in resolver 'preferredUsernameMatchingUserEntityName' is not available"}},
		{name: "missing resolver key", signIn: map[string]any{"resolvers": []any{map[string]any{"allowedDomains": []any{"x"}}}}, wantOK: true,
			problems: []string{"signIn.resolvers[0].resolver: missing required config value"}},
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
			root := config.FromMap(tree)
			r, ok := resolvers.FromConfig(root.Sub("signIn"), newFake(), nil)
			if ok != tt.wantOK || (ok && r == nil) || (!ok && r != nil) {
				t.Fatalf("FromConfig = (%v, %v), want ok=%v", r, ok, tt.wantOK)
			}
			ps := root.Problems()
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

func TestAvailable(t *testing.T) {
	got := strings.Join(resolvers.Available(), ",")
	want := "emailLocalPartMatchingUserEntityName,emailMatchingUserEntityAnnotation,emailMatchingUserEntityProfileEmail"
	if got != want {
		t.Fatalf("Available() = %s", got)
	}
}
