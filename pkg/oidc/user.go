package oidc

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is an account of the password database: the one user type of the
// provider. The YAML keys are those of Dex's staticPasswords entries (and
// this provider's documented extensions), so the config decodes users
// straight into it; a new claim is one field here, its case in userClaim,
// and its storage mapping.
//
// Besides Dex's fields it carries the standard claims of OpenID Connect
// Core §5.1, released by the profile, address and phone scopes or the
// claims parameter.
type User struct {
	// Subject is the stable "sub", never reassigned. A UserStore keys its
	// users by their userID (Dex's staticPasswords[].userID) and returns
	// it here; the core then gives every user its sub (see Subject): the
	// userID and the connector together, as Dex encodes them.
	Subject string `yaml:"userID"`
	// ConnectorID and UserID are the connector that vouched for the user
	// and its id there (federated_claims); set by the core.
	ConnectorID   string `yaml:"-"`
	UserID        string `yaml:"-"`
	Email         string `yaml:"email"`
	EmailVerified bool   `yaml:"-"` // staticPasswords: emailVerified, default true
	// Username is a login name besides the email. It is the
	// preferred_username claim unless PreferredUsername is set (this
	// provider's rule before Dex had preferredUsername; Dex's name claim
	// falls back to it, ours does not).
	Username string `yaml:"username"`
	// PreferredUsername is the preferred_username claim, as Dex's
	// staticPasswords[].preferredUsername; not a login name.
	PreferredUsername string   `yaml:"preferredUsername"`
	Name              string   `yaml:"name"`
	Groups            []string `yaml:"groups"`
	// PasswordHash is a bcrypt hash (Dex-compatible). staticPasswords:
	// hash or hashFromEnv.
	PasswordHash []byte `yaml:"-"`
	Disabled     bool   `yaml:"-"`

	GivenName           string    `yaml:"givenName"`
	FamilyName          string    `yaml:"familyName"`
	MiddleName          string    `yaml:"middleName"`
	Nickname            string    `yaml:"nickname"`
	Profile             string    `yaml:"profile"` // URL
	Picture             string    `yaml:"picture"` // URL
	Website             string    `yaml:"website"` // URL
	Gender              string    `yaml:"gender"`
	Birthdate           string    `yaml:"birthdate"` // YYYY-MM-DD or YYYY
	Zoneinfo            string    `yaml:"zoneinfo"`
	Locale              string    `yaml:"locale"`
	PhoneNumber         string    `yaml:"phoneNumber"`
	PhoneNumberVerified bool      `yaml:"phoneNumberVerified"`
	Address             *Address  `yaml:"address"`
	UpdatedAt           time.Time `yaml:"-"` // zero when unknown
}

// Address is the address claim (OpenID Connect Core §5.1.1). The JSON names
// are the claim's members; the YAML names are the config's.
type Address struct {
	Formatted     string `json:"formatted,omitempty" yaml:"formatted"`
	StreetAddress string `json:"street_address,omitempty" yaml:"streetAddress"`
	Locality      string `json:"locality,omitempty" yaml:"locality"`
	Region        string `json:"region,omitempty" yaml:"region"`
	PostalCode    string `json:"postal_code,omitempty" yaml:"postalCode"`
	Country       string `json:"country,omitempty" yaml:"country"`
}

// UserStore looks up accounts of the password database.
type UserStore interface {
	// UserByLogin finds a user by email (case-insensitive) or username;
	// ErrNotFound if none.
	UserByLogin(ctx context.Context, login string) (User, error)
	// User finds a user by subject; ErrNotFound if none.
	User(ctx context.Context, subject string) (User, error)
}

// FoldCase maps s to one member of its case-folding class: every rune
// becomes the smallest rune of its Unicode simple-folding orbit, so two
// strings fold alike exactly when strings.EqualFold says they are equal
// ("K", "k" and the Kelvin sign all become "K"; "ſ" and "s" become "S").
// strings.ToLower would leave "ſ" and "s" apart. The login throttle counts
// names of no account by it; a store may key e-mail addresses by it, to
// match them as UserStore.UserByLogin requires (case-insensitively).
func FoldCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == utf8.RuneError {
			b.WriteRune(r)
			continue
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
