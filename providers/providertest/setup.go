package providertest

import (
	"maps"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// Parse decodes m as mod's config section; C is the module's config type.
func Parse[C providers.Config](t testing.TB, mod providers.Module, m map[string]any) (C, config.Problems) {
	t.Helper()
	cfg, ps := mod.Parse(config.SectionFromMap(m))
	c, ok := cfg.(C)
	if !ok {
		t.Fatalf("%s: the config is a %T", mod.ID, cfg)
	}
	return c, ps
}

// Build parses m as mod's config, which must have no problem, and builds its provider
// with deps; P is the module's provider type.
func Build[P any](t testing.TB, mod providers.Module, m map[string]any, deps providers.Deps) P {
	t.Helper()
	cfg, ps := mod.Parse(config.SectionFromMap(m))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(deps)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := any(p).(P)
	if !ok {
		t.Fatalf("%s: the provider is a %T", mod.ID, p)
	}
	return out
}

// TestClient is a provider config with the test client (backstage-client,
// backstage-secret) and a 1s timeout, plus extra.
func TestClient(extra map[string]any) map[string]any {
	m := map[string]any{"clientId": "backstage-client", "clientSecret": "backstage-secret", "timeout": "1s"}
	maps.Copy(m, extra)
	return m
}

// Message is err's Backstage message, "<nil>" for none.
func Message(err error) string {
	if err == nil {
		return "<nil>"
	}
	return backstageerr.MessageOf(err)
}

// False is a new false *bool (a mock user whose email is not verified).
func False() *bool { f := false; return &f }

// ConfigProblem is a config (M) that mod must refuse with a problem at Path whose
// message contains Says.
type ConfigProblem struct {
	M          map[string]any
	Path, Says string
}

// ConfigProblems parses each case's config as mod's and checks its problem.
func ConfigProblems(t *testing.T, mod providers.Module, cases []ConfigProblem) {
	t.Helper()
	for _, tc := range cases {
		if _, ps := mod.Parse(config.SectionFromMap(tc.M)); !HasProblem(ps, tc.Path, tc.Says) {
			t.Errorf("%v: want a problem at %s saying %q, got %v", tc.M, tc.Path, tc.Says, ps.Errors())
		}
	}
}

// With is a copy of base with key set to v, or without key when v is nil.
func With(base map[string]any, key string, v any) map[string]any {
	m := maps.Clone(base)
	if v == nil {
		delete(m, key)
	} else {
		m[key] = v
	}
	return m
}
