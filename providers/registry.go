package providers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Module is a provider package's registration: its Backstage id, its kind, how to
// decode and validate one config section, and the sign-in resolvers it adds to
// resolvers.Common. cmd registers every module once; nothing else names a provider.
type Module struct {
	// ID is the provider id: the URL segment under /api/auth, the cookie prefix and the
	// key under auth.providers.
	ID   string
	Kind Kind
	// NewConfig returns a pointer to a new typed config for one section (an environment
	// of an OAuth provider, or the whole section of a proxy provider) with its defaults
	// set. config.Decode fills it; keys no field names are warnings.
	NewConfig func() Config
	// Resolvers are the module's own sign-in resolvers; one named like a common
	// resolver replaces it for this provider.
	Resolvers []resolvers.Factory
}

// frameworkKeys are the keys the registry reads for every section of a kind.
func (m Module) frameworkKeys() []string {
	if m.Kind == KindProxy {
		return config.FieldKeys(&proxyCommon{})
	}
	return config.FieldKeys(&oauthCommon{})
}

// Parse decodes and validates one section with the module's own config (the
// framework keys are left to the registry).
func (m Module) Parse(sec config.Section) (Config, config.Problems) {
	cfg := m.NewConfig()
	ps := config.Decode(sec, cfg, config.DecodeOptions{Known: m.frameworkKeys()})
	return cfg, append(ps, cfg.Validate(sec)...)
}

// Config is one decoded provider section.
type Config interface {
	// Validate reports every semantic problem with its path (sec is the section the
	// config was decoded from) and derives what Build needs.
	Validate(sec config.Section) config.Problems
	// Build returns the provider (an OAuthProvider or a ProxyProvider, per the module's
	// Kind) without touching the network.
	Build(deps Deps) (Provider, error)
}

// CodeResolver is implemented by a Config whose module signs users in with a resolver
// of its own, as a Backstage module passes one in code (the guest provider). For proxy
// providers it wins over signIn config; for OAuth providers signIn config wins.
type CodeResolver interface {
	SignInResolver(cat resolvers.Catalog) resolvers.Resolver
}

// Deps are what a provider may use. Providers know nothing of tokens, storage or the
// catalog.
type Deps struct {
	// Logger is already scoped to the provider and environment (never nil).
	Logger *slog.Logger
	// HTTPClient is for IdP calls (nil: the provider makes its own).
	HTTPClient *http.Client
	// Now is the clock (never nil).
	Now func() time.Time
	// DevelopmentMode is NODE_ENV=development.
	DevelopmentMode bool
}

// reservedIDs are first path segments under /api/auth that the router's own routes use.
var reservedIDs = map[string]bool{".well-known": true, ".backstage": true, "v1": true}

// Registry holds the registered modules by id.
type Registry struct {
	mods map[string]Module
}

// NewRegistry registers mods; an id registered twice, an empty or reserved id, or a
// module without a kind or config is an error.
func NewRegistry(mods ...Module) (*Registry, error) {
	r := &Registry{mods: make(map[string]Module, len(mods))}
	for _, m := range mods {
		switch {
		case m.ID == "" || strings.ContainsAny(m.ID, "/?#%") || !config.IsValidKey(m.ID) || reservedIDs[m.ID]:
			return nil, fmt.Errorf("providers: invalid provider id %q", m.ID)
		case m.Kind != KindOAuth && m.Kind != KindProxy:
			return nil, fmt.Errorf("providers: module %q has no kind", m.ID)
		case m.NewConfig == nil:
			return nil, fmt.Errorf("providers: module %q has no NewConfig", m.ID)
		}
		if _, dup := r.mods[m.ID]; dup {
			return nil, fmt.Errorf("providers: provider id %q is registered twice", m.ID)
		}
		r.mods[m.ID] = m
	}
	return r, nil
}

