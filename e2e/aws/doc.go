// Package aws proves the provider on its AWS composition: DynamoDB (Amazon
// DynamoDB Local) and KMS (moto_server), reached through the real AWS SDK,
// driven by real relying-party libraries. It also counts the AWS calls each
// protocol step makes, so the round-trip budget of the design cannot drift.
package aws
