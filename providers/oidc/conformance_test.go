package oidc_test

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

func conformanceHarness(idp mockpalette.Personality) providertest.Harness {
	return providertest.Harness{
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
		IdP:             idp,
		TokenAuthMethod: "client_secret_basic",
	}
}

// The generic provider is held to OpenID Connect, against an IdP that follows it.
func TestConformance(t *testing.T) {
	providertest.RunConformance(t, conformanceHarness(mockpalette.GenericOIDC))
}

// Pointed at Palette (auth.providers.oidc with Palette's issuer) it must still behave:
// Palette's session token is never redeemed nor revoked.
func TestConformanceWithPalette(t *testing.T) {
	providertest.RunConformance(t, conformanceHarness(mockpalette.Palette))
}
