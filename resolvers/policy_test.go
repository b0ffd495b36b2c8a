package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// auditLog collects JSON log records.
type auditLog struct{ buf bytes.Buffer }

func (a *auditLog) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(&a.buf, nil)) }

func (a *auditLog) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(a.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func buildPolicy(t *testing.T, cat resolvers.Catalog, log *auditLog, resolverList []any, policy map[string]any) resolvers.Resolver {
	t.Helper()
	sec := config.SectionFromMap(map[string]any{"signIn": map[string]any{"resolvers": resolverList, "policy": policy}}).Sub("signIn")
	sc, ps := resolvers.DecodeSignIn(sec, resolvers.NewSet())
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	return sc.BuildWith(resolvers.BuildDeps{Catalog: cat, Logger: log.logger()})
}

func TestPolicyDecisions(t *testing.T) {
	byEmail := []any{map[string]any{"resolver": profile}}
	tests := []struct {
		name    string
		policy  map[string]any
		info    func(*resolvers.SignInInfo)
		allow   bool
		reason  string // meta.reason
		rule    string // meta.rule
		userMsg string // the denied user's message
	}{
		{name: "idp group allows", policy: map[string]any{"allow": []any{map[string]any{"idpGroups": []any{"backstage-users", "sre"}}}},
			allow: true, reason: `allow rule matched: signIn.policy.allow[0] (groups claim has "sre")`, rule: "signIn.policy.allow[0]"},
		{name: "no idp group denies", policy: map[string]any{"allow": []any{map[string]any{"idpGroups": []any{"backstage-users"}}}},
			reason: "none of the 1 allow rules matched", rule: "signIn.policy",
			userMsg: "Sign-in denied: user:default/alice is not allowed to sign in with this provider; ask your Backstage administrator for access"},
		{name: "catalog group allows", policy: map[string]any{"allow": []any{map[string]any{"idpGroups": []any{"x"}}, map[string]any{"catalogGroups": []any{"Team-B"}}}},
			allow: true, reason: "allow rule matched: signIn.policy.allow[1] (ownership has group:default/team-b)", rule: "signIn.policy.allow[1]"},
		{name: "a custom groups claim", policy: map[string]any{"groupsClaim": "roles", "allow": []any{map[string]any{"idpGroups": []any{"admin"}}}},
			info:  func(i *resolvers.SignInInfo) { i.Claims["roles"] = "admin" },
			allow: true, reason: `allow rule matched: signIn.policy.allow[0] (roles claim has "admin")`, rule: "signIn.policy.allow[0]"},
		{name: "deny rule wins over allow", policy: map[string]any{
			"deny":    []any{map[string]any{"users": []any{"alice"}}},
			"allow":   []any{map[string]any{"emailDomains": []any{"example.com"}}},
			"message": "Ask #backstage-access for an account."},
			reason: "deny rule matched: signIn.policy.deny[0] (user is user:default/alice)", rule: "signIn.policy.deny[0]",
			userMsg: "Ask #backstage-access for an account."},
		{name: "every condition of a rule must hold", policy: map[string]any{"allow": []any{map[string]any{"emailDomains": []any{"@Example.com"}, "idpGroups": []any{"nope"}}}},
			reason: "none of the 1 allow rules matched"},
		{name: "only deny rules: others pass", policy: map[string]any{"deny": []any{map[string]any{"emailDomains": []any{"evil.test"}}}},
			allow: true, reason: "no deny rule matched"},
		{name: "expression rule sees the identity", policy: map[string]any{"allow": []any{map[string]any{
			"expression": `identity.ownershipEntityRefs.exists(r, r.startsWith("group:default/team-")) && claims.employee_id > 1000`}}},
			allow: true, reason: "allow rule matched: signIn.policy.allow[0] (expression is true)", rule: "signIn.policy.allow[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log auditLog
			r := buildPolicy(t, newFake(), &log, byEmail, tt.policy)
			info := aliceInfo()
			if tt.info != nil {
				tt.info(&info)
			}
			id, err := r.Resolve(context.Background(), info)
			if tt.allow {
				if err != nil || id.UserEntityRef != "user:default/alice" {
					t.Fatalf("want allowed, got %+v %v", id, err)
				}
			} else {
				if err == nil || backstageerr.NameOf(err) != backstageerr.NameNotAllowed || err.Error() != tt.userMsg && tt.userMsg != "" {
					t.Fatalf("err = %s %q, want NotAllowedError %q", backstageerr.NameOf(err), err, tt.userMsg)
				}
				if id.UserEntityRef != "" {
					t.Fatalf("identity on deny: %+v", id)
				}
			}
			recs := log.records(t)
			if len(recs) != 1 {
				t.Fatalf("audit records = %v", recs)
			}
			rec := recs[0]
			outcome, status := "deny", "failed"
			if tt.allow {
				outcome, status = "allow", "succeeded"
			}
			want := map[string]any{"msg": "auth.sign-in-policy", "level": "INFO", "isAuditEvent": true, "plugin": "auth", "eventId": "sign-in-policy",
				"severityLevel": "medium", "status": status}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v", k, rec[k], v)
				}
			}
			if dig(rec, "actor", "actorId") != "user:default/alice" {
				t.Errorf("actor = %v", rec["actor"])
			}
			meta, _ := rec["meta"].(map[string]any)
			if meta["provider"] != "oidc" || meta["outcome"] != outcome || meta["reason"] != tt.reason || meta["email"] != "alice@example.com" {
				t.Errorf("meta = %v, want outcome %s reason %q", meta, outcome, tt.reason)
			}
			if tt.rule != "" && meta["rule"] != tt.rule {
				t.Errorf("meta.rule = %v, want %s", meta["rule"], tt.rule)
			}
		})
	}
}

