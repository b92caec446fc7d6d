package memory

import (
	"context"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
)

// Config is storage.config for type memory: the store takes no settings,
// so any key is unknown.
type Config struct{}

var _ backend.StorageOpener = Open

// Open is the opener of storage type memory: an empty store that lives and
// dies with the process. In Lambda it warns: a login started in one
// instance cannot finish in another, and the authorize and token functions
// never share codes; it serves single-instance smoke tests.
func Open(ctx context.Context, section config.Section, env backend.Env) (backend.Storage, error) {
	if err := section.Decode(&Config{}); err != nil {
		return nil, err
	}
	if env.Lambda {
		env.Logger.WarnContext(ctx, "oidc: memory storage lives in one Lambda instance: logins cannot complete across functions or instances; set "+config.EnvDynamoDBTable)
	}
	return New(env.Now), nil
}
