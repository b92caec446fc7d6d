// Package connector is the table of callback connector types: each
// connectors[].type of the configuration names one of them. A connector
// type is a package (openid, oauth, github) with a config struct holding
// Dex's keys, decoded strictly from connectors[].config with
// config.Section.Decode, and an Opener; and one line in Types. The
// connectors themselves are AWS-free: what they need from outside (an HTTP
// client, the callback URL) comes in Env.
package connector

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Env is what an opener gets besides its config section.
type Env struct {
	// ID is the connector's id (connectors[].id).
	ID string
	// CallbackURL is the provider's callback (issuer + oidc.PathCallback):
	// the redirect URI to register upstream when the config names none.
	CallbackURL string
	// HTTPClient makes every upstream call; it has a timeout. Nil: a
	// client with a 10-second timeout.
	HTTPClient *http.Client
	// Logger receives the connector's warnings; nil discards them.
	Logger *slog.Logger
}

// Opener decodes a connector type's section (with section.Decode, which
// reports Dex's keys strictly) and returns the connector. It does no
// network I/O: an upstream's metadata is fetched at first use and cached.
type Opener func(ctx context.Context, section config.Section, env Env) (oidc.CallbackConnector, error)

// Open is a connector type's Opener with its config struct C and its
// constructor: section decoded strictly into a C (which runs C's
// Validate), then build.
func Open[C any, K oidc.CallbackConnector](section config.Section, env Env, build func(C, Env) (K, error)) (oidc.CallbackConnector, error) {
	var c C
	if err := section.Decode(&c); err != nil {
		return nil, err
	}
	k, err := build(c, env)
	if err != nil {
		return nil, err // never a typed nil in the interface
	}
	return k, nil
}
