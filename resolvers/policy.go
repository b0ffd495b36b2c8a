package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/celexpr"
)

// Audit record of a sign-in decision, shaped like Backstage's auditor events
// (@backstage/backend-defaults' DefaultAuditorService): the message is
// "<plugin>.<eventId>", with isAuditEvent, eventId, severityLevel, status, actor.actorId
// and meta.
const (
	AuditMessage  = "auth.sign-in-policy"
	AuditEventID  = "sign-in-policy"
	auditPlugin   = "auth"
	auditSeverity = "medium"
)

// Outcomes of a sign-in decision (meta.outcome of the audit record).
const (
	OutcomeAllow = "allow"
	OutcomeDeny  = "deny"
	OutcomeError = "error"
)

// DefaultGroupsClaim is the claim idpGroups rules read unless groupsClaim says otherwise.
const DefaultGroupsClaim = "groups"

// Policy is signIn.policy: deny and allow rules applied to the identity every resolver
// chain produces. A deny rule that matches refuses the sign-in; when allow rules are
// given, one of them must match. A rule matches when every condition it lists does.
type Policy struct {
	path        string
	allow, deny []policyRule
	message     string
	groupsClaim string
}

type policyRule struct {
	path          string
	idpGroups     []string
	catalogGroups []string
	users         []string
	emailDomains  []string
	expr          *celexpr.Program
}

// ruleConfig is one allow[] or deny[] item.
type ruleConfig struct {
	IdPGroups     []string `config:"idpGroups"`
	CatalogGroups []string `config:"catalogGroups"`
	Users         []string `config:"users"`
	EmailDomains  []string `config:"emailDomains"`
	Expression    *string  `config:"expression"`
}

// decodePolicy decodes and validates signIn.policy (nil when absent).
func decodePolicy(sec config.Section) (*Policy, config.Problems) {
	if sec.Empty() {
		return nil, nil
	}
	r := sec.Reader()
	r.CheckKnownKeys("allow", "deny", "message", "groupsClaim")
	p := &Policy{path: sec.Path(), groupsClaim: DefaultGroupsClaim}
	if r.Has("message") {
		if p.message = strings.TrimSpace(r.String("message")); p.message == "" {
			r.Problemf("message", "must be a non-empty string (the message shown to a user who may not sign in)")
		}
	}
	if r.Has("groupsClaim") {
		if p.groupsClaim = strings.TrimSpace(r.String("groupsClaim")); p.groupsClaim == "" {
			r.Problemf("groupsClaim", "must be a non-empty string (the claim that lists the user's IdP groups)")
		}
	}
	p.allow = decodeRules(r, "allow")
	p.deny = decodeRules(r, "deny")
	if !r.Has("allow") && !r.Has("deny") {
		r.Problemf("", "a sign-in policy needs allow or deny rules (lists such as [{idpGroups: [backstage-users]}])")
	}
	ps := r.Problems()
	sortProblems(ps)
	return p, ps
}

