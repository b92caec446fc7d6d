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
	// symmetric KMS key and kept in the table (signer kms-datakey,
	// OIDC_KMS_WRAPPING_KEY; DataKeyKMSActions, DataKeyDynamoDBActions).
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
// functions that sign unwrap keys (Decrypt) and make the first key of a
// deployment and its successors (Encrypt); jwks and userinfo read the
// public keys, stored in clear, and need no KMS action.
var DataKeyKMSActions = map[string][]string{
	oidc.FunctionAuthorize: {"kms:Decrypt", "kms:Encrypt"},
	oidc.FunctionToken:     {"kms:Decrypt", "kms:Encrypt"},
	oidc.FunctionUserInfo:  nil,
	oidc.FunctionDiscovery: nil,
	oidc.FunctionJWKS:      nil,
}

// DataKeyDynamoDBActions are the DynamoDB actions each function needs on
// the table in data-key mode beyond DynamoDBActions: the Query of the key
// set (pk SIGNKEY#set). A key's creation is a transaction of PutItem and
// UpdateItem, which the signing functions have already.
var DataKeyDynamoDBActions = map[string][]string{
	oidc.FunctionAuthorize: {"dynamodb:Query"},
	oidc.FunctionToken:     {"dynamodb:Query"},
	oidc.FunctionUserInfo:  {"dynamodb:Query"},
	oidc.FunctionDiscovery: nil,
	oidc.FunctionJWKS:      {"dynamodb:Query"},
}

// KMSActionsIn are the KMS actions of function name in a signing mode.
func KMSActionsIn(mode, name string) []string {
	if mode == SigningModeDataKey {
		return DataKeyKMSActions[name]
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
