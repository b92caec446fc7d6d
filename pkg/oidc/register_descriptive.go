package oidc

import "net/url"

// checkDescriptive checks the human-facing metadata: a short printable
// name, an https logo the pages may show (CheckLogoURL), https links and
// a few printable contacts.
func checkDescriptive(m clientMetadata) error {
	if len(m.ClientName) > maxNameLength || !printable(m.ClientName) {
		return badMetadata("client_name must be at most %d printable characters", maxNameLength)
	}
	if m.LogoURI != "" && (len(m.LogoURI) > maxURILength || CheckLogoURL(m.LogoURI) != nil) {
		return badMetadata("logo_uri must be an https URL with a host name")
	}
	for name, v := range map[string]string{"client_uri": m.ClientURI, "policy_uri": m.PolicyURI, "tos_uri": m.TOSURI} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > maxURILength || !printable(v) {
			return badMetadata("%s must be an https URL", name)
		}
	}
	if len(m.Contacts) > maxContacts {
		return badMetadata("at most %d contacts", maxContacts)
	}
	for _, c := range m.Contacts {
		if c == "" || len(c) > 254 || !printable(c) {
			return badMetadata("contacts must be e-mail addresses")
		}
	}
	return nil
}

// printable reports whether s has no control characters and is valid
// UTF-8.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}
