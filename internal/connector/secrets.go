package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// SecretReader returns the string of one secret, by id or ARN (AWS
// Secrets Manager's SecretString). Its errors never hold the secret.
type SecretReader func(ctx context.Context, id string) (string, error)

// secretTimeout bounds one read at cold start, well within Lambda's
// 10-second init phase.
const secretTimeout = 5 * time.Second

// Secrets resolves the secretsmanager: values of connector sections
// (config.SecretsManagerPrefix) with a SecretReader, reading each secret
// once: build one per cold start. It is safe for concurrent use.
type Secrets struct {
	read SecretReader

	mu          sync.Mutex
	cache       map[string]string // secret id → its string
	unavailable bool              // a read failed with oidc.ErrUnavailable
}

// Unavailable reports whether a read failed in a way a later try may not
// (errors.Is(err, oidc.ErrUnavailable): throttling, a timeout, a 5xx).
func (s *Secrets) Unavailable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unavailable
}

// NewSecrets returns a resolver that reads secrets with read.
func NewSecrets(read SecretReader) *Secrets {
	return &Secrets{read: read, cache: map[string]string{}}
}

// Resolver returns the function config.Section.WithSecrets takes: given
// the text after the prefix, "<id>" or "<id>#<key>", it returns the
// secret's string or the string value of key in the secret's JSON object.
func (s *Secrets) Resolver(ctx context.Context) func(ref string) (string, error) {
	return func(ref string) (string, error) { return s.resolve(ctx, ref) }
}

func (s *Secrets) resolve(ctx context.Context, ref string) (string, error) {
	id, key, hasKey := strings.Cut(ref, "#")
	where := config.SecretsManagerPrefix + ref
	if id == "" || (hasKey && key == "") {
		return "", fmt.Errorf("%s: want %s<secret id or ARN>, or <id>#<JSON key>", where, config.SecretsManagerPrefix)
	}
	secret, err := s.secret(ctx, id)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	if !hasKey {
		return secret, nil
	}
	var fields map[string]any
	// The decoding error is not shown: its text can quote the secret.
	if json.Unmarshal([]byte(secret), &fields) != nil {
		return "", fmt.Errorf("%s: the secret is not a JSON object, so it has no key %q", where, key)
	}
	v, ok := fields[key]
	if !ok {
		return "", fmt.Errorf("%s: the secret's JSON object has no key %q", where, key)
	}
	str, ok := v.(string)
	if !ok || str == "" {
		return "", fmt.Errorf("%s: the value of %q in the secret is not a non-empty string", where, key)
	}
	return str, nil
}

// secret returns the secret id, reading it on first use.
func (s *Secrets) secret(ctx context.Context, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cache[id]; ok {
		return v, nil
	}
	if s.read == nil {
		return "", errors.New("no reader of AWS Secrets Manager")
	}
	ctx, cancel := context.WithTimeout(ctx, secretTimeout)
	defer cancel()
	v, err := s.read(ctx, id)
	if err != nil {
		s.unavailable = s.unavailable || errors.Is(err, oidc.ErrUnavailable)
		return "", err
	}
	if v == "" {
		return "", errors.New("the secret is empty (a binary secret? store a string)")
	}
	s.cache[id] = v
	return v, nil
}
