//go:build oidc_no_dynamodb

package app

import (
	"context"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/store/memory"
)

// storages, in a function built without DynamoDB (see BuildTags), open
// type dynamodb as a process-local store that its routes never reach: they
// serve discovery or keys only.
var storages = map[string]backend.StorageOpener{
	"memory": memory.Open,
	"dynamodb": func(_ context.Context, _ config.Section, env backend.Env) (backend.Storage, error) {
		return memory.New(env.Now), nil
	},
}
