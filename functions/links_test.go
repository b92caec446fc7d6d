// Package functions_test checks what each Lambda function's binary links:
// only the backends its routes can reach, chosen by what its main imports
// (no build tags). A smaller binary starts faster, and discovery and JWKS
// are what relying parties fetch first.
package functions_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestFunctionsLinkOnlyTheirBackends(t *testing.T) {
	const (
		sdk      = "github.com/aws/aws-sdk-go-v2"
		dynamodb = "github.com/aws/aws-sdk-go-v2/service/dynamodb"
		kms      = "github.com/aws/aws-sdk-go-v2/service/kms"
		ourStore = "github.com/serverless-oidc/op/internal/store/dynamodb"
		ourKMS   = "github.com/serverless-oidc/op/internal/signer/kms"
		// Connector types, their table and Secrets Manager: only the
		// functions that open connectors.
		secrets    = "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
		connectors = "github.com/serverless-oidc/op/internal/connectors"
		openid     = "github.com/serverless-oidc/op/internal/connector/openid"
		oauth      = "github.com/serverless-oidc/op/internal/connector/oauth"
		github     = "github.com/serverless-oidc/op/internal/connector/github"
	)
	opensConnectors := []string{secrets, connectors, openid, oauth, github}
	// The SDK's shared-config loader and credential providers: the
	// functions configure their clients from the environment
	// (awssdk.FromEnvironment), as Lambda gives every function its
	// credentials there.
	chain := []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sts",
		"github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/ssooidc",
		"github.com/aws/aws-sdk-go-v2/service/signin", "github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
		"github.com/serverless-oidc/op/internal/backend/awsdefault"}
	tests := []struct {
		function string
		want     []string // packages that must be linked
		unwanted []string // package path prefixes that must not be
	}{
		{oidc.FunctionDiscovery, nil, append([]string{sdk, ourStore, ourKMS}, opensConnectors...)},
		// jwks reads the key set from the table in data-key mode
		// (signer type kms-datakey), never the provider's other items.
		{oidc.FunctionJWKS, []string{kms, ourKMS, dynamodb}, append([]string{ourStore}, opensConnectors...)},
		{oidc.FunctionToken, append([]string{kms, dynamodb}, opensConnectors...), nil},
		{oidc.FunctionUserInfo, []string{kms, dynamodb}, opensConnectors},
		{oidc.FunctionAuthorize, append([]string{kms, dynamodb}, opensConnectors...), nil},
	}
	for _, tt := range tests {
		tt.unwanted = append(tt.unwanted, chain...)
		t.Run(tt.function, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "github.com/serverless-oidc/op/functions/"+tt.function).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			deps := strings.Fields(string(out))
			has := func(prefix string) bool {
				for _, d := range deps {
					if d == prefix || strings.HasPrefix(d, prefix+"/") {
						return true
					}
				}
				return false
			}
			for _, p := range tt.want {
				if !has(p) {
					t.Errorf("%s does not link %s", tt.function, p)
				}
			}
			for _, p := range tt.unwanted {
				if has(p) {
					t.Errorf("%s links %s; its routes never use it", tt.function, p)
				}
			}
		})
	}
}

// TestOnlyAuthorizeExecutesTemplates: text/template's reflection
// (reflect.Value.MethodByName) makes the linker keep every exported method
// of every type, about 4 MiB of a bootstrap; only the authorize function,
// which shows pages, may link it (its main passes oidc.HTMLPages()).
func TestOnlyAuthorizeExecutesTemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions")
	}
	dir := t.TempDir()
	for _, fn := range oidc.Functions {
		t.Run(fn, func(t *testing.T) {
			bin := dir + "/" + fn
			if out, err := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "github.com/serverless-oidc/op/functions/"+fn).CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			out, err := exec.Command("go", "tool", "nm", bin).Output()
			if err != nil {
				t.Fatalf("go tool nm: %v", err)
			}
			has := strings.Contains(string(out), " text/template.(*state).evalField")
			if want := fn == oidc.FunctionAuthorize; has != want {
				t.Errorf("%s links text/template's execution: %v; want %v", fn, has, want)
			}
		})
	}
}
