package iac

import (
	"slices"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Signing modes of a deployment: template.yaml's SigningMode parameter,
// the CDK's signingMode context value.
const (
	// SigningModeKMS signs every token with kms:Sign on asymmetric keys
	// (OIDC_KMS_KEY_IDS; KMSActions). The default.
	SigningModeKMS = "kms"
	// SigningModeDataKey signs in process with keys wrapped under a
	// symmetric KMS key and kept in the table, the set authenticated by a
	// KMS HMAC key (signer kms-datakey, OIDC_KMS_WRAPPING_KEY,
	// OIDC_KMS_MAC_KEY; DataKeyKMSActions, DataKeyMACActions,
	// DataKeyDynamoDBActions).
	SigningModeDataKey = "datakey"
)

// SigningModes lists the modes, the default first.
var SigningModes = []string{SigningModeKMS, SigningModeDataKey}

// SigningModeCondition is the template condition that holds in each mode:
// the statements and resources of a mode are under it.
var SigningModeCondition = map[string]string{
	SigningModeKMS:     "KMSSigning",
	SigningModeDataKey: "DataKeySigning",
}

// The data-key signer's encryption context (datakey.ContextPurpose and
// datakey.PurposeValue; tested equal): the KMS statements of the data-key
// mode hold only under it, so the roles decrypt signing keys and nothing
// else under the wrapping key.
const (
	EncryptionContextPurposeKey = "kms:EncryptionContext:purpose"
	EncryptionContextPurpose    = "oidc-signing-key"
)

// DataKeyCondition is the Condition of every data-key KMS statement.
func DataKeyCondition() map[string]any {
	return map[string]any{"StringEquals": map[string]any{EncryptionContextPurposeKey: EncryptionContextPurpose}}
}

// DataKeyKMSActions are the KMS actions each function needs on the
// wrapping key in data-key mode (docs/kms.md, "Data-key mode"): the
// functions that sign tokens unwrap keys (Decrypt) and make the first key
// of a deployment and its successors (Encrypt); userinfo unwraps the
// current key for the clients that ask for signed userinfo (Decrypt, once
// per container) but never makes one (its signer is sign-only); jwks
// reads the public keys, stored in clear, and needs no KMS action.
var DataKeyKMSActions = map[string][]string{
	oidc.FunctionAuthorize: {"kms:Decrypt", "kms:Encrypt"},
	oidc.FunctionToken:     {"kms:Decrypt", "kms:Encrypt"},
	oidc.FunctionUserInfo:  {"kms:Decrypt"},
	oidc.FunctionDiscovery: nil,
	oidc.FunctionJWKS:      nil,
}

// DataKeyMACActions are the KMS actions each function needs on the MAC
// key (HMAC_256) in data-key mode: the functions that write the key set
// MAC its manifest (GenerateMac) and, like every function that reads the
// set (jwks, userinfo), verify it (VerifyMac). None decrypts with it.
var DataKeyMACActions = map[string][]string{
	oidc.FunctionAuthorize: {"kms:GenerateMac", "kms:VerifyMac"},
	oidc.FunctionToken:     {"kms:GenerateMac", "kms:VerifyMac"},
	oidc.FunctionUserInfo:  {"kms:VerifyMac"},
	oidc.FunctionDiscovery: nil,
	oidc.FunctionJWKS:      {"kms:VerifyMac"},
}

// MACAlgorithmKey and MACAlgorithm: the MAC statements hold only for the
// manifest's MAC algorithm (datakey.MACAlgorithm; tested equal).
const (
	MACAlgorithmKey = "kms:MacAlgorithm"
	MACAlgorithm    = "HMAC_SHA_256"
)

// DataKeyMACCondition is the Condition of every MAC key statement.
func DataKeyMACCondition() map[string]any {
	return map[string]any{"StringEquals": map[string]any{MACAlgorithmKey: MACAlgorithm}}
}

// DataKeySettings are the data-key signer's settings a deployment chooses:
// environment variable → template.yaml parameter (the CDK app's context
// key is the parameter name with a lower-case first letter). Each
// function gets the variable in data-key mode, empty otherwise.
var DataKeySettings = map[string]string{
	config.EnvSigningAlgorithm:           "DataKeyAlgorithm",
	config.EnvDataKeyRotationPeriod:      "DataKeyRotationPeriod",
	config.EnvDataKeyVerificationOverlap: "DataKeyVerificationOverlap",
}

// DataKeyDefaults are the deployments' defaults of DataKeySettings, by
// variable: RS256 ID tokens, a new key every 90 days, the least overlap.
var DataKeyDefaults = map[string]string{
	config.EnvSigningAlgorithm:           oidc.RS256,
	config.EnvDataKeyRotationPeriod:      "2160h",
	config.EnvDataKeyVerificationOverlap: "",
}

// SigningKeySetPartition is the partition key value of the data-key
// signer's key set (datakey.PartitionKey; tested equal): the key set
// statements (Sid SigningKeySet) hold only for it.
const SigningKeySetPartition = "SIGNKEY#set"

// DataKeySetCondition is the Condition of the key set statements: the
// Query reads the key set's partition and no other (dynamodb:LeadingKeys),
// so jwks, whose role has no other table action, reads nothing else.
func DataKeySetCondition() map[string]any {
	return map[string]any{"ForAllValues:StringEquals": map[string]any{"dynamodb:LeadingKeys": []any{SigningKeySetPartition}}}
}

// DataKeyDynamoDBActions are the DynamoDB actions each function needs on
// the table in data-key mode beyond DynamoDBActions, under
// DataKeySetCondition: the Query of the key set (pk SIGNKEY#set). A key's
// creation is a transaction of PutItem and UpdateItem, which the signing
// functions have already.
var DataKeyDynamoDBActions = map[string][]string{
	oidc.FunctionAuthorize: {"dynamodb:Query"},
	oidc.FunctionToken:     {"dynamodb:Query"},
	oidc.FunctionUserInfo:  {"dynamodb:Query"},
	oidc.FunctionDiscovery: nil,
	oidc.FunctionJWKS:      {"dynamodb:Query"},
}

// KMSActionsIn are the KMS actions of function name in a signing mode
// (in data-key mode, those on the wrapping key and the MAC key), sorted.
func KMSActionsIn(mode, name string) []string {
	if mode == SigningModeDataKey {
		out := slices.Concat(DataKeyKMSActions[name], DataKeyMACActions[name])
		slices.Sort(out)
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return KMSActions[name]
}

// DynamoDBActionsIn are the DynamoDB actions of function name in a
// signing mode, sorted.
func DynamoDBActionsIn(mode, name string) []string {
	out := append([]string(nil), DynamoDBActions[name]...)
	if mode == SigningModeDataKey {
		for _, a := range DataKeyDynamoDBActions[name] {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// FunctionExtraEnv are the variables a function gets beyond FunctionEnv,
// each only when its deployment setting is given: the token function's
// registration tokens (RegistrationTokensSecretArn).
var FunctionExtraEnv = map[string][]string{
	oidc.FunctionToken: {config.EnvRegistrationTokens},
}

// EdgeClientAddressHeader is OIDC_CLIENT_ADDRESS_HEADER behind the edge:
// the header CloudFront sets to the viewer's address and port
// (forwarded by OriginRequestPolicyAllViewerExceptHost).
const EdgeClientAddressHeader = "CloudFront-Viewer-Address"
