// Package connectors is the table of connector types: connectors[].type
// names one of them (config.ConnectorTypes lists the same names, so that
// Parse refuses any other in every function). A new type is a package
// with a config struct and an opener (see internal/connector), and one
// line here. The table lives apart from internal/connector, which every
// connector type imports: only the binaries that open connectors (the
// authorize and token functions, the local server) import it and link
// the connector types.
package connectors

import (
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/github"
	"github.com/serverless-oidc/op/internal/connector/oauth"
	"github.com/serverless-oidc/op/internal/connector/openid"
)

// Types maps each connector type to its opener.
var Types = map[string]connector.Opener{
	"github": github.Open,
	"oauth":  oauth.Open,
	"oidc":   openid.Open,
}
