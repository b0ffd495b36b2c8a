package guest

import (
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// NotAllowedMessage is Backstage's refusal outside development.
const NotAllowedMessage = "The guest provider cannot be used outside of a development environment unless 'auth.providers.guest.dangerouslyAllowOutsideDevelopment' is enabled"

// Allowed returns nil when the guest provider may sign users in: in development mode,
// or when cfg sets dangerouslyAllowOutsideDevelopment. Otherwise it returns Backstage's
// NotAllowedError. A nil cfg (provider not configured) is refused outside development.
func Allowed(devMode bool, cfg *config.GuestConfig) error {
	if devMode || (cfg != nil && cfg.DangerouslyAllowOutsideDevelopment) {
		return nil
	}
	return backstageerr.NotAllowed(NotAllowedMessage)
}
