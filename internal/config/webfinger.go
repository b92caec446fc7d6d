package config

import (
	"fmt"
	"strings"
)

// validateWebFinger checks extensions.webfinger.domains: host names (a
// user identifier's part after the @), each once, without a scheme,
// port, path or wildcard.
func (v validator) validateWebFinger(wf WebFinger) {
	seen := map[string]bool{}
	for i, d := range wf.Domains {
		p := fmt.Sprintf("extensions.webfinger.domains[%d]", i)
		switch {
		case d == "" || strings.ContainsAny(d, "/:@?#*[] \t") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, "."):
			v.fail(p, "%q is not a host name: want one like example.com (the part of alice@example.com after the @)", d)
		case seen[strings.ToLower(d)]:
			v.fail(p, "duplicate domain %q", d)
		}
		seen[strings.ToLower(d)] = true
	}
}
