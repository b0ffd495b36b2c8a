package main

import (
	"context"

	"github.com/spectrocloud-labs/backstage-auth-go/authserver"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// catalogUserDirectory is the refresh grant's catalog presence check over the sign-in
// catalog.
type catalogUserDirectory struct{ cat resolvers.Catalog }

func catalogUsers(cat resolvers.Catalog) authserver.UserDirectory {
	if cat == nil {
		return nil
	}
	return catalogUserDirectory{cat}
}

func (d catalogUserDirectory) UserExists(ctx context.Context, ref string) (bool, error) {
	r, err := jsrules.ParseEntityRef(ref, "user", "")
	if err != nil {
		return false, nil
	}
	e, err := d.cat.GetEntityByRef(ctx, r)
	if backstageerr.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return e != nil, nil
}
