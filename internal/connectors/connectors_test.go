package connectors_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connectors"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestTypesAreConfigs: the table and the names Parse accepts agree.
func TestTypesAreConfigs(t *testing.T) {
	got := slices.Sorted(maps.Keys(connectors.Types))
	if want := slices.Sorted(slices.Values(config.ConnectorTypes)); !slices.Equal(got, want) {
		t.Errorf("connectors.Types %q; config.ConnectorTypes %q", got, want)
	}
}

// TestDexExamplesOpen: the connectors of Dex's documentation (the
// examples internal/config's tests load) open with their types' openers:
// every key is known to them, $VAR read from the environment.
func TestDexExamplesOpen(t *testing.T) {
	env := map[string]string{
		"GITHUB_CLIENT_ID": "gh-id", "GITHUB_CLIENT_SECRET": "gh-secret",
		"GOOGLE_CLIENT_ID": "g-id", "GOOGLE_CLIENT_SECRET": "g-secret",
		"REDDIT_CLIENT_ID": "r-id", "REDDIT_CLIENT_SECRET": "r-secret",
	}
	for _, f := range []string{"oidc", "oauth", "github", "github-enterprise"} {
		t.Run(f, func(t *testing.T) {
			cfg, err := config.Load("../config/testdata/dex-connector-"+f+".yaml", func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			for _, cn := range cfg.Connectors {
				open := connectors.Types[cn.Type]
				c, err := open(t.Context(), cn.Config, connector.Env{ID: cn.ID, CallbackURL: cfg.Issuer + oidc.PathCallback})
				if f == "github-enterprise" {
					// The example names its CA file, /etc/dex/ca.crt, which
					// is the operator's: only that may fail.
					if err == nil || !strings.Contains(err.Error(), "/etc/dex/ca.crt") {
						t.Errorf("%s: %v; want the CA file missing", cn.ID, err)
					}
					continue
				}
				if err != nil || c == nil {
					t.Errorf("%s: %v", cn.ID, err)
				}
			}
		})
	}
}