func decodeRules(r *config.Reader, key string) []policyRule {
	if r.Has(key) {
		if items, ok := r.Raw(key).([]any); ok && len(items) == 0 {
			r.Problemf(key, "the list is empty; remove the key or list rules")
		}
	}
	var rules []policyRule
	for _, it := range r.List(key) {
		var rc ruleConfig
		it.Add(config.Decode(it.Section, &rc, config.DecodeOptions{Unknown: config.UnknownKeysError})...)
		rule := policyRule{path: it.Path()}
		// nil: the condition is absent; an empty list would match nobody.
		present := func(k string, v []string) bool {
			if v != nil && len(v) == 0 {
				it.Problemf(k, "the list is empty: it would match nobody")
				return false
			}
			return v != nil
		}
		if present("idpGroups", rc.IdPGroups) {
			rule.idpGroups = rc.IdPGroups
		}
		if present("catalogGroups", rc.CatalogGroups) {
			rule.catalogGroups = canonicalRefs(it, "catalogGroups", rc.CatalogGroups, "Group")
		}
		if present("users", rc.Users) {
			rule.users = canonicalRefs(it, "users", rc.Users, "User")
		}
		if present("emailDomains", rc.EmailDomains) {
			for _, d := range rc.EmailDomains {
				rule.emailDomains = append(rule.emailDomains, strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")))
			}
		}
		if rc.Expression != nil {
			prg, err := celexpr.Policy().Compile(*rc.Expression, celexpr.WantBool, celexpr.DefaultLimits)
			if err != nil {
				it.Problemf("expression", "the expression does not compile: %v", err)
			}
			rule.expr = prg
		}
		if rc.IdPGroups == nil && rc.CatalogGroups == nil && rc.Users == nil && rc.EmailDomains == nil && rc.Expression == nil {
			it.Problemf("", "a rule needs at least one of idpGroups, catalogGroups, users, emailDomains, expression")
		}
		rules = append(rules, rule)
	}
	return rules
}

// canonicalRefs parses refs (kind defaultKind unless given) into canonical strings.
func canonicalRefs(r *config.Reader, key string, refs []string, defaultKind string) []string {
	out := make([]string, 0, len(refs))
	for i, s := range refs {
		ref, err := ParseEntityRef(strings.TrimSpace(s), defaultKind, DefaultNamespace)
		if err != nil {
			r.Problemf(fmt.Sprintf("%s[%d]", key, i), "%v", err)
			continue
		}
		out = append(out, ref.String())
	}
	return out
}

// Decision is the policy's verdict on one sign-in.
type Decision struct {
	Allow bool
	// Rule is the config path of the rule that decided ("" when no rule matched).
	Rule string
	// Reason says why, for the audit log.
	Reason string
}

// Decide applies the policy to a resolved identity.
func (p *Policy) Decide(ctx context.Context, info SignInInfo, id Identity) (Decision, error) {
	var act *celexpr.Activation // built on first use: most policies have no expression rule
	for _, r := range p.deny {
		ok, why, err := r.match(ctx, p, info, id, &act)
		if err != nil {
			return Decision{Rule: r.path}, err
		}
		if ok {
			return Decision{Rule: r.path, Reason: "deny rule matched: " + why}, nil
		}
	}
	if len(p.allow) == 0 {
		return Decision{Allow: true, Reason: "no deny rule matched"}, nil
	}
	for _, r := range p.allow {
		ok, why, err := r.match(ctx, p, info, id, &act)
		if err != nil {
			return Decision{Rule: r.path}, err
		}
		if ok {
			return Decision{Allow: true, Rule: r.path, Reason: "allow rule matched: " + why}, nil
		}
	}
	return Decision{Reason: fmt.Sprintf("none of the %d allow rules matched", len(p.allow))}, nil
}

// match reports whether every condition of r holds, and which values made it so.
func (r *policyRule) match(ctx context.Context, p *Policy, info SignInInfo, id Identity, act **celexpr.Activation) (bool, string, error) {
	var why []string
	if r.idpGroups != nil {
		g, ok := firstCommon(claimStrings(info.Claims[p.groupsClaim]), r.idpGroups)
		if !ok {
			return false, "", nil
		}
		why = append(why, fmt.Sprintf("%s claim has %q", p.groupsClaim, g))
	}
	if r.catalogGroups != nil {
		g, ok := firstCommon(id.OwnershipEntityRefs, r.catalogGroups)
		if !ok {
			return false, "", nil
		}
		why = append(why, "ownership has "+g)
	}
	if r.users != nil {
		if _, ok := firstCommon([]string{id.UserEntityRef}, r.users); !ok {
			return false, "", nil
		}
		why = append(why, "user is "+id.UserEntityRef)
	}
	if r.emailDomains != nil {
		_, domain, found := strings.Cut(info.Email, "@")
		if _, ok := firstCommon([]string{strings.ToLower(domain)}, r.emailDomains); !found || !ok {
			return false, "", nil
		}
		why = append(why, "email domain is "+strings.ToLower(domain))
	}
	if r.expr != nil {
		if *act == nil {
			*act = celexpr.NewActivation(inputOf(info)).WithIdentity(celexpr.Identity{UserEntityRef: id.UserEntityRef, OwnershipEntityRefs: id.OwnershipEntityRefs})
		}
		ok, err := r.expr.Bool(ctx, *act)
		if err != nil {
			return false, "", fmt.Errorf("%s.expression: %w", r.path, err)
		}
		if !ok {
			return false, "", nil
		}
		why = append(why, "expression is true")
	}
	return true, r.path + " (" + strings.Join(why, ", ") + ")", nil
}

// claimStrings reads a groups claim: a list of strings, or one string.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func firstCommon(have, want []string) (string, bool) {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return h, true
			}
		}
	}
	return "", false
}

