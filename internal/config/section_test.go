package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testBackend is a backend's config struct as a backend package writes it.
type testBackend struct {
	Name    string        `yaml:"name" config:"expand"`
	Raw     string        `yaml:"raw"`
	Hosts   []string      `yaml:"hosts" config:"expand"`
	Timeout time.Duration `yaml:"timeout"`
	TLS     *struct {
		Insecure bool `yaml:"insecure"`
	} `yaml:"tls"`
}

func (b testBackend) Validate(report func(key, msg string)) {
	if b.Name == "" {
		report("name", "required")
	}
	for i, h := range b.Hosts {
		if h == "bad" {
			report(fmt.Sprintf("hosts[%d]", i), "a bad host")
		}
	}
}

var _ Validator = testBackend{}

func TestSectionDecode(t *testing.T) {
	getenv := env(map[string]string{"N": "expanded"})
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"storage:",
		"  type: test",
		"  config:",
		"    name: $N",
		"    raw: $N",
		"    hosts: [a, '${N}']",
		"    timeout: 5s",
		"    tls: {insecure: true}",
	), getenv)
	var b testBackend
	if err := c.Storage.Config.Decode(&b); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if b.Name != "expanded" || b.Raw != "$N" || strings.Join(b.Hosts, ",") != "a,expanded" || b.Timeout != 5*time.Second || b.TLS == nil || !b.TLS.Insecure {
		t.Errorf("got %+v", b)
	}
	var again testBackend
	if err := c.Storage.Config.Decode(&again); err != nil || !reflect.DeepEqual(again, b) {
		t.Errorf("second Decode: got %+v, %v; want %+v", again, err, b)
	}
	if err := c.Storage.Config.Decode(b); err == nil {
		t.Errorf("Decode into a non-pointer succeeded")
	}
}

// TestSectionAlias checks that a section may use an anchor defined
// elsewhere in the file.
func TestSectionAlias(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"web:",
		"  allowedOrigins: &hosts ['https://a.example.com']",
		"storage:",
		"  type: test",
		"  config:",
		"    name: n",
		"    hosts: *hosts",
	), nil)
	var b testBackend
	if err := c.Storage.Config.Decode(&b); err != nil || len(b.Hosts) != 1 || b.Hosts[0] != "https://a.example.com" {
		t.Errorf("got %+v, %v; want hosts [https://a.example.com]", b, err)
	}
}

func TestSectionDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"absent section, at the parent's line", []string{"storage:", "  type: test"},
			[]string{"c.yaml:2: storage.config.name: required"}},
		{"absent storage key", nil,
			[]string{"c.yaml: storage.config.name: required"}},
		{"every problem, in file order", []string{"storage:", "  type: test", "  config:", "    nmae: x", "    hosts: [a, bad]", "    timeout: 5", "    tls: {secure: true}"},
			[]string{
				"c.yaml:4: storage.config.name: required",
				"c.yaml:5: storage.config.nmae: unknown key",
				"c.yaml:6: storage.config.hosts[1]: a bad host",
				`c.yaml:7: storage.config.timeout: must be a duration string such as "10m" or "24h", not a number (a bare number has no unit)`,
				"c.yaml:8: storage.config.tls.secure: unknown key",
			}},
		{"validation skips what failed to decode", []string{"storage:", "  type: test", "  config:", "    name: [x]"},
			[]string{"c.yaml:5: storage.config.name: must be a string, not a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, yml(append([]string{"issuer: https://id.example.com"}, tt.lines...)...), nil)
			err := c.Storage.Config.Decode(&testBackend{})
			if err == nil || err.Error() != strings.Join(tt.want, "\n") {
				t.Fatalf("got:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("errors.As(%T, *Error) = false", err)
			}
			all := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				all = j.Unwrap()
			}
			for _, e := range all {
				if ce := e.(*Error); ce.Line > 0 && ce.Column == 0 {
					t.Errorf("%q: no column", ce)
				}
			}
		})
	}
}

func TestCheckType(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com", "storage:", "  type: postgres", "signer:", "  type: hsm"), nil)
	tests := []struct {
		name  string
		b     Backend
		known []string
		want  string
	}{
		{"known", c.Storage, []string{"postgres"}, ""},
		{"default first, then sorted", c.Signer, []string{"b", "local", "a"}, `c.yaml:5: signer.type: unknown signer type "hsm" (local, a or b)`},
		{"Dex's type", c.Storage, []string{"dynamodb", "memory"}, `c.yaml:3: storage.type: "postgres" is not supported by this provider (memory or dynamodb)`},
		{"built by hand", Backend{Type: "x"}, []string{"a"}, `type: unknown backend type "x" (a)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.b.CheckType(tt.known)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestPasswordOIDCUser(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"enablePasswordDB: true",
		"staticPasswords:",
		"  - email: a@example.com",
		"    hash: '"+adminHash+"'",
		"    userID: a",
		"    groups: [admins]",
		"    address: {country: GB}",
		"  - email: b@example.com",
		"    hash: '"+adminHash+"'",
		"    userID: b",
		"    emailVerified: false",
	), nil)
	a, b := c.StaticPasswords[0].OIDCUser(), c.StaticPasswords[1].OIDCUser()
	if a.Subject != "a" || a.Email != "a@example.com" || string(a.PasswordHash) != adminHash || !a.EmailVerified ||
		a.Groups[0] != "admins" || a.Address == nil || a.Address.Country != "GB" {
		t.Errorf("a: got %+v", a)
	}
	if b.EmailVerified {
		t.Errorf("b: EmailVerified true; want false")
	}
	if u := (Password{}).OIDCUser(); !u.EmailVerified {
		t.Errorf("EmailVerified left out: got false; want the default true")
	}
}