// IDs lists the registered provider ids, sorted.
func (r *Registry) IDs() []string {
	ids := make([]string, 0, len(r.mods))
	for id := range r.mods {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Module returns the module registered for id.
func (r *Registry) Module(id string) (Module, bool) {
	m, ok := r.mods[id]
	return m, ok
}

// Decoded is the decoded, validated configuration of every configured provider, not
// yet built.
type Decoded struct {
	Providers []DecodedProvider
}

// DecodedProvider is one configured provider.
type DecodedProvider struct {
	Module Module
	// Envs are the environments (sorted by name); a proxy provider has one, named "".
	Envs []DecodedEnv
}

// DecodedEnv is one decoded provider section.
type DecodedEnv struct {
	Name    string
	Section config.Section
	Config  Config
	// CallbackURL is the configured callbackUrl ("" = AUTH/<id>/handler/frame).
	CallbackURL string
	// SessionDuration is sessionDuration (0 = the default).
	SessionDuration time.Duration
	// SignIn is the decoded signIn section; nil when there is none.
	SignIn *resolvers.SignInConfig
}

// commonKeys are read by the framework for every environment, not by the module:
// Backstage's createOAuthProviderFactory / createProxyAuthProviderFactory.
type oauthCommon struct {
	CallbackURL     string         `config:"callbackUrl"`
	SessionDuration *time.Duration `config:"sessionDuration"`
	SignIn          config.Section `config:"signIn"`
}

type proxyCommon struct {
	SignIn config.Section `config:"signIn"`
}

// Decode decodes and validates auth.providers (id -> section) against the registered
// modules and returns every problem: each module's own, the framework keys', and the
// sign-in resolvers'. A configured id with no module is a warning (ignored, as
// Backstage ignores config nothing reads).
func (r *Registry) Decode(sections map[string]config.Section) (*Decoded, config.Problems) {
	ids := make([]string, 0, len(sections))
	for id := range sections {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	d := &Decoded{}
	var ps config.Problems
	for _, id := range ids {
		sec := sections[id]
		m, ok := r.mods[id]
		if !ok {
			ps = append(ps, sec.Warning("", "no provider module for %q is built into this server (available: %s); ignored", id, strings.Join(r.IDs(), ", ")))
			continue
		}
		dp := DecodedProvider{Module: m}
		set := resolvers.NewSet(m.Resolvers...)
		if m.Kind == KindProxy {
			env, eps := decodeProxy(m, sec, set)
			ps = append(ps, eps...)
			dp.Envs = append(dp.Envs, env)
		} else {
			for _, name := range sec.Keys() {
				if !sec.IsObject(name) {
					ps = append(ps, sec.Problem(name, "must be an object (an environment such as development or production), got %s", config.TypeName(sec.Raw(name))))
					continue
				}
				env, eps := decodeOAuth(m, name, sec.Sub(name), set)
				ps = append(ps, eps...)
				dp.Envs = append(dp.Envs, env)
			}
		}
		d.Providers = append(d.Providers, dp)
	}
	return d, ps
}

func decodeOAuth(m Module, name string, sec config.Section, set resolvers.Set) (DecodedEnv, config.Problems) {
	var common oauthCommon
	ps := config.Decode(sec, &common, config.DecodeOptions{Unknown: config.UnknownKeysIgnore})
	cfg, cps := m.Parse(sec)
	ps = append(ps, cps...)
	if common.CallbackURL != "" {
		if u, err := url.Parse(common.CallbackURL); err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
			ps = append(ps, sec.Problem("callbackUrl", "must be an absolute http(s) URL, got %q", common.CallbackURL))
		}
	}
	var sessionDuration time.Duration
	if common.SessionDuration != nil {
		if sessionDuration = *common.SessionDuration; sessionDuration <= 0 {
			ps = append(ps, sec.Problem("sessionDuration", "must be greater than zero"))
		}
	}
	signIn, sps := resolvers.DecodeSignIn(common.SignIn, set)
	ps = append(ps, sps...)
	return DecodedEnv{Name: name, Section: sec, Config: cfg, CallbackURL: common.CallbackURL, SessionDuration: sessionDuration, SignIn: signIn}, ps
}

func decodeProxy(m Module, sec config.Section, set resolvers.Set) (DecodedEnv, config.Problems) {
	var common proxyCommon
	ps := config.Decode(sec, &common, config.DecodeOptions{Unknown: config.UnknownKeysIgnore})
	cfg, cps := m.Parse(sec)
	ps = append(ps, cps...)
	env := DecodedEnv{Section: sec, Config: cfg}
	if _, code := cfg.(CodeResolver); code {
		return env, ps // the module's resolver wins; signIn is not read
	}
	signIn, sps := resolvers.DecodeSignIn(common.SignIn, set)
	ps = append(ps, sps...)
	if signIn == nil && len(sps.Errors()) == 0 {
		ps = append(ps, sec.Problem("signIn", "No sign-in resolver configured for proxy auth provider '%s'", m.ID))
	}
	env.SignIn = signIn
	return env, ps
}

// Configured is one built provider with its environments, as the router serves it.
type Configured struct {
	ID   string
	Kind Kind
	// Envs by name; a proxy provider has one, named "".
	Envs map[string]*Env
}

// Env is one built provider environment.
type Env struct {
	Name     string
	Provider Provider
	// CallbackURL is the configured callbackUrl or AUTH/<id>/handler/frame.
	CallbackURL string
	// SessionDuration is the refresh-cookie lifetime (0 = default).
	SessionDuration time.Duration
	// Resolver resolves sign-ins; nil (OAuth only) means no backstageIdentity.
	Resolver resolvers.Resolver
	// ResolverNames are the configured resolvers, for the startup summary.
	ResolverNames []string
}

// BuildDeps are what Build needs besides the decoded config.
type BuildDeps struct {
	Logger     *slog.Logger
	HTTPClient *http.Client
	// HTTPClientFor, when set, gives each provider id its own client (cmd wraps the
	// transport to measure and trace IdP calls per provider); it wins over HTTPClient.
	HTTPClientFor   func(providerID string) *http.Client
	Now             func() time.Time
	DevelopmentMode bool
	// AuthBaseURL is the external auth base URL (…/api/auth), for default callback URLs.
	AuthBaseURL string
	// Catalog is what resolvers search; nil: every lookup answers NotFound.
	Catalog resolvers.Catalog
}

// Build builds every decoded provider and its resolvers; nothing touches the network.
func (d *Decoded) Build(deps BuildDeps) ([]Configured, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	var errs config.Problems
	out := make([]Configured, 0, len(d.Providers))
	for _, dp := range d.Providers {
		id := dp.Module.ID
		c := Configured{ID: id, Kind: dp.Module.Kind, Envs: make(map[string]*Env, len(dp.Envs))}
		for _, de := range dp.Envs {
			logger := deps.Logger.With("provider", id)
			if de.Name != "" {
				logger = logger.With("env", de.Name)
			}
			hc := deps.HTTPClient
			if deps.HTTPClientFor != nil {
				hc = deps.HTTPClientFor(id)
			}
			p, err := de.Config.Build(Deps{Logger: logger, HTTPClient: hc, Now: deps.Now, DevelopmentMode: deps.DevelopmentMode})
			if err == nil {
				err = checkKind(dp.Module.Kind, p)
			}
			if err != nil {
				errs = append(errs, de.Section.Problem("", "Failed to initialize %s auth provider, %v", id, err))
				continue
			}
			env := &Env{Name: de.Name, Provider: p, CallbackURL: de.CallbackURL, SessionDuration: de.SessionDuration}
			if env.CallbackURL == "" && dp.Module.Kind == KindOAuth {
				env.CallbackURL = strings.TrimSuffix(deps.AuthBaseURL, "/") + "/" + id + "/handler/frame"
			}
			if cr, ok := de.Config.(CodeResolver); ok && (dp.Module.Kind == KindProxy || de.SignIn == nil) {
				env.Resolver = cr.SignInResolver(deps.Catalog)
				env.ResolverNames = []string{"(built in)"}
			} else if de.SignIn != nil {
				env.Resolver = de.SignIn.BuildWith(resolvers.BuildDeps{Catalog: deps.Catalog, Logger: logger})
				env.ResolverNames = de.SignIn.Names()
			}
			c.Envs[de.Name] = env
		}
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

var errWrongKind = errors.New("the built provider does not implement its kind's interface")

func checkKind(k Kind, p Provider) error {
	switch k {
	case KindOAuth:
		if _, ok := p.(OAuthProvider); ok {
			return nil
		}
	case KindProxy:
		if _, ok := p.(ProxyProvider); ok {
			return nil
		}
	}
	return fmt.Errorf("%w (%s)", errWrongKind, k)
}
