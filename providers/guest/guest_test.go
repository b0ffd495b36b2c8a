package guest

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		name    string
		dev     bool
		cfg     *config.GuestConfig
		allowed bool
	}{
		{"development", true, &config.GuestConfig{}, true},
		{"development without config", true, nil, true},
		{"production refused", false, &config.GuestConfig{}, false},
		{"production without config refused", false, nil, false},
		{"production with dangerous flag", false, &config.GuestConfig{DangerouslyAllowOutsideDevelopment: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Allowed(tt.dev, tt.cfg)
			if tt.allowed {
				if err != nil {
					t.Fatalf("Allowed = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Allowed = nil, want NotAllowedError")
			}
			if backstageerr.NameOf(err) != backstageerr.NameNotAllowed || err.Error() != NotAllowedMessage {
				t.Fatalf("got %s: %q", backstageerr.NameOf(err), err.Error())
			}
		})
	}
}
