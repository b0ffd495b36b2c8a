package providers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// throwaway is a provider module that exists only in this test file.
type throwawayConfig struct {
	Greeting string `config:"greeting,required"`
	Loud     bool   `config:"loud"`
	built    *throwawayProvider
}

func (c *throwawayConfig) Validate(sec config.Section) config.Problems {
	if c.Greeting == "bye" {
		return config.Problems{sec.Problem("greeting", "must not be a farewell")}
	}
	return nil
}

func (c *throwawayConfig) Build(providers.Deps) (providers.Provider, error) {
	c.built = &throwawayProvider{greeting: c.Greeting}
	return c.built, nil
}

type throwawayProvider struct{ greeting string }

func (p *throwawayProvider) Start(context.Context, providers.StartRequest) (providers.StartResult, error) {
	return providers.StartResult{URL: "https://idp.test/" + p.greeting}, nil
}

func (p *throwawayProvider) Authenticate(context.Context, providers.CallbackRequest) (providers.Result, error) {
	return providers.Result{}, nil
}

// refreshingProvider adds the optional Refresher capability.
type refreshingProvider struct{ throwawayProvider }

func (p *refreshingProvider) Refresh(context.Context, providers.RefreshRequest) (providers.Result, error) {
	return providers.Result{}, nil
}

func throwawayModule(id string) providers.Module {
	return providers.Module{ID: id, Kind: providers.KindOAuth, NewConfig: func() providers.Config { return &throwawayConfig{} }}
}

func TestNewRegistryRefusesBadModules(t *testing.T) {
	for name, mods := range map[string][]providers.Module{
		"duplicate id": {throwawayModule("x"), throwawayModule("x")},
		"empty id":     {throwawayModule("")},
		"reserved id":  {throwawayModule("v1")},
		"invalid id":   {throwawayModule("a/b")},
		"no kind":      {{ID: "x", NewConfig: throwawayModule("x").NewConfig}},
		"no config":    {{ID: "x", Kind: providers.KindProxy}},
	} {
		if _, err := providers.NewRegistry(mods...); err == nil {
			t.Errorf("%s: registered", name)
		}
	}
	reg, err := providers.NewRegistry(throwawayModule("b"), throwawayModule("a"))
	if err != nil || strings.Join(reg.IDs(), ",") != "a,b" {
		t.Fatalf("ids %v, %v", reg.IDs(), err)
	}
}

func sections(tree map[string]any) map[string]config.Section {
	root := config.NewSection(map[string]any{"auth": map[string]any{"providers": tree}}, map[string]string{"": "app-config.yaml"})
	return config.ProviderSections(root.Sub("auth"))
}

func TestDecodeReportsEveryProblemTogether(t *testing.T) {
	reg, err := providers.NewRegistry(throwawayModule("hello"), throwawayModule("other"))
	if err != nil {
		t.Fatal(err)
	}
	_, ps := reg.Decode(sections(map[string]any{
		"hello": map[string]any{
			"development": map[string]any{"greeting": "bye", "sessionDuration": "0s"},
			"production":  map[string]any{"loud": "very", "callbackUrl": "/relative", "colour": "red"},
			"staging":     "not an object",
		},
		"other": map[string]any{"qa": map[string]any{"greeting": "hi", "signIn": map[string]any{"resolvers": []any{
			map[string]any{"resolver": "noSuchResolver"},
			map[string]any{"resolver": resolvers.NameEmailMatchingUserEntityProfileEmail, "allowedDomain": []any{"x"}},
		}}}},
		"github": map[string]any{"development": map[string]any{}},
	}))
	want := []struct {
		path, msg string
		warning   bool
	}{
		{"auth.providers.hello.development.greeting", "must not be a farewell", false},
		{"auth.providers.hello.development.sessionDuration", "must be greater than zero", false},
		{"auth.providers.hello.production.greeting", "missing required config value", false},
		{"auth.providers.hello.production.loud", "must be a boolean", false},
		{"auth.providers.hello.production.callbackUrl", "must be an absolute http(s) URL", false},
		{"auth.providers.hello.production.colour", "unknown key", true},
		{"auth.providers.hello.staging", "must be an object", false},
		{"auth.providers.other.qa.signIn.resolvers[0].resolver", "Sign-in resolver 'noSuchResolver' is not available", false},
		{"auth.providers.other.qa.signIn.resolvers[1].allowedDomain", "unknown key", false},
		{"auth.providers.github", "no provider module for \"github\"", true},
	}
	for _, w := range want {
		found := false
		for _, p := range ps {
			if p.Path == w.path && strings.Contains(p.Message, w.msg) && p.Warning == w.warning && p.File == "app-config.yaml" {
				found = true
			}
		}
		if !found {
			t.Errorf("missing problem %s: %s (warning %v) in\n%v", w.path, w.msg, w.warning, ps)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(ps), len(want), ps)
	}
}

