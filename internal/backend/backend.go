// Package backend is what storage and signer backends have in common: the
// composite store a storage backend provides, what an opener gets, and the
// lookup of a backend by the type name of its config section.
//
// A backend is a package that owns its config struct (decoded strictly from
// its section with config.Section.Decode) and an opener; the tables that
// map type names to openers are internal/store.Backends and
// internal/signer.Backends. A new backend is one package and one table
// line. The tables are passed in by the composition roots, so that a binary
// links only the backends it may open.
package backend

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Storage is everything a storage backend provides: the provider's state
// (upstream logins in flight and the users connectors vouched for
// included) and the password database kept beside the static users.
type Storage interface {
	oidc.AuthRequestStore
	oidc.CodeStore
	oidc.RefreshStore
	oidc.RevocationStore
	oidc.SessionStore
	oidc.ConsentStore
	oidc.LoginAttempts
	oidc.ConnectorStateStore
	oidc.IdentityStore
	oidc.DeviceRequestStore
	oidc.ClientRegistry
	oidc.ReplayStore
	oidc.PushedRequestStore
	UserWriter
}

// UserWriter is the password database a store keeps: what oidcctl manages.
type UserWriter interface {
	oidc.UserStore
	// PutUser adds or replaces the user u.Subject. It fails with an error
	// matching oidc.ErrConflict, storing nothing, if u's email
	// (case-insensitively) or username belongs to another user.
	PutUser(ctx context.Context, u oidc.User) error
	// DeleteUser removes the user; oidc.ErrNotFound if there is none.
	DeleteUser(ctx context.Context, subject string) error
}

// Env is what an opener gets besides its config section.
type Env struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the backend's start-up warnings; nil discards them.
	Logger *slog.Logger
	// Lambda says the backend runs in an AWS Lambda function, where state
	// kept in the process is one instance's alone: the backends that keep
	// such state refuse to open there unless AllowInstanceState is set.
	Lambda bool
	// AllowInstanceState is extensions.allowInstanceState: in Lambda, the
	// backends that keep state in the process open (with a warning)
	// instead of failing. It has no effect outside Lambda.
	AllowInstanceState bool
	// IDTokenAlgorithms are the algorithms discovery advertises for ID
	// tokens (config.Config.IDTokenSigningAlgorithms): a signer MUST have a
	// key of each, or refuse to open (local) or to sign (KMS, which learns
	// its keys on first use).
	IDTokenAlgorithms []string
	// AccessTokenAlgorithm is extensions.accessTokenSigningAlg: when set,
	// the signer MUST have a key of it too; "": ES256 if the signer has
	// it, else the default ID token algorithm.
	AccessTokenAlgorithm string
	// TokenLifetime is the longest life of a token the signer signs
	// (expiry.idTokens: ID and access tokens): a signer that rotates its
	// own keys MUST keep publishing a retired key at least this long after
	// it last signed. Zero: one hour.
	TokenLifetime time.Duration
	// SignOnly: the function signs (userinfo's signed answers) but MUST
	// NOT change a key set the signer keeps itself (no first key,
	// rotation or renewal): its role may not.
	SignOnly bool
	// OnSigningKeyRefused, if set, is told when a signer refuses a stored
	// key or key set as not authenticated (tampering): the functions'
	// SecurityEvents metric.
	OnSigningKeyRefused func(context.Context)
	// ObserveAWSCall, if set, is told of every call of the AWS clients a
	// backend builds (the awssdk.Loader installs it as SDK middleware): the
	// functions' DynamoDB and KMS metrics (metrics.Recorder.AWSCall).
	ObserveAWSCall func(service, operation string, latency time.Duration, failed, throttled bool)
}

// Algorithms are every algorithm the signer MUST have a key of: the ID
// token (and userinfo) algorithms and AccessTokenAlgorithm, in the order of
// oidc.SigningAlgorithms.
func (e Env) Algorithms() []string {
	var out []string
	for _, alg := range oidc.SigningAlgorithms {
		if slices.Contains(e.IDTokenAlgorithms, alg) || alg == e.AccessTokenAlgorithm {
			out = append(out, alg)
		}
	}
	return out
}

// StorageOpener opens a storage backend from its section. It decodes the
// section with section.Decode and returns those errors as they are. It
// does no network I/O unless its config asks for it (DynamoDB's
// createTable, for local use).
type StorageOpener func(ctx context.Context, section config.Section, env Env) (Storage, error)

// SignerOpener opens a signer backend from its section, as StorageOpener.
type SignerOpener func(ctx context.Context, section config.Section, env Env) (oidc.Signer, error)

// OpenStorage opens the storage backend that b's type names in table. An
// unknown type is an error at the line of storage.type.
func OpenStorage(ctx context.Context, table map[string]StorageOpener, b config.Backend, env Env) (Storage, error) {
	open, err := lookup(table, b)
	if err != nil {
		return nil, err
	}
	return open(ctx, b.Config, env.withDefaults())
}

// OpenSigner opens the signer backend that b's type names in table. An
// unknown type is an error at the line of signer.type.
func OpenSigner(ctx context.Context, table map[string]SignerOpener, b config.Backend, env Env) (oidc.Signer, error) {
	open, err := lookup(table, b)
	if err != nil {
		return nil, err
	}
	return open(ctx, b.Config, env.withDefaults())
}

func lookup[T any](table map[string]T, b config.Backend) (T, error) {
	open, ok := table[b.Type]
	if !ok {
		return open, b.CheckType(slices.Collect(maps.Keys(table)))
	}
	return open, nil
}

func (e Env) withDefaults() Env {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	return e
}
