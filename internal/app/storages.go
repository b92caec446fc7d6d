//go:build !oidc_no_dynamodb

package app

import "github.com/serverless-oidc/op/internal/store"

// storages are the storage backends New opens from.
var storages = store.Backends
