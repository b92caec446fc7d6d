package memory

import (
	"context"
	"errors"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
)

// Config is storage.config for type memory: the store takes no settings,
// so any key is unknown.
type Config struct{}

var _ backend.StorageOpener = Open

// ErrInLambda is the error of Open in AWS Lambda without
// extensions.allowInstanceState.
var ErrInLambda = errors.New("storage type memory: refused in AWS Lambda, where each function and instance would keep its own logins, codes and sessions: set " +
	config.EnvDynamoDBTable + " (or, for a demo, " + config.KeyAllowInstanceState + ": true)")

// Open is the opener of storage type memory: an empty store that lives and
// dies with the process. In Lambda a login started in one instance cannot
// finish in another, and the authorize and token functions never share
// codes, so there it fails with ErrInLambda unless env.AllowInstanceState
// (extensions.allowInstanceState, for single-instance smoke tests) is set,
// and then it warns.
func Open(ctx context.Context, section config.Section, env backend.Env) (backend.Storage, error) {
	if err := section.Decode(&Config{}); err != nil {
		return nil, err
	}
	if env.Lambda {
		if !env.AllowInstanceState {
			return nil, ErrInLambda
		}
		env.Logger.WarnContext(ctx, "oidc: memory storage lives in one Lambda instance ("+config.KeyAllowInstanceState+" is set): logins cannot complete across functions or instances; set "+config.EnvDynamoDBTable)
	}
	return New(env.Now), nil
}
