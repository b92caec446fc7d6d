package openid

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// rules are Dex's rules that turn an upstream's claims into an identity.
type rules struct {
	userIDKey, userNameKey                    string
	preferredUsernameKey, emailKey, groupsKey string
	override                                  bool // overrideClaimMapping
	skipEmailVerified, enableGroups           bool
	allowedGroups, hostedDomains              []string
	groupsFilter                              *regexp.Regexp
	modify                                    ModifyGroupNames
	newGroups                                 []NewGroupFromClaims
}

func newRules(c Config) rules {
	r := rules{
		userIDKey: c.UserIDKey, userNameKey: c.UserNameKey,
		preferredUsernameKey: firstSet(c.ClaimMapping.PreferredUsernameKey, c.PreferredUsernameKey),
		emailKey:             firstSet(c.ClaimMapping.EmailKey, c.EmailKey),
		groupsKey:            firstSet(c.ClaimMapping.GroupsKey, c.GroupsKey),
		override:             c.OverrideClaimMapping,
		skipEmailVerified:    c.InsecureSkipEmailVerified, enableGroups: c.InsecureEnableGroups,
		allowedGroups: c.AllowedGroups, hostedDomains: c.HostedDomains,
		modify: c.ClaimModifications.ModifyGroupNames, newGroups: c.ClaimModifications.NewGroupFromClaims,
	}
	if f := c.ClaimModifications.FilterGroupClaims.GroupsFilter; f != "" {
		r.groupsFilter = regexp.MustCompile(f) // Validate compiled it
	}
	return r
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mapped reads the standard claim std, or key when std is absent (or
// always, with overrideClaimMapping): Dex's claimMapping fallback.
func (r rules) mapped(claims map[string]any, std, key string) (any, bool) {
	v, found := claims[std]
	if (!found || r.override) && key != "" {
		v, found = claims[key]
	}
	return v, found
}

// identity applies the rules to claims (the ID token's, with userinfo's
// over them). emailScope: the email scope was requested, so email and
// email_verified are required (Dex). groups: the client asked for groups.
func (r rules) identity(claims map[string]any, emailScope, groups bool) (oidc.Identity, error) {
	var id oidc.Identity
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return id, malformed("the identity provider sent no subject (sub)")
	}
	nameKey := firstSet(r.userNameKey, "name")
	name, ok := claims[nameKey].(string)
	if !ok {
		return id, malformed(fmt.Sprintf("the identity provider sent no user name (claim %q)", nameKey))
	}
	id.UserID, id.Username = sub, name
	if r.userIDKey != "" {
		if id.UserID, _ = claims[r.userIDKey].(string); id.UserID == "" {
			return id, malformed(fmt.Sprintf("the identity provider sent no user id (claim %q)", r.userIDKey))
		}
	}
	v, _ := r.mapped(claims, "preferred_username", r.preferredUsernameKey)
	id.PreferredUsername, _ = v.(string)
	if err := r.email(&id, claims, emailScope); err != nil {
		return id, err
	}
	if len(r.hostedDomains) > 0 {
		if hd, _ := claims["hd"].(string); !slices.Contains(r.hostedDomains, hd) {
			return id, refuse("your account's domain may not sign in here")
		}
	}
	g, err := r.groups(claims)
	if err != nil {
		return id, err
	}
	if groups {
		id.Groups = g
	}
	return id, nil
}

// email sets Email and EmailVerified. An email the upstream says is not
// verified is refused unless insecureSkipEmailVerified: the provider
// would otherwise vouch for an address nobody proved.
func (r rules) email(id *oidc.Identity, claims map[string]any, emailScope bool) error {
	key := firstSet(r.emailKey, "email")
	v, found := r.mapped(claims, "email", r.emailKey)
	id.Email, found = v.(string)
	if !found && emailScope {
		return malformed(fmt.Sprintf("the identity provider sent no email (claim %q)", key))
	}
	verified, found := boolClaim(claims["email_verified"])
	switch {
	case !found && r.skipEmailVerified:
		verified = true
	case !found && emailScope:
		return malformed("the identity provider did not say whether the email is verified (email_verified)")
	case found && !verified && id.Email != "" && !r.skipEmailVerified:
		return refuse("your email address is not verified at the identity provider")
	}
	id.EmailVerified = verified
	return nil
}

// boolClaim reads a boolean claim, also as the strings "true" and "false"
// (as some providers send email_verified).
func boolClaim(v any) (value, ok bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		return b == "true", b == "true" || b == "false"
	}
	return false, false
}

// groups computes Dex's groups: the upstream's (with insecureEnableGroups,
// or to check allowedGroups), filtered by groupsFilter, narrowed to
// allowedGroups (none: refused), renamed by modifyGroupNames; then the
// groups newGroupFromClaims builds. allowedGroups applies even without
// insecureEnableGroups: Dex would ignore it there, silently admitting
// everyone, which no one who wrote it meant.
func (r rules) groups(claims map[string]any) ([]string, error) {
	var groups []string
	if r.enableGroups || len(r.allowedGroups) > 0 {
		key := firstSet(r.groupsKey, "groups")
		v, _ := r.mapped(claims, "groups", r.groupsKey)
		upstream, err := groupList(v)
		if err != nil {
			return nil, malformed(fmt.Sprintf("the identity provider sent a malformed %q claim", key))
		}
		for _, g := range upstream {
			if r.groupsFilter == nil || r.groupsFilter.MatchString(g) {
				groups = append(groups, g)
			}
		}
		if len(r.allowedGroups) > 0 {
			groups = slices.DeleteFunc(groups, func(g string) bool { return !slices.Contains(r.allowedGroups, g) })
			if len(groups) == 0 {
				return nil, refuse("you are not in a group allowed to sign in here")
			}
		}
		if !r.enableGroups {
			groups = nil
		}
		for i, g := range groups {
			groups[i] = r.modify.Prefix + g + r.modify.Suffix
		}
	}
	for _, ng := range r.newGroups {
		segments := []string{ng.Prefix}
		for _, name := range ng.Claims {
			s, ok := claims[name].(string)
			if !ok {
				continue // Dex joins string claims only
			}
			if ng.ClearDelimiter {
				s = strings.ReplaceAll(s, ng.Delimiter, "")
			}
			segments = append(segments, s)
		}
		if len(segments) > 1 {
			groups = append(groups, strings.Join(segments, ng.Delimiter))
		}
	}
	return groups, nil
}

// groupList reads a groups claim: absent, one string, or a list of
// strings or of objects with a name (as Dex reads them).
func groupList(v any) ([]string, error) {
	switch g := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{g}, nil
	case []any:
		out := make([]string, 0, len(g))
		for _, e := range g {
			switch e := e.(type) {
			case string:
				out = append(out, e)
			case map[string]any:
				name, ok := e["name"].(string)
				if !ok {
					return nil, fmt.Errorf("a group object without a name")
				}
				out = append(out, name)
			default:
				return nil, fmt.Errorf("a group of type %T", e)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("groups of type %T", v)
}

// malformed is an upstream whose claims do not make an identity.
func malformed(reason string) error { return &oidc.UpstreamError{Reason: reason} }
