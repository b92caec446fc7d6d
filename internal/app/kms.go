//go:build !oidc_no_kms

package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// kmsSigner builds the KMS signer of signer.config (type kms).
func kmsSigner(ctx context.Context, c config.KMSSigner) (oidc.Signer, error) {
	awsCfg, err := awsConfig(ctx, c.Region)
	if err != nil {
		return nil, err
	}
	client := awskms.NewFromConfig(awsCfg, func(o *awskms.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	return kms.New(client, c.Keys)
}