func TestBuildDetectsCapabilities(t *testing.T) {
	plain := throwawayModule("plain")
	refreshing := providers.Module{ID: "refreshing", Kind: providers.KindOAuth, NewConfig: func() providers.Config { return &refreshingConfig{} }}
	reg, err := providers.NewRegistry(plain, refreshing)
	if err != nil {
		t.Fatal(err)
	}
	d, ps := reg.Decode(sections(map[string]any{
		"plain":      map[string]any{"development": map[string]any{"greeting": "hi"}},
		"refreshing": map[string]any{"development": map[string]any{"greeting": "hi", "callbackUrl": "https://app.test/cb"}},
	}))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	built, err := d.Build(providers.BuildDeps{AuthBaseURL: "https://backstage.test/api/auth/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 || built[0].ID != "plain" || built[1].ID != "refreshing" {
		t.Fatalf("built %+v", built)
	}
	pe, re := built[0].Envs["development"], built[1].Envs["development"]
	if _, ok := pe.Provider.(providers.Refresher); ok {
		t.Error("plain provider reported as a Refresher")
	}
	if _, ok := re.Provider.(providers.Refresher); !ok {
		t.Error("refreshing provider not detected as a Refresher")
	}
	if pe.CallbackURL != "https://backstage.test/api/auth/plain/handler/frame" || re.CallbackURL != "https://app.test/cb" {
		t.Errorf("callbacks %q %q", pe.CallbackURL, re.CallbackURL)
	}
	if pe.Resolver != nil {
		t.Error("a resolver without signIn config")
	}
}

type refreshingConfig struct{ throwawayConfig }

func (c *refreshingConfig) Build(providers.Deps) (providers.Provider, error) {
	return &refreshingProvider{throwawayProvider{greeting: c.Greeting}}, nil
}

// wrongKind builds something that is not an OAuth provider.
type wrongKindConfig struct{ throwawayConfig }

func (c *wrongKindConfig) Build(providers.Deps) (providers.Provider, error) { return "oops", nil }

type failingConfig struct{ throwawayConfig }

func (c *failingConfig) Build(providers.Deps) (providers.Provider, error) {
	return nil, errors.New("no can do")
}

func TestBuildErrors(t *testing.T) {
	for name, nc := range map[string]func() providers.Config{
		"wrong kind": func() providers.Config { return &wrongKindConfig{} },
		"failing":    func() providers.Config { return &failingConfig{} },
	} {
		reg, _ := providers.NewRegistry(providers.Module{ID: "x", Kind: providers.KindOAuth, NewConfig: nc})
		d, ps := reg.Decode(sections(map[string]any{"x": map[string]any{"development": map[string]any{"greeting": "hi"}}}))
		if ps.Err() != nil {
			t.Fatal(ps)
		}
		if _, err := d.Build(providers.BuildDeps{}); err == nil || !strings.Contains(err.Error(), "auth.providers.x.development: Failed to initialize x auth provider") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// proxy modules: flat config; a resolver is required unless the module brings one.
type proxyConfig struct {
	Header string `config:"header"`
}

func (c *proxyConfig) Validate(config.Section) config.Problems { return nil }
func (c *proxyConfig) Build(providers.Deps) (providers.Provider, error) {
	return proxyProvider{}, nil
}

type proxyProvider struct{}

func (proxyProvider) AuthenticateRequest(context.Context, *http.Request) (providers.ProxyResult, error) {
	return providers.ProxyResult{}, nil
}

type codeResolverConfig struct{ proxyConfig }

func (c *codeResolverConfig) SignInResolver(resolvers.Catalog) resolvers.Resolver {
	return resolvers.ResolverFunc(func(context.Context, resolvers.SignInInfo) (resolvers.Identity, error) {
		return resolvers.Identity{UserEntityRef: "user:default/coded"}, nil
	})
}

func TestProxyModules(t *testing.T) {
	own := resolvers.Factory{Name: "headerMatchingUserEntityName", NewOptions: resolvers.Common()[0].NewOptions}
	reg, err := providers.NewRegistry(
		providers.Module{ID: "needsResolver", Kind: providers.KindProxy, NewConfig: func() providers.Config { return &proxyConfig{} }, Resolvers: []resolvers.Factory{own}},
		providers.Module{ID: "coded", Kind: providers.KindProxy, NewConfig: func() providers.Config { return &codeResolverConfig{} }},
	)
	if err != nil {
		t.Fatal(err)
	}
	_, ps := reg.Decode(sections(map[string]any{"needsResolver": map[string]any{"header": "x"}, "coded": map[string]any{}}))
	if len(ps) != 1 || ps[0].Path != "auth.providers.needsResolver.signIn" || !strings.Contains(ps[0].Message, "No sign-in resolver configured for proxy auth provider 'needsResolver'") {
		t.Fatalf("problems = %v", ps)
	}
	d, ps := reg.Decode(sections(map[string]any{
		"needsResolver": map[string]any{"header": "x", "signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": "headerMatchingUserEntityName"}}}},
		"coded":         map[string]any{"signIn": map[string]any{"resolvers": []any{map[string]any{"resolver": "ignored"}}}},
	}))
	if len(ps) != 0 {
		t.Fatalf("problems = %v", ps)
	}
	built, err := d.Build(providers.BuildDeps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range built {
		e, ok := c.Envs[""]
		if !ok || len(c.Envs) != 1 || e.Resolver == nil || c.Kind != providers.KindProxy {
			t.Fatalf("%s: envs %+v", c.ID, c.Envs)
		}
	}
	id, err := built[0].Envs[""].Resolver.Resolve(context.Background(), resolvers.SignInInfo{})
	if built[0].ID != "coded" || err != nil || id.UserEntityRef != "user:default/coded" {
		t.Fatalf("the code resolver did not win: %s %+v %v", built[0].ID, id, err)
	}
}
