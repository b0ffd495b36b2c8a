package guest

import (
	"context"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func build(t *testing.T, dev bool, m map[string]any) (*Config, providers.ProxyProvider) {
	t.Helper()
	cfg, ps := Module.Parse(config.SectionFromMap(m))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(providers.Deps{DevelopmentMode: dev})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.(*Config), p.(providers.ProxyProvider)
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		name    string
		dev     bool
		cfg     map[string]any
		allowed bool
	}{
		{"development", true, map[string]any{}, true},
		{"production refused", false, map[string]any{}, false},
		{"production with dangerous flag", false, map[string]any{"dangerouslyAllowOutsideDevelopment": true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := build(t, tt.dev, tt.cfg)
			_, err := p.AuthenticateRequest(context.Background(), nil)
			if tt.allowed {
				if err != nil {
					t.Fatalf("AuthenticateRequest = %v, want nil", err)
				}
				return
			}
			if backstageerr.NameOf(err) != backstageerr.NameNotAllowed || err.Error() != NotAllowedMessage {
				t.Fatalf("got %v: %q", backstageerr.NameOf(err), err)
			}
		})
	}
}

type oneUser struct{ ref string }

func (c oneUser) FindUsers(context.Context, map[string]string) ([]resolvers.Entity, error) {
	return nil, nil
}

func (c oneUser) GetEntityByRef(_ context.Context, ref resolvers.EntityRef) (*resolvers.Entity, error) {
	if ref.String() != c.ref {
		return nil, backstageerr.NotFound("no")
	}
	return &resolvers.Entity{Kind: "User", Metadata: resolvers.EntityMetadata{Name: ref.Name, Namespace: ref.Namespace},
		Relations: []resolvers.Relation{{Type: "memberOf", TargetRef: "group:default/team"}}}, nil
}

func TestResolver(t *testing.T) {
	cfg, _ := build(t, true, map[string]any{"userEntityRef": "Guest", "ownershipEntityRefs": []any{"group:default/devs"}})
	id, err := cfg.SignInResolver(nil).Resolve(context.Background(), resolvers.SignInInfo{})
	if err != nil || id.UserEntityRef != "user:default/guest" || len(id.OwnershipEntityRefs) != 1 || id.OwnershipEntityRefs[0] != "group:default/devs" {
		t.Fatalf("not in catalog: %+v %v", id, err)
	}
	id, err = cfg.SignInResolver(oneUser{"user:default/guest"}).Resolve(context.Background(), resolvers.SignInInfo{})
	if err != nil || id.UserEntityRef != "user:default/guest" || len(id.OwnershipEntityRefs) != 2 {
		t.Fatalf("in catalog: %+v %v", id, err)
	}
	cfg, _ = build(t, true, map[string]any{})
	if cfg.ref.String() != DefaultUserEntityRef {
		t.Fatalf("default ref %s", cfg.ref)
	}
}

func TestInvalidUserEntityRef(t *testing.T) {
	_, ps := Module.Parse(config.SectionFromMap(map[string]any{"userEntityRef": "user:/x"}))
	if len(ps) != 1 || ps[0].Path != "userEntityRef" {
		t.Fatalf("problems = %v", ps)
	}
}
