// Package awsbench measures the provider's latency end to end on its AWS
// composition, with realistic AWS latency added; it has no code of its own.
//
// BenchmarkAWSLatency builds the five real functions/<name> bootstraps,
// runs each under a small in-test Lambda Runtime API, and plays API Gateway
// (HTTP API, payload 2.0) in front of them. The functions use DynamoDB
// storage on Amazon DynamoDB Local and the KMS signer on moto_server, each
// reached through a loopback reverse proxy that sleeps per call as AWS would
// take (DynamoDB 4 ms for every call, KMS Sign 12 ms, GetPublicKey 10 ms,
// each ±25 % uniform jitter) and records every call with its start and end.
//
// Each scenario (discovery, JWKS warm, authorize with and without a
// session, the login POST, code exchange, refresh, userinfo) is a
// sub-benchmark reporting p50-ms and p99-ms of the invocation (event sent to
// response posted), aws-calls/op (all AWS calls) and aws-seq/op (the calls
// on the critical path: calls whose proxy intervals overlap count once).
//
// Latencies are reported, never asserted: the round-trip budgets of the
// design are asserted by counting calls in e2e/aws (TestRoundTrips). Run it
// with `make bench-aws`; there are no tests here, so `make test` runs
// nothing of it.
package awsbench
