package datakey

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// KMSAPI is the part of the KMS client the signer uses: Encrypt and
// GenerateMac when it creates a key, Decrypt once per key and container
// when it first signs, VerifyMac when it reads a new key manifest.
type KMSAPI interface {
	Encrypt(ctx context.Context, in *awskms.EncryptInput, optFns ...func(*awskms.Options)) (*awskms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *awskms.DecryptInput, optFns ...func(*awskms.Options)) (*awskms.DecryptOutput, error)
	GenerateMac(ctx context.Context, in *awskms.GenerateMacInput, optFns ...func(*awskms.Options)) (*awskms.GenerateMacOutput, error)
	VerifyMac(ctx context.Context, in *awskms.VerifyMacInput, optFns ...func(*awskms.Options)) (*awskms.VerifyMacOutput, error)
}

var _ KMSAPI = (*awskms.Client)(nil)

// Encryption context of a wrapped key (authenticated, not secret; logged by
// CloudTrail with every Decrypt). IAM policies scope kms:Decrypt with the
// condition kms:EncryptionContext:purpose = oidc-signing-key, so that the
// functions' role cannot decrypt anything else under the wrapping key; the
// kid binds the ciphertext to its item, so a ciphertext copied into another
// item does not decrypt.
const (
	ContextPurpose = "purpose"
	PurposeValue   = "oidc-signing-key"
	ContextKeyID   = "kid"
)

func encryptionContext(kid string) map[string]string {
	return map[string]string{ContextPurpose: PurposeValue, ContextKeyID: kid}
}

// generate makes a fresh private key of alg. The key is generated here with
// crypto/rand and wrapped with kms:Encrypt rather than by
// kms:GenerateDataKeyPair: the result is the same (the plaintext key exists
// in this process either way), the kid can then be bound into the
// encryption context, and it runs against moto, which lacks
// GenerateDataKeyPair.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case oidc.RS256, oidc.PS256: // one RSA key per algorithm
		return rsa.GenerateKey(rand.Reader, 2048)
	case oidc.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("datakey signer: unsupported algorithm %q (want RS256, ES256 or PS256)", alg)
}

// wrap generates a key of alg and wraps it under wrappingKey.
func wrap(ctx context.Context, client KMSAPI, wrappingKey, alg string, now time.Time) (*storedKey, crypto.Signer, error) {
	priv, err := generate(alg)
	if err != nil {
		return nil, nil, err
	}
	pub, err := oidc.NewPublicKeyFor(alg, priv.Public())
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("datakey signer: %w", err)
	}
	defer clear(der)
	out, err := client.Encrypt(ctx, &awskms.EncryptInput{
		KeyId: aws.String(wrappingKey), Plaintext: der, EncryptionContext: encryptionContext(pub.KeyID),
	})
	if err != nil {
		return nil, nil, wrapAWS("KMS Encrypt "+wrappingKey, err)
	}
	arn := aws.ToString(out.KeyId)
	if arn == "" {
		arn = wrappingKey
	}
	return &storedKey{pub: pub, wrapped: out.CiphertextBlob, wrappingKey: arn, createdAt: now, notBefore: now}, priv, nil
}

// unwrap decrypts k's private key with one kms:Decrypt, pinned to the
// configured wrapping key (never the key an item names: an item written
// by someone else must not make the signer trust a KMS key of theirs), and
// checks that it is the private half of the published key: a key that
// does not match would sign tokens nobody can verify.
func unwrap(ctx context.Context, client KMSAPI, wrappingKey string, k *storedKey) (crypto.Signer, error) {
	out, err := client.Decrypt(ctx, &awskms.DecryptInput{
		CiphertextBlob: k.wrapped, KeyId: aws.String(wrappingKey), EncryptionContext: encryptionContext(k.pub.KeyID),
	})
	if err != nil {
		return nil, wrapAWS("KMS Decrypt (key "+k.pub.KeyID+")", err)
	}
	defer clear(out.Plaintext)
	parsed, err := x509.ParsePKCS8PrivateKey(out.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("datakey signer: key %s: private key: %w", k.pub.KeyID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("datakey signer: key %s: not a signing key", k.pub.KeyID)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := priv.Public().(equaler); !ok || !e.Equal(k.pub.Key) {
		return nil, fmt.Errorf("datakey signer: key %s: the decrypted private key does not match the published public key", k.pub.KeyID)
	}
	return priv, nil
}

// wrapAWS wraps a failed KMS or DynamoDB call: transient and
// operator-fixable failures wrap oidc.ErrUnavailable (the core answers
// temporarily_unavailable); others (AccessDenied, a bad parameter) are
// plain errors, answered as server_error. The text names the AWS code.
func wrapAWS(op string, err error) error {
	if reason := kms.UnavailableReason(err); reason != "" {
		return fmt.Errorf("datakey signer: %s: %s: %w: %w", op, reason, oidc.ErrUnavailable, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return fmt.Errorf("datakey signer: %s: %s: %w", op, apiErr.ErrorCode(), err)
	}
	return fmt.Errorf("datakey signer: %s: %w", op, err)
}
