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
// dies with the process.
func Open(_ context.Context, section config.Section, env backend.Env) (backend.Storage, error) {
	if err := section.Decode(&Config{}); err != nil {
		return nil, err
	}
	return New(env.Now), nil
}
