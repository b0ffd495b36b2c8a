// Package actions is the auth plugin's actions registry: the HTTP routes of
// backend-defaults' DefaultActionsRegistryService (/.backstage/actions/v1/actions,
// /.backstage/actions/v1/status and the v1 and v2 invoke routes) serving the one
// action @backstage/plugin-auth-backend 0.31 registers, auth:who-am-i. The MCP actions
// plugin (@backstage/plugin-mcp-actions-backend) of another backend lists and invokes
// it with a plugin token on behalf of the MCP client's user.
//
// It authenticates requests through the Authenticator seam (tokens.Authenticator:
// plugin tokens verified with the calling backend's published keys, their obo limited
// user token and user tokens with ours, static external-access tokens) and reads the
// user's entity and ownership through the Catalog and UserInfo seams; cmd wires them
// and the router (authbackend) mounts the routes under /api/auth.
package actions
