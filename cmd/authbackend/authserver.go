package main

import (
	"context"
	"encoding/json"

	"github.com/spectrocloud-labs/backstage-auth-go/actions"
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

// catalogEntities is the who-am-i action's view of the sign-in catalog.
type catalogEntities struct{ cat resolvers.Catalog }

func actionsCatalog(cat resolvers.Catalog) actions.Catalog {
	if cat == nil {
		return nil
	}
	return catalogEntities{cat}
}

func (c catalogEntities) UserEntity(ctx context.Context, ref string) (json.RawMessage, error) {
	r, err := jsrules.ParseEntityRef(ref, "user", "")
	if err != nil {
		return nil, nil
	}
	e, err := c.cat.GetEntityByRef(ctx, r)
	if backstageerr.IsNotFound(err) || (err == nil && e == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(e)
}