func inputOf(info SignInInfo) celexpr.Input {
	return celexpr.Input{
		Provider: info.ProviderID,
		Profile:  celexpr.Profile{Email: info.Email, DisplayName: info.DisplayName, Picture: info.Picture},
		Claims:   info.Claims,
	}
}

// MsgPolicyDenied is the user's message when the policy refuses and has no message.
const MsgPolicyDenied = "Sign-in denied: %s is not allowed to sign in with this provider; ask your Backstage administrator for access"

// signIn is a built signIn section: the resolver chain, then the policy. Every
// decision of the policy, and every refusal of a deny expression, is audited.
type signIn struct {
	chain  *Chain
	policy *Policy
	logger *slog.Logger
}

// Resolve implements Resolver.
func (s *signIn) Resolve(ctx context.Context, info SignInInfo) (Identity, error) {
	id, err := s.chain.Resolve(ctx, info)
	if err != nil {
		var d *Denial
		if errors.As(err, &d) {
			s.audit(ctx, info, "", OutcomeDeny, d.Rule, d.Reason)
		}
		return Identity{}, err
	}
	if s.policy == nil {
		return id, nil
	}
	dec, err := s.policy.Decide(ctx, info, id)
	if err != nil {
		s.audit(ctx, info, id.UserEntityRef, OutcomeError, dec.Rule, err.Error())
		return Identity{}, &backstageerr.Error{Name: backstageerr.NameError, Message: "Sign-in failed: the sign-in policy could not be evaluated: " + err.Error(), Cause: err}
	}
	if !dec.Allow {
		rule := dec.Rule
		if rule == "" {
			rule = s.policy.path // no allow rule matched: the policy as a whole refused
		}
		s.audit(ctx, info, id.UserEntityRef, OutcomeDeny, rule, dec.Reason)
		msg := s.policy.message
		if msg == "" {
			msg = fmt.Sprintf(MsgPolicyDenied, id.UserEntityRef)
		}
		return Identity{}, denied(msg, &Denial{Rule: rule, Reason: dec.Reason})
	}
	s.audit(ctx, info, id.UserEntityRef, OutcomeAllow, dec.Rule, dec.Reason)
	return id, nil
}

// audit writes the decision record. It never holds a token: only refs, the provider id,
// the email and the rule.
func (s *signIn) audit(ctx context.Context, info SignInInfo, userRef, outcome, rule, reason string) {
	status := "succeeded"
	if outcome != OutcomeAllow {
		status = "failed"
	}
	meta := []any{
		slog.String("provider", info.ProviderID),
		slog.String("outcome", outcome),
		slog.String("reason", reason),
	}
	if rule != "" {
		meta = append(meta, slog.String("rule", rule))
	}
	if info.Email != "" {
		meta = append(meta, slog.String("email", info.Email))
	}
	attrs := []slog.Attr{
		slog.Bool("isAuditEvent", true),
		slog.String("plugin", auditPlugin),
		slog.String("eventId", AuditEventID),
		slog.String("severityLevel", auditSeverity),
		slog.String("status", status),
	}
	if userRef != "" {
		attrs = append(attrs, slog.Group("actor", slog.String("actorId", userRef)))
	}
	attrs = append(attrs, slog.Group("meta", meta...))
	s.logger.LogAttrs(ctx, slog.LevelInfo, AuditMessage, attrs...)
}
