package kms

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The per-container key cache: each configured key is fetched once with
// kms:GetPublicKey, its kind mapped to a JWS algorithm, and checked against
// the algorithms discovery advertises.

// cached returns the key if it has been fetched.
func (sl *slot) cached() *key {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.key
}

// key returns the slot's key, fetching it if needed. Concurrent first
// callers share one GetPublicKey; a failed fetch is not cached, so the next
// call tries again. Followers wait for the leader's result or their own
// context, whichever comes first.
func (s *Signer) key(ctx context.Context, sl *slot) (*key, error) {
	sl.mu.Lock()
	if sl.key != nil {
		defer sl.mu.Unlock()
		return sl.key, nil
	}
	f := sl.inflight
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		sl.inflight = f
		sl.mu.Unlock()
		defer func() {
			sl.mu.Lock()
			if f.err == nil {
				sl.key = f.key
			}
			sl.inflight = nil
			sl.mu.Unlock()
			close(f.done)
		}()
		f.key, f.err = s.fetch(ctx, sl.id, sl.alg)
		return f.key, f.err
	}
	sl.mu.Unlock()
	select {
	case <-f.done:
		return f.key, f.err
	case <-ctx.Done():
		return nil, classify("GetPublicKey", sl.id, ctx.Err())
	}
}

// ErrAlgorithmMismatch: no configured key can sign an algorithm discovery
// advertises for ID tokens. It wraps oidc.ErrUnavailable (the client may
// retry; the operator must fix the key list, signer.config.algorithm or a
// client's idTokenSigningAlg) and is final for the container.
var ErrAlgorithmMismatch = fmt.Errorf("%w: the KMS keys do not match signer.config.algorithm", oidc.ErrUnavailable)

// mismatch explains a missing key of alg: an ECC key alone behind RS256
// (the default) would sign tokens no relying party expects, and publishing
// it would advertise a key that cannot sign what discovery promises.
func (s *Signer) mismatch(alg string, keys []*key) error {
	var have []string
	for _, k := range keys {
		have = append(have, k.arn+" is "+k.pub.Algorithm)
	}
	return fmt.Errorf("%w: no key signs %s, which ID tokens may use (signer.config.algorithm or a client's idTokenSigningAlg): %s (want a %s key in the list, or set algorithm: %s)",
		ErrAlgorithmMismatch, alg, strings.Join(have, ", "), keySpecs[alg], keys[0].pub.Algorithm)
}

// fetch asks KMS for a key's public half and derives the JWS algorithm from
// its KeySpec, or checks the one its prefix names (want: PS256 for an RSA
// key signing RSASSA_PSS_SHA_256). GetPublicKey returns KeySpec and
// KeyUsage, so DescribeKey (and its IAM permission) is not needed.
func (s *Signer) fetch(ctx context.Context, id, want string) (*key, error) {
	out, err := s.client.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return nil, classify("GetPublicKey", id, err)
	}
	if out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("kms signer: key %s has KeyUsage %q; want SIGN_VERIFY (create it with --key-usage SIGN_VERIFY)", id, out.KeyUsage)
	}
	spec := out.KeySpec
	if spec == "" {
		// Only the deprecated CustomerMasterKeySpec (moto 5.2.1 sends no KeySpec).
		spec = types.KeySpec(out.CustomerMasterKeySpec)
	}
	var (
		alg     types.SigningAlgorithmSpec
		joseAlg string
	)
	switch spec {
	case types.KeySpecRsa2048, types.KeySpecRsa3072, types.KeySpecRsa4096:
		alg, joseAlg = types.SigningAlgorithmSpecRsassaPkcs1V15Sha256, oidc.RS256
		if want == oidc.PS256 {
			alg, joseAlg = types.SigningAlgorithmSpecRsassaPssSha256, oidc.PS256
		}
	case types.KeySpecEccNistP256:
		alg, joseAlg = types.SigningAlgorithmSpecEcdsaSha256, oidc.ES256
	default:
		return nil, fmt.Errorf("kms signer: key %s has KeySpec %q; want RSA_2048, RSA_3072, RSA_4096 (RS256, or PS256 when listed as PS256:<key>) or ECC_NIST_P256 (ES256)", id, spec)
	}
	if want != "" && want != joseAlg {
		return nil, fmt.Errorf("kms signer: key %s is listed as %s but has KeySpec %s", id, want, spec)
	}
	if len(out.SigningAlgorithms) > 0 && !slices.Contains(out.SigningAlgorithms, alg) {
		return nil, fmt.Errorf("kms signer: key %s does not offer %s (offers %v)", id, alg, out.SigningAlgorithms)
	}
	parsed, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kms signer: key %s: public key: %w", id, err)
	}
	pub, err := oidc.NewPublicKeyFor(joseAlg, parsed)
	if err != nil {
		return nil, fmt.Errorf("kms signer: key %s: %w", id, err)
	}
	if pub.Algorithm != joseAlg {
		return nil, fmt.Errorf("kms signer: key %s: KeySpec %s but the public key is for %s", id, spec, pub.Algorithm)
	}
	arn := aws.ToString(out.KeyId)
	if arn == "" {
		arn = id
	}
	return &key{arn: arn, alg: alg, pub: pub}, nil
}
