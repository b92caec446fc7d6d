package memory

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Snapshot returns the store's whole contents as text, one entry per
// concern ("requests", "codes", "grants", "sessions", "consents",
// "attempts", "revoked", "users", "clients", "registered", "states", "identities", "devices", "pushed"), each deterministic: two
// snapshots are equal exactly when nothing was written in between (expired
// items included, since the store keeps them until overwritten). It is for
// tests that prove a request wrote nothing; it copies everything under the
// lock, so it is not meant for a serving path.
func (s *Store) Snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	consents := make(map[string]any, len(s.consents))
	for k, v := range s.consents {
		consents[k[0]+"\x00"+k[1]] = v
	}
	attempts := make(map[string]any, len(s.attempts))
	for k, v := range s.attempts {
		attempts[k] = struct {
			Count int
			End   string
		}{v.count, v.end.UTC().Format("2006-01-02T15:04:05.999999999Z")}
	}
	identities := make(map[string]any, len(s.idents))
	for k, v := range s.idents {
		identities[k] = struct {
			User   any
			Expiry string
		}{v.user, v.expiry.UTC().Format("2006-01-02T15:04:05.999999999Z")}
	}
	return map[string]string{
		"requests":   dump(s.requests),
		"codes":      dump(s.codes),
		"registered": dump(s.registered),
		"grants":     dump(s.grants),
		"sessions":   dump(s.sessions),
		"consents":   dump(consents),
		"attempts":   dump(attempts),
		"revoked":    dump(s.revoked),
		"users":      dump(s.users),
		"clients":    dump(s.clients),
		"states":     dump(s.states),
		"identities": dump(identities),
		"devices":    dump(s.devices),
		"pushed":     dump(s.pushed),
	}
}

// dump writes a map's entries in key order, one line each, values as JSON.
func dump[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v, err := json.Marshal(m[k])
		if err != nil {
			v = []byte(fmt.Sprintf("%+v", m[k]))
		}
		fmt.Fprintf(&b, "%q: %s\n", k, v)
	}
	return b.String()
}
