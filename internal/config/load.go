package config

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Defaults applied by Parse to settings left out of the file.
const (
	defaultHTTP              = "127.0.0.1:5556"
	defaultStorage           = "memory"
	defaultSigner            = "local"
	defaultAlgorithm         = "RS256"
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
// *Error per line, each naming the file, line and key path.
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
	c := d.decodeFile(data)
	if d.fatal {
		return nil, joinErrors(d.errs)
	}
	if override != nil {
		override(d, c)
	}
	d.applyDefaults(c)
	d.validate(c)
	if err := joinErrors(d.errs); err != nil {
		return nil, err
	}
	return c, nil
}

// applyDefaults fills settings left at their zero value. reuseInterval is
// the exception: an explicit "0s" turns the reuse interval off.
func (d *decoder) applyDefaults(c *Config) {
	setDefault(&c.Web.HTTP, defaultHTTP)
	setDefault(&c.Storage.Type, defaultStorage)
	setDefault(&c.Signer.Type, defaultSigner)
	switch c.Signer.Type {
	case "local":
		setDefault(&c.Signer.Local.Algorithm, defaultAlgorithm)
	case "kms":
		setDefault(&c.Signer.KMS.Algorithm, defaultAlgorithm)
	}
	if len(c.OAuth2.ResponseTypes) == 0 {
		c.OAuth2.ResponseTypes = []string{"code"}
	}
	if len(c.OAuth2.GrantTypes) == 0 {
		c.OAuth2.GrantTypes = []string{"authorization_code", "refresh_token"}
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
