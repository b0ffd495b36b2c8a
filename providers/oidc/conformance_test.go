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
		New: func(t *testing.T, issuer string, k providertest.Knobs) providers.Provider {
			m := map[string]any{"metadataUrl": issuer, "clientId": "backstage-client", "clientSecret": "backstage-secret"}
			if k.Prompt != "" {
				m["prompt"] = k.Prompt
			}
			if k.Timeout != 0 {
				m["timeout"] = k.Timeout.String()
			}
			r := config.FromMap(m)
			cfg := oidc.ParseConfig(r)
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			p, err := oidc.New(cfg, oidc.Deps{Now: k.Now})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
		TokenAuthMethod: "client_secret_basic",
	})
}
