package config

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Defaults applied by Parse to settings left out of the file.
const (
	defaultHTTP              = "127.0.0.1:5556"
	defaultStorage           = "memory"
	defaultSigner            = "local"
	defaultAlgorithm         = oidc.RS256
	defaultIDTokens          = time.Hour
	defaultAuthRequests      = 30 * time.Minute
	defaultDeviceRequests    = 5 * time.Minute
	defaultValidIfNotUsedFor = 720 * time.Hour  // 30 days
	defaultAbsoluteLifetime  = 2160 * time.Hour // 90 days
	defaultReuseInterval     = 3 * time.Second
	defaultAuthCodes         = time.Minute
	defaultLogLevel          = "info"
	defaultLogFormat         = "text"
)

// Parse decodes a configuration file strictly, expands environment
// variables where Dex does (see docs/configuration.md), applies defaults and
// validates the result. filename is used in error messages only. getenv
// supplies the environment (pass os.Getenv, or a map lookup in tests); nil
// means an empty environment.
//
// On error the result is nil and the error holds every problem found, one
// *Error per line, each naming the file, line and key path. On success,
// Config.Warnings lists the keys that loaded but have no effect here.
func Parse(data []byte, filename string, getenv func(string) string) (*Config, error) {
	return parse(data, filename, getenv, nil)
}

// Load reads the file at path and calls Parse.
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path, getenv)
}

// parse is Parse with overrides applied between decoding and defaults.
func parse(data []byte, filename string, getenv func(string) string, override func(*decoder, *Config)) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	d := newDecoder(filename, getenv)
	c := new(Config)
	if body := d.parseDocument(data); body != nil {
		d.decode(d.value(body, reflect.TypeFor[Config](), "", field{}), c)
	}
	if d.fatal {
		return nil, joinErrors(d.errs)
	}
	d.resolveRefs(c)
	resolveRegistration(d.getenv, c)
	if override != nil {
		override(d, c)
	}
	d.bindBackend(&c.Storage, "storage", defaultStorage)
	d.bindBackend(&c.Signer, "signer", defaultSigner)
	d.bindConnectors(c)
	d.readAlgorithm(c)
	d.resolveSessions(c)
	d.applyDefaults(c)
	validator{d}.validate(c)
	if err := joinErrors(d.errs); err != nil {
		return nil, err
	}
	slices.SortStableFunc(d.warns, func(a, b Warning) int { return cmp.Compare(a.Line, b.Line) })
	c.Warnings = d.warns
	return c, nil
}

// resolveRefs takes the values that idEnv, secretEnv and hashFromEnv name
// from the environment, and decodes base64-encoded password hashes.
func (d *decoder) resolveRefs(c *Config) {
	for i := range c.StaticClients {
		cl := &c.StaticClients[i]
		p := fmt.Sprintf("staticClients[%d]", i)
		d.fromEnv(p, "id", "idEnv", &cl.ID, cl.IDEnv)
		d.fromEnv(p, "secret", "secretEnv", &cl.Secret, cl.SecretEnv)
	}
	for i := range c.StaticPasswords {
		pw := &c.StaticPasswords[i]
		d.fromEnv(fmt.Sprintf("staticPasswords[%d]", i), "hash", "hashFromEnv", &pw.Hash, pw.HashFromEnv)
		pw.Hash = decodeHash(pw.Hash)
	}
}

// fromEnv resolves a "...Env" key naming an environment variable that
// holds the value of key (idEnv for id, secretEnv for secret, hashFromEnv
// for hash). p is the path of the enclosing item.
func (d *decoder) fromEnv(p, key, envKey string, dst *string, name string) {
	if name == "" {
		return
	}
	ep := p + "." + envKey
	if *dst != "" {
		d.errorf(ep, "set %s or %s, not both", key, envKey)
		return
	}
	v := d.getenv(name)
	if v == "" {
		d.errorf(ep, "environment variable %q is unset or empty", name)
		d.bad[p+"."+key] = true
		return
	}
	*dst = v
	d.pos[p+"."+key] = d.pos[ep] // problems with the value point at the line naming the variable
}

// decodeHash accepts a bcrypt hash as is or, as Dex does for backwards
// compatibility, base64-encoded.
func decodeHash(h string) string {
	if _, err := bcrypt.Cost([]byte(h)); err != nil {
		if b, err := base64.StdEncoding.DecodeString(h); err == nil {
			if _, err := bcrypt.Cost(b); err == nil {
				return string(b)
			}
		}
	}
	return h
}

// readAlgorithm reads signer.config.algorithm, the one key of a backend's
// section this package reads itself (see Config.SigningAlgorithm); the
// signer decodes the whole section when it opens.
func (d *decoder) readAlgorithm(c *Config) {
	s := c.Signer.Config
	m, ok := s.node.(*ast.MappingNode)
	if !ok || s.at.env != "" {
		return
	}
	for _, e := range d.entries(m, s.path, 0) {
		if keyString(e.Key) == "algorithm" {
			p := join(s.path, "algorithm")
			d.pos[p] = d.whereOf(e.Key)
			d.decode(d.value(e.Value, stringType, p, field{expand: true}), &c.algorithm)
		}
	}
}

// applyDefaults fills settings left at their zero value. reuseInterval is
// the exception: an explicit "0s" turns the reuse interval off.
func (d *decoder) applyDefaults(c *Config) {
	setDefault(&c.Web.HTTP, defaultHTTP)
	setDefault(&c.Storage.Type, defaultStorage)
	setDefault(&c.Signer.Type, defaultSigner)
	if c.Extensions.Profile == oidc.ProfileFAPI2 {
		setDefault(&c.algorithm, oidc.ES256) // FAPI 2.0 §5.4.1 does not allow RS256
	}
	setDefault(&c.algorithm, defaultAlgorithm)
	if len(c.OAuth2.ResponseTypes) == 0 {
		c.OAuth2.ResponseTypes = []string{"code"}
	}
	if len(c.OAuth2.GrantTypes) == 0 {
		c.OAuth2.GrantTypes = defaultGrantTypes(c)
	}
	e := &c.Expiry
	setDefault(&e.IDTokens, defaultIDTokens)
	setDefault(&e.AuthRequests, defaultAuthRequests)
	setDefault(&e.DeviceRequests, defaultDeviceRequests)
	setDefault(&e.RefreshTokens.ValidIfNotUsedFor, defaultValidIfNotUsedFor)
	setDefault(&e.RefreshTokens.AbsoluteLifetime, defaultAbsoluteLifetime)
	if !d.set["expiry.refreshTokens.reuseInterval"] {
		setDefault(&e.RefreshTokens.ReuseInterval, defaultReuseInterval)
	}
	setDefault(&c.Extensions.AuthCodes, defaultAuthCodes)
	setDefault(&c.Extensions.Sessions.IdleTimeout, 24*time.Hour)
	setDefault(&c.Extensions.Sessions.AbsoluteLifetime, 7*24*time.Hour)
	setDefault(&c.Extensions.Sessions.RememberConsent, 90*24*time.Hour)
	// Dex reads the level as a slog.Level, which ignores case.
	c.Logger.Level = strings.ToLower(c.Logger.Level)
	setDefault(&c.Logger.Level, defaultLogLevel)
	setDefault(&c.Logger.Format, defaultLogFormat)
	for i := range c.StaticPasswords {
		if c.StaticPasswords[i].EmailVerified == nil {
			v := true
			c.StaticPasswords[i].EmailVerified = &v
		}
	}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
