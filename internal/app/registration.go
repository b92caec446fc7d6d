package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// registrationPolicy is extensions.registration as the core takes it,
// without the initial access tokens (which only the function serving
// /register reads: initialAccessTokens).
func registrationPolicy(cfg *config.Config) oidc.RegistrationPolicy {
	r := cfg.Extensions.Registration
	return oidc.RegistrationPolicy{
		Policy:                 r.Policy,
		AllowedGrantTypes:      r.AllowedGrantTypes,
		AllowedScopes:          r.AllowedScopes,
		AllowedRedirectSchemes: r.AllowedRedirectSchemes,
	}
}

// minInitialTokenLength refuses guessable initial access tokens.
const minInitialTokenLength = 16

// initialAccessTokens resolves the tokens of the initialAccessToken
// policy from the variable initialAccessTokensEnv named (read at load): a
// comma-separated list or, with secrets (AWS Secrets Manager), a
// secretsmanager:<id>[#<key>] reference to one. None for other policies.
// Its errors never show a token.
func initialAccessTokens(ctx context.Context, cfg *config.Config, secrets connector.SecretReader) ([]string, error) {
	r := cfg.Extensions.Registration
	if r.Policy != oidc.RegistrationInitialAccessToken {
		return nil, nil
	}
	where := "extensions.registration.initialAccessTokensEnv: " + r.InitialAccessTokensEnv
	value := strings.TrimSpace(r.InitialAccessTokens)
	if ref, ok := strings.CutPrefix(value, config.SecretsManagerPrefix); ok {
		if secrets == nil {
			return nil, errors.New(where + ": secretsmanager: references are read only on AWS")
		}
		read := connector.NewSecrets(secrets)
		v, err := read.Resolver(ctx)(ref)
		if err != nil {
			if read.Unavailable() {
				return nil, fmt.Errorf("%s: %w: %w", where, oidc.ErrUnavailable, err)
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		value = v
	}
	var tokens []string
	for _, t := range strings.Split(value, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if len(t) < minInitialTokenLength {
			return nil, fmt.Errorf("%s: every token must have at least %d characters", where, minInitialTokenLength)
		}
		tokens = append(tokens, t)
	}
	if len(tokens) == 0 {
		return nil, errors.New(where + ": the variable is unset or holds no token")
	}
	return tokens, nil
}
