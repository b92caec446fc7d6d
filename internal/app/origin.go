package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// minOriginSecret refuses a guessable origin value.
const minOriginSecret = 32

// forbiddenBody answers a request that did not come through the edge. It
// does not say which header is missing.
const forbiddenBody = `{"error":"access_denied","error_description":"requests must be sent to the provider's public address"}`

// guardOrigin wraps h with the origin check of cfg.OriginVerify
// (OIDC_ORIGIN_VERIFY): every request must carry config.OriginVerifyHeader
// with that value, which the edge's CloudFront adds, or is answered 403.
// A request straight to the execute-api endpoint would otherwise bypass
// the edge's AWS WAF (and could write CloudFront-Viewer-Address itself).
// The value may be a secretsmanager:<id>[#<json key>] reference, read
// once here, with secrets; an unreachable Secrets Manager is
// oidc.ErrUnavailable (the start is retried). Without OIDC_ORIGIN_VERIFY,
// h is returned as it is. Errors never show the value. rejected is told
// of each request refused (the SecurityEvents metric).
func guardOrigin(ctx context.Context, cfg *config.Config, secrets connector.SecretReader, rejected func(), h http.Handler) (http.Handler, error) {
	value := cfg.OriginVerify
	if value == "" {
		return h, nil
	}
	where := config.EnvOriginVerify + ": "
	if ref, ok := strings.CutPrefix(value, config.SecretsManagerPrefix); ok {
		if secrets == nil {
			return nil, errors.New(where + "secretsmanager: references are read only by the functions that link AWS Secrets Manager; give the value itself")
		}
		read := connector.NewSecrets(secrets)
		v, err := read.Resolver(ctx)(ref)
		if err != nil {
			if read.Unavailable() {
				return nil, fmt.Errorf("%s%w: %w", where, oidc.ErrUnavailable, err)
			}
			return nil, fmt.Errorf("%s%w", where, err)
		}
		value = strings.TrimSpace(v)
	}
	if len(value) < minOriginSecret {
		return nil, fmt.Errorf("%sthe value must have at least %d characters", where, minOriginSecret)
	}
	want := sha256.Sum256([]byte(value))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get(config.OriginVerifyHeader)))
		if len(r.Header.Values(config.OriginVerifyHeader)) != 1 || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			rejected()
			serveForbidden(w)
			return
		}
		// Nothing behind this point needs it, so nothing can echo it.
		r.Header.Del(config.OriginVerifyHeader)
		h.ServeHTTP(w, r)
	}), nil
}

func serveForbidden(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, forbiddenBody)
}
