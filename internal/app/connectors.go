package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// upstreamTimeout bounds every call to an upstream identity provider, so
// that a slow upstream fails the login with a clear error well within API
// Gateway's 30-second limit.
const upstreamTimeout = 10 * time.Second

// openConnectors opens the configured connectors with the types of
// b.Connectors, in login page order: the configured ones in file order,
// then the password database when enablePasswordDB is on (Dex appends it
// last). None configured: nil, and the core has the password database
// alone. Problems of every connector are reported together. It does no
// network I/O unless a value names a secret in AWS Secrets Manager, read
// once per secret.
func openConnectors(ctx context.Context, cfg *config.Config, b Backends, logger *slog.Logger) ([]oidc.Connector, error) {
	if len(cfg.Connectors) == 0 {
		return nil, nil
	}
	var secrets func(string) (string, error)
	var read *connector.Secrets
	if b.Secrets != nil {
		read = connector.NewSecrets(b.Secrets)
		secrets = read.Resolver(ctx)
	}
	client := &http.Client{Timeout: upstreamTimeout}
	var out []oidc.Connector
	var errs []error
	for _, cn := range cfg.Connectors {
		open, ok := b.Connectors[cn.Type]
		if !ok {
			errs = append(errs, cn.CheckType(slices.Collect(maps.Keys(b.Connectors))))
			continue
		}
		section := cn.Config
		if secrets != nil {
			section = section.WithSecrets(secrets)
		}
		cb, err := open(ctx, section, connector.Env{ID: cn.ID, CallbackURL: oidc.CallbackURL(cfg.Issuer, cn.ID),
			HTTPClient: client, Logger: logger.With(slog.String("connector", cn.ID))})
		if err != nil {
			errs = append(errs, connectorError(cn.ID, err))
			continue
		}
		out = append(out, oidc.Connector{ID: cn.ID, Type: cn.Type, Name: cn.Name, Callback: cb, UpstreamRefresh: cn.UpstreamRefresh})
	}
	if cfg.EnablePasswordDB {
		out = append(out, oidc.Connector{ID: oidc.ConnectorLocal, Type: oidc.ConnectorLocal, Name: "Email"})
	}
	if read != nil && read.Unavailable() && len(errs) > 0 {
		// A secret could not be read for now: worth another try.
		return nil, fmt.Errorf("%w: %w", oidc.ErrUnavailable, errors.Join(errs...))
	}
	return out, errors.Join(errs...)
}

// connectorError names the connector in an opener's error, unless it is
// configuration errors, which name their key path and line already.
func connectorError(id string, err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("connector %s: %w", id, err)
}

// connectorIDs are the ids of the connectors openConnectors opens, for
// the functions that do not open them (userinfo): nil when none is
// configured (the password database alone).
func connectorIDs(cfg *config.Config) []string {
	if len(cfg.Connectors) == 0 {
		return nil
	}
	var ids []string
	for _, cn := range cfg.Connectors {
		ids = append(ids, cn.ID)
	}
	if cfg.EnablePasswordDB {
		ids = append(ids, oidc.ConnectorLocal)
	}
	return ids
}
