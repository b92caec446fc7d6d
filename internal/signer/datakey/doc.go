// Package datakey is the opt-in "data-key" signer (signer.type
// kms-datakey): signing keys are generated in the provider, wrapped under a
// symmetric KMS key with kms:Encrypt, and stored, wrapped, in the
// provider's DynamoDB table beside their public halves in clear. A
// container unwraps a key with one kms:Decrypt the first time it signs with
// it and signs locally from then on: zero KMS calls per token once warm,
// where the kms signer makes one kms:Sign per signature. The jwks function
// reads public keys only and never decrypts; userinfo (Options.SignOnly)
// unwraps the current key for signed userinfo but never makes or renews
// one.
//
// It owns the key items (pk SIGNKEY#set), their rotation (a key is
// published PublishLead before it signs and kept until every token it
// signed has expired; concurrent creators are serialised by a conditional
// transaction on the manifest), the manifest that authenticates the set
// under a KMS MAC (manifest.go, trust.go: replays bounded by its validity,
// rollbacks refused by its issue time) and the encryption context that
// IAM policies scope kms:Decrypt with. docs/kms.md weighs this mode
// against KMS-only signing.
package datakey
