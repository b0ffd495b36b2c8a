package providertest

import (
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Chain decodes signIn.resolvers entries as config would, with a module's resolvers
// (and the common ones), and binds the chain to cat.
func Chain(t testing.TB, m providers.Module, cat resolvers.Catalog, entries ...map[string]any) resolvers.Resolver {
	t.Helper()
	items := make([]any, len(entries))
	for i, e := range entries {
		items[i] = e
	}
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"resolvers": items}), resolvers.NewSet(m.Resolvers...))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	return sc.Build(cat)
}

// SignInInfo is what the router hands the resolvers for a result.
func SignInInfo(res providers.Result) resolvers.SignInInfo {
	return resolvers.SignInInfo{Email: res.Profile.Email, Claims: res.Claims}
}

// EngineSignIn is the sign-in an oauth2engine provider makes of this full profile and
// these verified ID token claims (with the default profile transform).
func EngineSignIn(fp *oauth2engine.FullProfile, idClaims map[string]any) resolvers.SignInInfo {
	e, err := oauth2engine.New(oauth2engine.Config{ClientID: "c", AuthorizationURL: "https://idp.test/authorize", TokenURL: "https://idp.test/token"}, oauth2engine.Hooks{}, providers.Deps{})
	if err != nil {
		panic(err)
	}
	return SignInInfo(e.Result(&oauth2engine.Token{AccessToken: "x"}, fp, idClaims))
}

// HasProblem reports whether ps has an error at path whose message contains says.
func HasProblem(ps config.Problems, path, says string) bool {
	for _, p := range ps.Errors() {
		if p.Path == path && strings.Contains(p.Message, says) {
			return true
		}
	}
	return false
}

// RegistryResolvers checks which resolver names an environment of m (with the keys
// env) may use: each of ok decodes, each of refused is a config error naming it.
func RegistryResolvers(t *testing.T, m providers.Module, env map[string]any, ok, refused []string) {
	t.Helper()
	reg, err := providers.NewRegistry(m)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(resolver string) map[string]config.Section {
		e := map[string]any{"signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": resolver}}}}
		for k, v := range env {
			e[k] = v
		}
		return map[string]config.Section{m.ID: config.SectionFromMap(map[string]any{"development": e})}
	}
	for _, name := range ok {
		if _, ps := reg.Decode(sec(name)); ps.Err() != nil {
			t.Errorf("%s: %v", name, ps.Err())
		}
	}
	for _, name := range refused {
		if _, ps := reg.Decode(sec(name)); ps.Err() == nil || !strings.Contains(ps.Err().Error(), name) {
			t.Errorf("%s: want a config error naming it, got %v", name, ps.Err())
		}
	}
}
