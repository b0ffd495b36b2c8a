package main

import (
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/atlassian"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/auth0"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/awsalb"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/azureeasyauth"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/bitbucket"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/bitbucketserver"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/cfaccess"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/gcpiap"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/github"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/gitlab"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/google"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/guest"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/microsoft"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2proxy"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/okta"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/onelogin"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/openshift"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/pinniped"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/spectrocloud"
)

// modules are the provider modules built into this server: one line each.
func modules() []providers.Module {
	return []providers.Module{
		atlassian.Module,
		auth0.Module,
		awsalb.Module,
		azureeasyauth.Module,
		bitbucket.Module,
		bitbucketserver.Module,
		cfaccess.Module,
		gcpiap.Module,
		github.Module,
		gitlab.Module,
		google.Module,
		guest.Module,
		microsoft.Module,
		oauth2.Module,
		oauth2proxy.Module,
		oidc.Module,
		okta.Module,
		onelogin.Module,
		openshift.Module,
		pinniped.Module,
		spectrocloud.Module,
	}
}
