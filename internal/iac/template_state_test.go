package iac_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
)

// TestTemplateTable: the table is dynamodb.TableSchema, with TTL on
// AttrTTL, point-in-time recovery and configurable deletion protection.
func TestTemplateTable(t *testing.T) {
	tpl := loadSAM(t)
	tbl := tpl.Resources()["Table"]
	wantEqual(t, "Type", tbl["Type"], "AWS::DynamoDB::Table")
	p := tbl["Properties"].(map[string]any)
	schema := dynamodb.TableSchema("x")
	var attrs, keys []any
	for _, a := range schema.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"AttributeName": aws.ToString(a.AttributeName), "AttributeType": string(a.AttributeType)})
	}
	for _, k := range schema.KeySchema {
		keys = append(keys, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
	}
	wantEqual(t, "AttributeDefinitions", p["AttributeDefinitions"], attrs)
	wantEqual(t, "KeySchema", p["KeySchema"], keys)
	wantEqual(t, "BillingMode", p["BillingMode"], string(schema.BillingMode))
	if schema.GlobalSecondaryIndexes != nil || schema.LocalSecondaryIndexes != nil || p["GlobalSecondaryIndexes"] != nil || p["LocalSecondaryIndexes"] != nil {
		t.Error("secondary indexes: TableSchema has none and the template must match it (and IAM would need the index ARNs)")
	}
	wantEqual(t, "TimeToLiveSpecification", p["TimeToLiveSpecification"], map[string]any{"AttributeName": dynamodb.AttrTTL, "Enabled": true})
	wantEqual(t, "PointInTimeRecoverySpecification", p["PointInTimeRecoverySpecification"], map[string]any{"PointInTimeRecoveryEnabled": true})
	wantEqual(t, "DeletionProtectionEnabled", p["DeletionProtectionEnabled"], ref("TableDeletionProtection"))
	wantEqual(t, "TableDeletionProtection default", iac.Path(tpl, "Parameters", "TableDeletionProtection", "Default"), "true")
	wantEqual(t, "DeletionPolicy", tbl["DeletionPolicy"], "RetainExceptOnCreate")
}

// TestTemplateSigningKey: an RSA SIGN_VERIFY key with an alias unless
// SigningKeyArns names existing keys.
func TestTemplateSigningKey(t *testing.T) {
	tpl := loadSAM(t)
	key := tpl.Resources()["SigningKey"]
	wantEqual(t, "Type", key["Type"], "AWS::KMS::Key")
	wantEqual(t, "Condition", key["Condition"], "CreateSigningKey")
	wantEqual(t, "KeySpec", iac.Path(key, "Properties", "KeySpec"), ref("SigningKeySpec"))
	wantEqual(t, "KeyUsage", iac.Path(key, "Properties", "KeyUsage"), "SIGN_VERIFY")
	wantEqual(t, "SigningKeySpec default", iac.Path(tpl, "Parameters", "SigningKeySpec", "Default"), "RSA_2048")
	for _, spec := range iac.Strings(iac.Path(tpl, "Parameters", "SigningKeySpec", "AllowedValues")) {
		if !strings.HasPrefix(spec, "RSA_") {
			t.Errorf("SigningKeySpec allows %s: the KMS signer's algorithm comes from config (RS256 unless the file says otherwise)", spec)
		}
	}
	wantEqual(t, "CreateSigningKey", iac.Path(tpl, "Conditions", "CreateSigningKey"), map[string]any{"Fn::And": []any{
		map[string]any{"Condition": "KMSSigning"}, map[string]any{"Fn::Not": []any{map[string]any{"Condition": "HasSigningKeyArns"}}}}})
	alias := tpl.Resources()["SigningKeyAlias"]
	wantEqual(t, "alias type", alias["Type"], "AWS::KMS::Alias")
	wantEqual(t, "alias target", iac.Path(alias, "Properties", "TargetKeyId"), ref("SigningKey"))
}

// TestTemplateSigningMode: SigningMode kms (the default) or datakey, each
// with its condition; in datakey mode a symmetric wrapping key, rotated,
// retained like the signing key, and no SigningKeyArns.
func TestTemplateSigningMode(t *testing.T) {
	tpl := loadSAM(t)
	wantEqual(t, "SigningMode default", iac.Path(tpl, "Parameters", "SigningMode", "Default"), iac.SigningModeKMS)
	wantEqual(t, "SigningMode values", iac.Strings(iac.Path(tpl, "Parameters", "SigningMode", "AllowedValues")), iac.SigningModes)
	for mode, cond := range iac.SigningModeCondition {
		wantEqual(t, cond, iac.Path(tpl, "Conditions", cond), map[string]any{"Fn::Equals": []any{ref("SigningMode"), mode}})
	}
	key := tpl.Resources()["WrappingKey"]
	wantEqual(t, "Type", key["Type"], "AWS::KMS::Key")
	wantEqual(t, "Condition", key["Condition"], iac.SigningModeCondition[iac.SigningModeDataKey])
	wantEqual(t, "DeletionPolicy", key["DeletionPolicy"], "RetainExceptOnCreate")
	wantEqual(t, "UpdateReplacePolicy", key["UpdateReplacePolicy"], "Retain")
	wantEqual(t, "KeySpec", iac.Path(key, "Properties", "KeySpec"), "SYMMETRIC_DEFAULT")
	wantEqual(t, "KeyUsage", iac.Path(key, "Properties", "KeyUsage"), "ENCRYPT_DECRYPT")
	wantEqual(t, "EnableKeyRotation", iac.Path(key, "Properties", "EnableKeyRotation"), true)
	wantEqual(t, "purpose", iac.EncryptionContextPurposeKey, "kms:EncryptionContext:"+datakey.ContextPurpose)
	wantEqual(t, "purpose value", iac.EncryptionContextPurpose, datakey.PurposeValue)
	mac := tpl.Resources()["KeySetMacKey"]
	wantEqual(t, "MAC key Type", mac["Type"], "AWS::KMS::Key")
	wantEqual(t, "MAC key Condition", mac["Condition"], iac.SigningModeCondition[iac.SigningModeDataKey])
	wantEqual(t, "MAC key DeletionPolicy", mac["DeletionPolicy"], "RetainExceptOnCreate")
	wantEqual(t, "MAC key KeySpec", iac.Path(mac, "Properties", "KeySpec"), "HMAC_256")
	wantEqual(t, "MAC key KeyUsage", iac.Path(mac, "Properties", "KeyUsage"), "GENERATE_VERIFY_MAC")
	wantEqual(t, "MAC algorithm", iac.MACAlgorithm, string(datakey.MACAlgorithm))
	wantEqual(t, "key set partition", iac.SigningKeySetPartition, datakey.PartitionKey)
	for env, param := range iac.DataKeySettings {
		wantEqual(t, param+" default", iac.Path(tpl, "Parameters", param, "Default"), iac.DataKeyDefaults[env])
	}
	if iac.Path(tpl, "Rules", "DataKeyWithoutSigningKeyArns") == nil {
		t.Error("rule DataKeyWithoutSigningKeyArns missing")
	}
}
