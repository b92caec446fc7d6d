package oidc

import (
	"encoding/base64"
	"testing"
	"unicode/utf8"
)

// FuzzParseSubject: parseSubject accepts exactly what Subject makes, and
// gives back its parts; anything else, however it decodes, is refused.
func FuzzParseSubject(f *testing.F) {
	f.Add("08a8684b-db88-4b73-90a9-3cd1661f5466", "local", "")
	f.Add("", "github", "CgA")
	f.Add("u", "", base64.RawURLEncoding.EncodeToString([]byte{0x0a, 0x01, 'u', 0x0a, 0x01, 'v', 0x12, 0x01, 'c'}))
	f.Fuzz(func(t *testing.T, userID, connector, raw string) {
		if connector != "" {
			sub := Subject(userID, connector)
			u, c, ok := parseSubject(sub)
			if !ok || u != userID || c != connector {
				t.Errorf("parseSubject(Subject(%q, %q)) = %q, %q, %v", userID, connector, u, c, ok)
			}
		}
		if u, c, ok := parseSubject(raw); ok && (Subject(u, c) != raw || c == "" || !utf8.ValidString(raw)) {
			t.Errorf("parseSubject(%q) accepted %q, %q, which Subject does not make it from", raw, u, c)
		}
	})
}
