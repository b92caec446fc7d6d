package config

import (
	"strings"
	"testing"
)

// env returns a getenv backed by a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// yml joins lines with newlines, so that a test can count them: the first
// argument is line 1.
func yml(lines ...string) []byte {
	return []byte(strings.Join(lines, "\n") + "\n")
}

// adminHash is the bcrypt hash (cost 10) of "password", Dex's example.
const adminHash = "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"

func mustParse(t *testing.T, data []byte, getenv func(string) string) *Config {
	t.Helper()
	c, err := Parse(data, "c.yaml", getenv)
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%v", err)
	}
	return c
}
