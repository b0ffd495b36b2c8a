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