func dig(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	return v
}

// A deny expression is audited too (no actor: nobody was resolved), and a sign-in with
// no policy and no denial writes no audit record.
func TestResolverDenialIsAudited(t *testing.T) {
	var log auditLog
	r := buildPolicy(t, newFake(), &log, []any{map[string]any{"resolver": expr, "deny": `!("admins" in claims.groups)`, "entityRef": `"alice"`}}, nil)
	_, err := r.Resolve(context.Background(), aliceInfo())
	if backstageerr.NameOf(err) != backstageerr.NameNotAllowed {
		t.Fatalf("err = %v", err)
	}
	recs := log.records(t)
	if len(recs) != 1 || recs[0]["actor"] != nil || dig(recs[0], "meta", "rule") != "signIn.resolvers[0].deny" ||
		dig(recs[0], "meta", "reason") != "the deny expression is true" || dig(recs[0], "meta", "outcome") != "deny" {
		t.Fatalf("records = %v", recs)
	}
	log.buf.Reset()
	r = buildPolicy(t, newFake(), &log, []any{map[string]any{"resolver": profile}}, nil)
	if _, err := r.Resolve(context.Background(), aliceInfo()); err != nil {
		t.Fatal(err)
	}
	if log.buf.Len() != 0 {
		t.Fatalf("audit without a policy: %s", log.buf.String())
	}
}

// A policy expression that fails refuses the sign-in (fail closed) and is audited.
func TestPolicyErrorFailsClosed(t *testing.T) {
	var log auditLog
	r := buildPolicy(t, newFake(), &log, []any{map[string]any{"resolver": profile}},
		map[string]any{"allow": []any{map[string]any{"expression": `claims.department == "eng"`}}})
	id, err := r.Resolve(context.Background(), aliceInfo())
	if err == nil || id.UserEntityRef != "" || !strings.Contains(err.Error(), "Sign-in failed: the sign-in policy could not be evaluated: signIn.policy.allow[0].expression: at 1:7: no such key: department") {
		t.Fatalf("got %+v, %v", id, err)
	}
	var d *resolvers.Denial
	if errors.As(err, &d) {
		t.Fatal("an evaluation error is not a denial")
	}
	recs := log.records(t)
	if len(recs) != 1 || dig(recs[0], "meta", "outcome") != "error" || recs[0]["status"] != "failed" {
		t.Fatalf("records = %v", recs)
	}
}

func TestPolicyConfigProblems(t *testing.T) {
	tests := []struct {
		name     string
		policy   any
		problems []string
	}{
		{"not an object", "allow-all", []string{"signIn.policy: must be an object"}},
		{"no rules", map[string]any{"message": "x"}, []string{"signIn.policy: a sign-in policy needs allow or deny rules"}},
		{"misspelled key", map[string]any{"alow": []any{}}, []string{"signIn.policy: a sign-in policy needs allow or deny rules", "signIn.policy.alow: unknown key"}},
		{"empty list", map[string]any{"allow": []any{}}, []string{"signIn.policy.allow: the list is empty"}},
		{"empty rule", map[string]any{"allow": []any{map[string]any{}}}, []string{"signIn.policy.allow[0]: a rule needs at least one of"}},
		{"unknown rule key", map[string]any{"deny": []any{map[string]any{"group": []any{"a"}}}},
			[]string{"signIn.policy.deny[0]: a rule needs at least one of", "signIn.policy.deny[0].group: unknown key"}},
		{"empty condition", map[string]any{"allow": []any{map[string]any{"idpGroups": []any{}}}}, []string{"signIn.policy.allow[0].idpGroups: the list is empty"}},
		{"bad ref", map[string]any{"allow": []any{map[string]any{"catalogGroups": []any{"group:/x"}}}}, []string{`signIn.policy.allow[0].catalogGroups[0]: Entity reference "group:/x" was not on the form`}},
		{"expression does not compile", map[string]any{"allow": []any{map[string]any{"expression": `identity.userEntityRef`}}},
			[]string{"signIn.policy.allow[0].expression: the expression does not compile: at 1:1: the expression returns string, want a bool"}},
		{"empty message", map[string]any{"deny": []any{map[string]any{"users": []any{"x"}}}, "message": " "}, []string{"signIn.policy.message: must be a non-empty string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := config.SectionFromMap(map[string]any{"signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": profile}}, "policy": tt.policy}}).Sub("signIn")
			_, ps := resolvers.DecodeSignIn(sec, resolvers.NewSet())
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
