package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// signing is the deployment's signing keys: the KMS signing keys
// (SigningModeKMS) or the symmetric wrapping key (SigningModeDataKey).
type signing struct {
	mode        string
	keyArns     []*string         // kms mode
	wrappingKey *string           // data-key mode: its ARN
	macKey      *string           // data-key mode: the key set's MAC key ARN
	settings    map[string]string // data-key mode: iac.DataKeySettings' values
}

// newSigning creates template.yaml's SigningKey (kms mode, unless
// SigningKeyArns names keys) or WrappingKey (data-key mode), with the same
// logical ids.
func newSigning(stack awscdk.Stack, p OIDCStackProps) signing {
	s := signing{mode: p.SigningMode}
	switch {
	case s.mode == iac.SigningModeDataKey:
		if len(p.SigningKeyArns) > 0 {
			panic("infra: signingKeyArns are kms:Sign keys; signingMode datakey creates its own wrapping key")
		}
		key := awskms.NewKey(stack, jsii.String("WrappingKey"), &awskms.KeyProps{
			Description:       jsii.String(fmt.Sprintf("OIDC signing-key wrapping key of stack %s", *stack.StackName())),
			KeySpec:           awskms.KeySpec_SYMMETRIC_DEFAULT,
			KeyUsage:          awskms.KeyUsage_ENCRYPT_DECRYPT,
			EnableKeyRotation: jsii.Bool(true),
			Alias:             jsii.String("alias/" + *stack.StackName() + "-oidc-wrapping"),
			PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
			// Without it the wrapped keys are lost: retained, except when
			// the first create rolls back.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
		})
		logicalID(key, "WrappingKey")
		s.wrappingKey = key.KeyArn()
		mac := awskms.NewKey(stack, jsii.String("KeySetMacKey"), &awskms.KeyProps{
			Description:   jsii.String(fmt.Sprintf("OIDC signing-key set MAC key of stack %s", *stack.StackName())),
			KeySpec:       awskms.KeySpec_HMAC_256,
			KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
			Alias:         jsii.String("alias/" + *stack.StackName() + "-oidc-keyset-mac"),
			PendingWindow: awscdk.Duration_Days(jsii.Number(30)),
			// Without it the stored key set is refused: retained.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
		})
		logicalID(mac, "KeySetMacKey")
		s.macKey = mac.KeyArn()
		s.settings = map[string]string{}
		for v := range iac.DataKeySettings {
			s.settings[v] = iac.DataKeyDefaults[v]
			if x, ok := p.DataKeySettings[v]; ok {
				s.settings[v] = x
			}
		}
	case s.mode != iac.SigningModeKMS:
		panic(fmt.Sprintf("infra: signingMode %q; want kms or datakey", s.mode))
	case len(p.SigningKeyArns) == 0:
		key := awskms.NewKey(stack, jsii.String("SigningKey"), &awskms.KeyProps{
			Description:   jsii.String(fmt.Sprintf("OIDC token signing key of stack %s", *stack.StackName())),
			KeySpec:       awskms.KeySpec_RSA_2048,
			KeyUsage:      awskms.KeyUsage_SIGN_VERIFY,
			Alias:         jsii.String("alias/" + *stack.StackName() + "-oidc-signing"),
			PendingWindow: awscdk.Duration_Days(jsii.Number(30)),
			// Deleting a key is irreversible: retained, except when the first
			// create rolls back (it never signed anything).
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
		})
		logicalID(key, "SigningKey")
		s.keyArns = []*string{key.KeyArn()}
	default:
		for _, a := range p.SigningKeyArns {
			s.keyArns = append(s.keyArns, jsii.String(a))
		}
	}
	return s
}

// env sets OIDC_KMS_KEY_IDS or OIDC_KMS_WRAPPING_KEY with
// OIDC_KMS_MAC_KEY and the data-key settings (the others empty).
func (s signing) env(env map[string]*string) {
	env[config.EnvKMSKeyIDs], env[config.EnvKMSWrappingKey], env[config.EnvKMSMACKey] = jsii.String(""), jsii.String(""), jsii.String("")
	for v := range iac.DataKeySettings {
		env[v] = jsii.String(s.settings[v])
	}
	if s.mode == iac.SigningModeDataKey {
		env[config.EnvKMSWrappingKey], env[config.EnvKMSMACKey] = s.wrappingKey, s.macKey
	} else {
		env[config.EnvKMSKeyIDs] = awscdk.Fn_Join(jsii.String(","), &s.keyArns)
	}
}

