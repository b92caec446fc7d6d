package app

import (
	"context"
	"io"
	"testing"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestSignerEnvPerFunction: the signers of userinfo and jwks are opened
// sign-only (their roles may not make or renew keys: a data-key signer
// there signs with the current key only), those of token and authorize
// not; and every signer can report a refused key set to the metrics.
func TestSignerEnvPerFunction(t *testing.T) {
	path := validConfig(t, "info", "json")
	want := map[string]bool{oidc.FunctionToken: false, oidc.FunctionAuthorize: false, oidc.FunctionUserInfo: true, oidc.FunctionJWKS: true}
	for fn, signOnly := range want {
		var got *backend.Env
		backends := allBackends
		backends.Metrics = io.Discard
		backends.Signer = map[string]backend.SignerOpener{"local": func(ctx context.Context, s config.Section, env backend.Env) (oidc.Signer, error) {
			got = &env
			return signer.Backends["local"](ctx, s, env)
		}}
		f := NewFunction(t.Context(), fn, backends, env{config.EnvConfig: path}.get, io.Discard)
		if f.Handler == nil || got == nil {
			t.Fatalf("%s: no handler, or the signer was not opened", fn)
		}
		if got.SignOnly != signOnly || got.OnSigningKeyRefused == nil {
			t.Errorf("%s: SignOnly %v, OnSigningKeyRefused set %v; want %v, set", fn, got.SignOnly, got.OnSigningKeyRefused != nil, signOnly)
		}
	}
}
