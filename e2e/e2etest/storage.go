package e2etest

import (
	"fmt"
	"time"
)

// MemoryStorage is the storage section of a provider on the memory store.
const MemoryStorage = "storage: {type: memory}"

// DynamoDBStorage is the storage section of a provider on a fresh table,
// named after prefix, of the DynamoDB Local at endpoint (the tests'
// emulatortest.SharedDynamoDBLocal).
func DynamoDBStorage(prefix, endpoint string) string {
	return fmt.Sprintf("storage:\n  type: dynamodb\n  config: {table: %s-%d, endpoint: %s, createTable: true}",
		prefix, time.Now().UnixNano(), endpoint)
}

// Storages are the two stores a flow is proved on: memory, and DynamoDB
// Local at endpoint.
func Storages(prefix, endpoint string) []struct{ Name, YAML string } {
	return []struct{ Name, YAML string }{{"memory", MemoryStorage}, {"dynamodb", DynamoDBStorage(prefix, endpoint)}}
}
