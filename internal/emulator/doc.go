// Package emulator runs the real components that stand in for AWS services
// in tests and local development: Amazon DynamoDB Local (LaunchDynamoDBLocal)
// and moto_server for KMS (LaunchMoto).
//
// It owns their process management, written once in Process: launch a
// server on a free loopback port, wait until it answers HTTP, keep the tail
// of its output for error messages, stop it leaving no process behind, and a
// watchdog that ends the server when its parent dies for any reason (a test
// binary killed by a timeout, a dev tool killed by a signal).
//
// A missing component is an error naming the command that installs it. The
// package does not import testing, so dev tools (internal/tools/devdynamodb,
// `make run-dynamodb`) use it; tests use the testing.TB helpers of
// emulatortest, which turn such an error into a failure, never a skip: a
// green run must mean the real component was exercised.
package emulator
