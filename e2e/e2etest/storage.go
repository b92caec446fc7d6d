package e2etest

import (
	"fmt"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
)

// MemoryStorage is the storage section of a provider on the memory store.
const MemoryStorage = "storage: {type: memory}"

// DynamoDBStorage is the storage section of a provider on a fresh table,
// named after prefix, of the shared DynamoDB Local (started on first use;
// the package's TestMain stops it).
func DynamoDBStorage(t testing.TB, prefix string) string {
	return fmt.Sprintf("storage:\n  type: dynamodb\n  config: {table: %s-%d, endpoint: %s, createTable: true}",
		prefix, time.Now().UnixNano(), emulatortest.SharedDynamoDBLocal(t))
}

// Storages are the two stores a flow is proved on: memory, and DynamoDB
// Local.
func Storages(t testing.TB, prefix string) []struct{ Name, YAML string } {
	return []struct{ Name, YAML string }{{"memory", MemoryStorage}, {"dynamodb", DynamoDBStorage(t, prefix)}}
}
