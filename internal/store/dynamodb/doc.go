// Package dynamodb is the production store: every item of the provider in
// one DynamoDB table (on-demand capacity, partition key pk, sort key sk, TTL
// on ttl), written with conditional writes and transactions so that each
// atomicity contract of the storage interfaces in package oidc holds under
// concurrent Lambda invocations. It passes the same contract suite
// (oidctest.TestStorage) as the memory store, run against DynamoDB Local.
//
// It owns the table design: TableSchema is the one definition of the table
// that the SAM template and the CDK stack are tested against, and the key
// patterns of every item type, present and planned, are documented in
// docs/dynamodb.md and next to their key functions in keys.go.
//
// Expiry is enforced in code: every read treats an item whose expiry has
// passed as absent and every conditional write checks it, at millisecond
// precision (attribute exp). DynamoDB TTL (attribute ttl, epoch seconds)
// only reclaims space, up to days late.
//
// Throttling, server errors, timeouts and network failures are returned
// wrapped so that errors.Is(err, oidc.ErrUnavailable); their text names the
// AWS error code for the log.
package dynamodb
