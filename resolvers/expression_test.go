package resolvers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/celexpr"
)

const expr = resolvers.NameExpression

func aliceInfo() resolvers.SignInInfo {
	return resolvers.SignInInfo{
		ProviderID: "oidc", Email: "alice@example.com", DisplayName: "Alice",
		Claims: map[string]any{"sub": "u-alice", "groups": []any{"Platform", "sre"}, "employee_id": float64(1001)},
	}
}

func TestExpressionResolver(t *testing.T) {
	fake := newFake()
	fake.users[0].Metadata.Annotations["example.com/employee-id"] = "1001"
	tests := []struct {
		name     string
		entries  []entry
		info     func(*resolvers.SignInInfo)
		wantUser string
		wantEnt  []string
		wantErr  string // Backstage error name
		wantMsg  string // substring
	}{
		{name: "annotation filter from a numeric claim",
			entries:  []entry{{"resolver": expr, "filter": `{"metadata.annotations.example.com/employee-id": claims.employee_id}`}},
			wantUser: "user:default/alice", wantEnt: []string{"user:default/alice", "group:default/team-a", "group:default/team-b", "group:default/team-c"}},
		{name: "entity ref from the email's local part",
			entries:  []entry{{"resolver": expr, "entityRef": `profile.email.split("@")[0]`}},
			wantUser: "user:default/alice"},
		{name: "group claims become ownership, canonical and de-duplicated",
			entries:  []entry{{"resolver": expr, "entityRef": `"user:default/" + profile.email.split("@")[0]`, "ownership": `claims.groups.map(g, "group:default/" + g) + ["Team-A", "group:default/team-a"]`}},
			wantUser: "user:default/alice", wantEnt: []string{"user:default/alice", "group:default/team-a", "group:default/team-b", "group:default/team-c", "group:default/platform", "group:default/sre"}},
		{name: "fallback when the user is not in the catalog",
			info:     func(i *resolvers.SignInInfo) { i.Email = "zed@example.com" },
			entries:  []entry{{"resolver": expr, "entityRef": `profile.email.split("@")[0]`, "dangerousEntityRefFallback": `profile.email.split("@")[0]`, "ownership": `["group:default/guests"]`}},
			wantUser: "user:default/zed", wantEnt: []string{"user:default/zed", "group:default/guests"}},
		{name: "an empty entityRef is NotFound: the chain moves on",
			info:     func(i *resolvers.SignInInfo) { delete(i.Claims, "employee_id") },
			entries:  []entry{{"resolver": expr, "entityRef": `claims.?employee_id.orValue("") == "" ? "" : "x"`}, {"resolver": profile}},
			wantUser: "user:default/alice"},
		{name: "an empty filter is NotFound and says so",
			entries: []entry{{"resolver": expr, "filter": `{}`}},
			wantErr: "Error", wantMsg: "Tried: expression: User not found (the filter expression gave no lookup)."},
		{name: "not found lists the lookup",
			entries: []entry{{"resolver": expr, "filter": `{"spec.profile.email": "nobody@example.com"}`}},
			wantErr: "Error", wantMsg: "Tried: expression with spec.profile.email=nobody@example.com."},
		{name: "deny with a message",
			entries: []entry{{"resolver": expr, "deny": `!("sre" in claims.groups) || profile.email.endsWith("@example.com")`, "denyMessage": `"Contractors use the other portal, " + profile.displayName`, "entityRef": `"alice"`}},
			wantErr: "NotAllowedError", wantMsg: "Contractors use the other portal, Alice"},
		{name: "deny without a message",
			entries: []entry{{"resolver": expr, "deny": `true`, "entityRef": `"alice"`}, {"resolver": profile}},
			wantErr: "NotAllowedError", wantMsg: resolvers.MsgSignInDenied},
		{name: "deny false goes on",
			entries:  []entry{{"resolver": expr, "deny": `"nobody" in claims.groups`, "entityRef": `"alice"`}},
			wantUser: "user:default/alice"},
		{name: "missing claim",
			entries: []entry{{"resolver": expr, "filter": `{"metadata.annotations.x/id": claims.oid}`}, {"resolver": profile}},
			wantErr: "Error", wantMsg: "Sign-in failed: the expression signIn.resolvers[0].filter could not be evaluated: at 1:37: no such key: oid"},
		{name: "wrong claim type",
			entries: []entry{{"resolver": expr, "entityRef": `claims.groups`}},
			wantErr: "Error", wantMsg: "signIn.resolvers[0].entityRef could not be evaluated: the expression returned a list, want a string"},
		{name: "wrong operand types",
			entries: []entry{{"resolver": expr, "deny": `claims.groups > 3`, "entityRef": `"alice"`}},
			wantErr: "Error", wantMsg: "signIn.resolvers[0].deny could not be evaluated: at 1:15: no such overload"},
		{name: "cost limit",
			entries: []entry{{"resolver": expr, "entityRef": `lists.range(50).map(a, lists.range(50).map(b, lists.range(50).map(c, a+b+c))).size() > 0 ? "alice" : ""`}},
			wantErr: "Error", wantMsg: "signIn.resolvers[0].entityRef could not be evaluated: the expression exceeded the cost limit (100000)"},
		{name: "an entityRef cannot be a group",
			entries: []entry{{"resolver": expr, "entityRef": `"group:default/admins"`}},
			wantErr: "Error", wantMsg: `"group:default/admins" is a group, not a User entity ref`},
		{name: "a fallback cannot be a group",
			info:    func(i *resolvers.SignInInfo) { i.Email = "zed@example.com" },
			entries: []entry{{"resolver": expr, "entityRef": `"zed"`, "dangerousEntityRefFallback": `"group:admins"`}},
			wantErr: "Error", wantMsg: "dangerousEntityRefFallback could not be evaluated"},
		{name: "an invalid ref is an error, not a lookup",
			entries: []entry{{"resolver": expr, "entityRef": `"user:/x"`}},
			wantErr: "Error", wantMsg: `Entity reference "user:/x" was not on the form`},
		{name: "an invalid ownership ref",
			entries: []entry{{"resolver": expr, "entityRef": `"alice"`, "ownership": `["group:"]`}},
			wantErr: "Error", wantMsg: "signIn.resolvers[0].ownership could not be evaluated: element 0: Entity reference \"group:\""},
		{name: "ownership is bounded",
			entries: []entry{{"resolver": expr, "entityRef": `"alice"`, "ownership": `lists.range(101).map(i, "group:default/g" + string(i))`}},
			wantErr: "Error", wantMsg: fmt.Sprintf("returned 101 values, more than the limit of %d", resolvers.MaxOwnershipRefs)},
		{name: "a slash in a claim stays in the name after an explicit prefix",
			info:    func(i *resolvers.SignInInfo) { i.Claims["preferred_username"] = "other/alice" },
			entries: []entry{{"resolver": expr, "entityRef": `"user:default/" + claims.preferred_username`}},
			wantErr: "Error", wantMsg: "Tried: expression with user:default/other/alice."},
		{name: "the provider id is an input",
			entries:  []entry{{"resolver": expr, "deny": `provider != "oidc"`, "entityRef": `"alice"`}},
			wantUser: "user:default/alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := aliceInfo()
			if tt.info != nil {
				tt.info(&info)
			}
			id, err := chain(t, fake, tt.entries...).Resolve(context.Background(), info)
			if tt.wantErr != "" {
				if err == nil || backstageerr.NameOf(err) != tt.wantErr || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %s %q, want %s containing %q", backstageerr.NameOf(err), err, tt.wantErr, tt.wantMsg)
				}
				if id.UserEntityRef != "" {
					t.Fatalf("an identity with an error: %+v", id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.wantEnt
			if want == nil {
				want = []string{tt.wantUser}
				if tt.wantUser == "user:default/alice" {
					want = []string{"user:default/alice", "group:default/team-a", "group:default/team-b", "group:default/team-c"}
				}
			}
			if id.UserEntityRef != tt.wantUser || !slices.Equal(id.OwnershipEntityRefs, want) {
				t.Fatalf("identity = %+v, want %s %v", id, tt.wantUser, want)
			}
		})
	}
}

// A runtime error carries the celexpr error, classified by kind.
func TestExpressionErrorCause(t *testing.T) {
	_, err := chain(t, newFake(), entry{"resolver": expr, "entityRef": `claims.nope`}).Resolve(context.Background(), aliceInfo())
	var ee *celexpr.EvalError
	if !errors.As(err, &ee) || ee.Kind != celexpr.ErrRuntime {
		t.Fatalf("err = %v (%T)", err, err)
	}
	_, err = chain(t, newFake(), entry{"resolver": expr, "deny": "true", "entityRef": `"alice"`}).Resolve(context.Background(), aliceInfo())
	var d *resolvers.Denial
	if !errors.As(err, &d) || d.Rule != "signIn.resolvers[0].deny" {
		t.Fatalf("denial = %v (%+v)", err, d)
	}
}

func TestExpressionConfigProblems(t *testing.T) {
	tests := []struct {
		name     string
		entry    entry
		problems []string
	}{
		{"compile error names option and position", entry{"resolver": expr, "filter": `{"spec.profile.email": profile.emial}`},
			[]string{"signIn.resolvers[0].filter: Invalid sign-in resolver options, the filter expression does not compile: at 1:31: undefined field 'emial'"}},
		{"syntax error", entry{"resolver": expr, "entityRef": `profile.email.split("@"`},
			[]string{"signIn.resolvers[0].entityRef: Invalid sign-in resolver options, the entityRef expression does not compile: at 1:24: Syntax error"}},
		{"wrong result type", entry{"resolver": expr, "entityRef": `"alice"`, "deny": `profile.email`},
			[]string{"signIn.resolvers[0].deny: Invalid sign-in resolver options, the deny expression does not compile: at 1:1: the expression returns string, want a bool"}},
		{"ownership must be a list", entry{"resolver": expr, "entityRef": `"alice"`, "ownership": `"group:default/a"`},
			[]string{"signIn.resolvers[0].ownership: Invalid sign-in resolver options, the ownership expression does not compile: at 1:1: the expression returns string, want a list of strings"}},
		{"no lookup", entry{"resolver": expr, "ownership": `[]`},
			[]string{"signIn.resolvers[0]: Invalid sign-in resolver options, the expression resolver needs a filter (a catalog query) or an entityRef expression"}},
		{"both lookups", entry{"resolver": expr, "filter": `{}`, "entityRef": `""`},
			[]string{"signIn.resolvers[0].entityRef: Invalid sign-in resolver options, give either filter or entityRef, not both"}},
		{"denyMessage alone", entry{"resolver": expr, "entityRef": `""`, "denyMessage": `"no"`},
			[]string{"signIn.resolvers[0].denyMessage: Invalid sign-in resolver options, denyMessage needs a deny expression"}},
		{"misspelled option", entry{"resolver": expr, "entityRef": `""`, "denny": `true`},
			[]string{"signIn.resolvers[0].denny: unknown key"}},
		{"not a string", entry{"resolver": expr, "entityRef": []any{"a"}},
			[]string{"signIn.resolvers[0].entityRef: must be a string, got a list"}},
		{"an expression cannot read files", entry{"resolver": expr, "entityRef": `readFile("/etc/passwd")`},
			[]string{"signIn.resolvers[0].entityRef: Invalid sign-in resolver options, the entityRef expression does not compile: at 1:9: undeclared reference to 'readFile'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"signIn": map[string]any{"resolvers": []any{map[string]any(tt.entry)}}}).Sub("signIn"), resolvers.NewSet())
			if len(ps) != len(tt.problems) {
				t.Fatalf("problems = %v, want %v", ps, tt.problems)
			}
			for i, want := range tt.problems {
				if !strings.HasPrefix(ps[i].String(), want) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i].String(), want)
				}
			}
		})
	}
}