// output is the stack's SigningKeyArns or WrappingKeyArn output.
func (s signing) output(stack awscdk.Stack, env map[string]*string) {
	if s.mode == iac.SigningModeDataKey {
		awscdk.NewCfnOutput(stack, jsii.String("WrappingKeyArn"), &awscdk.CfnOutputProps{
			Description: jsii.String("The symmetric KMS key of OIDC_KMS_WRAPPING_KEY (data-key signing)."),
			Value:       s.wrappingKey,
		})
		awscdk.NewCfnOutput(stack, jsii.String("KeySetMacKeyArn"), &awscdk.CfnOutputProps{
			Description: jsii.String("The HMAC KMS key of OIDC_KMS_MAC_KEY (data-key signing)."),
			Value:       s.macKey,
		})
		return
	}
	awscdk.NewCfnOutput(stack, jsii.String("SigningKeyArns"), &awscdk.CfnOutputProps{
		Description: jsii.String("The KMS keys of OIDC_KMS_KEY_IDS; the first signs."),
		Value:       env[config.EnvKMSKeyIDs],
	})
}

// grant adds function name's KMS statements: iac.KMSActions on the
// signing keys, or iac.DataKeyKMSActions on the wrapping key under the
// signing keys' encryption context and iac.DataKeyMACActions on the MAC
// key for the manifest's MAC algorithm.
func (s signing) grant(role awsiam.Role, name string) {
	if s.mode == iac.SigningModeDataKey {
		if a := iac.DataKeyKMSActions[name]; len(a) > 0 {
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("WrappingKey"),
				Actions:    jsii.Strings(a...),
				Resources:  &[]*string{s.wrappingKey},
				Conditions: &map[string]any{"StringEquals": map[string]any{iac.EncryptionContextPurposeKey: iac.EncryptionContextPurpose}},
			}))
		}
		if a := iac.DataKeyMACActions[name]; len(a) > 0 {
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("KeySetMac"),
				Actions:    jsii.Strings(a...),
				Resources:  &[]*string{s.macKey},
				Conditions: &map[string]any{"StringEquals": map[string]any{iac.MACAlgorithmKey: iac.MACAlgorithm}},
			}))
		}
		return
	}
	actions := iac.KMSActionsIn(s.mode, name)
	if len(actions) == 0 {
		return
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SigningKeys"),
		Actions:   jsii.Strings(actions...),
		Resources: &s.keyArns,
	}))
}

// functionEnv adds function name's own variables to variables: the token
// function's OIDC_REGISTRATION_TOKENS (and the right to read that secret,
// only it) when registrationTokensSecretArn is set.
func functionEnv(role awsiam.Role, name string, p OIDCStackProps, variables map[string]*string) {
	if name != oidc.FunctionToken || p.RegistrationTokensSecretArn == "" {
		return
	}
	variables[config.EnvRegistrationTokens] = jsii.String(config.SecretsManagerPrefix + p.RegistrationTokensSecretArn)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RegistrationTokens"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(p.RegistrationTokensSecretArn),
	}))
}

// edgeOriginSecret generates the value CloudFront sends in
// config.OriginVerifyHeader (a Secrets Manager secret, EdgeOriginSecret),
// and returns it as a dynamic reference that CloudFormation resolves in
// the distribution and the functions' OIDC_ORIGIN_VERIFY.
func edgeOriginSecret(stack awscdk.Stack) *string {
	secret := awssecretsmanager.NewSecret(stack, jsii.String("EdgeOriginSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("The value CloudFront sends in X-Origin-Verify; the functions refuse requests without it"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(48), ExcludePunctuation: jsii.Bool(true), IncludeSpace: jsii.Bool(false),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	logicalID(secret, "EdgeOriginSecret")
	return secret.SecretValue().UnsafeUnwrap()
}
