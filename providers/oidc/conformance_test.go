package oidc_test

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

func TestConformance(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		New: func(t *testing.T, issuer string, k providertest.Knobs) providertest.Provider {
			m := map[string]any{"metadataUrl": issuer, "clientId": "backstage-client", "clientSecret": "backstage-secret"}
			if k.Prompt != "" {
				m["prompt"] = k.Prompt
			}
			if k.Timeout != 0 {
				m["timeout"] = k.Timeout.String()
			}
			cfg, ps := oidc.Module.Parse(config.SectionFromMap(m))
			if err := ps.Err(); err != nil {
				t.Fatal(err)
			}
			p, err := cfg.Build(providers.Deps{Now: k.Now})
			if err != nil {
				t.Fatal(err)
			}
			return p.(*oidc.Provider)
		},
		TokenAuthMethod: "client_secret_basic",
	})
}
