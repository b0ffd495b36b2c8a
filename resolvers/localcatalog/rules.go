package localcatalog

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// defaultAllowedKinds is Backstage's DefaultCatalogRulesEnforcer.defaultRules.
var defaultAllowedKinds = []string{"Component", "API", "Location"}

// locationRef is a location (type and target), e.g. file:/srv/catalog/org.yaml.
type locationRef struct {
	Type   string
	Target string
}

func (l locationRef) String() string { return l.Type + ":" + l.Target }

type ruleLocation struct {
	typ, target string
	pattern     *jsrules.Minimatch
}

type rule struct {
	allow     map[string]bool // lower-cased kinds
	locations []ruleLocation  // nil: any location
}

// compileRules mirrors DefaultCatalogRulesEnforcer.fromConfig: catalog.rules (or the
// default rule when absent), then one rule per catalog.locations[].rules entry scoped
// to that location. Unlike Backstage, relative file targets and patterns in rules are
// resolved against workDir, so `target: ./org.yaml` matches as users expect.
func compileRules(configured []config.CatalogRule, locs []config.CatalogLocation, workDir string) ([]rule, []string) {
	var rules []rule
	var problems []string
	if len(configured) == 0 {
		rules = append(rules, rule{allow: kindSet(defaultAllowedKinds)})
	}
	for i, r := range configured {
		cr := rule{allow: kindSet(r.Allow)}
		if r.Locations != nil {
			cr.locations = []ruleLocation{}
		}
		for j, l := range r.Locations {
			rl := ruleLocation{typ: l.Type, target: resolveFileTarget(l.Type, l.Target, workDir)}
			if l.Pattern != "" {
				mm, err := jsrules.CompileMinimatch(resolveFileTarget(l.Type, l.Pattern, workDir), rulePatternOptions)
				if err != nil {
					problems = append(problems, fmt.Sprintf("catalog.rules[%d].locations[%d].pattern: %v", i, j, err))
					continue
				}
				rl.pattern = mm
			}
			cr.locations = append(cr.locations, rl)
		}
		rules = append(rules, cr)
	}
	for _, l := range locs {
		for _, r := range l.Rules {
			rules = append(rules, rule{
				allow:     kindSet(r.Allow),
				locations: []ruleLocation{{typ: l.Type, target: resolveFileTarget(l.Type, l.Target, workDir)}},
			})
		}
	}
	return rules, problems
}

func kindSet(kinds []string) map[string]bool {
	m := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		m[strings.ToLower(k)] = true
	}
	return m
}

// resolveFileTarget makes a file target absolute against workDir (Backstage's
// path.resolve); other types and globs starting with a wildcard are left alone.
func resolveFileTarget(typ, target, workDir string) string {
	if typ != "file" || target == "" || filepath.IsAbs(target) || strings.HasPrefix(target, "*") {
		return target
	}
	return filepath.Join(workDir, target)
}

// allowed is DefaultCatalogRulesEnforcer.isAllowed for an entity kind read under the
// given origin location.
func allowed(rules []rule, kind string, origin locationRef) bool {
	for _, r := range rules {
		if !r.matchLocation(origin) {
			continue
		}
		if r.allow[strings.ToLower(kind)] {
			return true
		}
	}
	return false
}

func (r rule) matchLocation(loc locationRef) bool {
	if r.locations == nil {
		return true
	}
	for _, m := range r.locations {
		if m.typ != loc.Type {
			continue
		}
		if m.target != "" && m.target != loc.Target {
			continue
		}
		if m.pattern != nil && !m.pattern.Match(loc.Target) {
			continue
		}
		return true
	}
	return false
}
