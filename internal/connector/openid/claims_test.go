package openid

import (
	"errors"
	"fmt"
	"testing"
)

// TestRules checks Dex's claim rules on claims as an upstream sends them.
func TestRules(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"sub": "s1", "name": "Ada", "email": "a@example.com", "email_verified": true,
			"groups": []any{"team-a", "team-b", "other"}, "mail": "m@example.com", "upn": "ada@corp",
			"cognito:groups": []any{"c1"}, "organization": "acme::corp", "oid": "o-1"}
	}
	tests := []struct {
		name   string
		cfg    Config
		edit   func(map[string]any)
		want   string // fmt of UserID, PreferredUsername, Email, EmailVerified, Groups; or the error
		groups bool
	}{
		{name: "defaults", cfg: Config{InsecureEnableGroups: true}, groups: true, want: "s1  a@example.com true [team-a team-b other]"},
		{name: "groups off", cfg: Config{}, groups: true, want: "s1  a@example.com true []"},
		{name: "no groups scope", cfg: Config{InsecureEnableGroups: true}, want: "s1  a@example.com true []"},
		{name: "mapping is a fallback", cfg: Config{ClaimMapping: ClaimMapping{EmailKey: "mail", PreferredUsernameKey: "upn"}},
			want: "s1 ada@corp a@example.com true []"},
		{name: "overrideClaimMapping", cfg: Config{OverrideClaimMapping: true, InsecureEnableGroups: true,
			ClaimMapping: ClaimMapping{EmailKey: "mail", GroupsKey: "cognito:groups"}}, groups: true, want: "s1  m@example.com true [c1]"},
		{name: "userIDKey", cfg: Config{UserIDKey: "oid"}, want: "o-1  a@example.com true []"},
		{name: "modifications", groups: true, cfg: Config{InsecureEnableGroups: true, ClaimModifications: ClaimModifications{
			FilterGroupClaims:  FilterGroupClaims{GroupsFilter: "^team-"},
			ModifyGroupNames:   ModifyGroupNames{Prefix: "up-"},
			NewGroupFromClaims: []NewGroupFromClaims{{Prefix: "ex", Delimiter: "::", ClearDelimiter: true, Claims: []string{"organization", "email", "missing"}}},
		}}, want: "s1  a@example.com true [up-team-a up-team-b ex::acmecorp::a@example.com]"},
		{name: "allowedGroups narrows", cfg: Config{InsecureEnableGroups: true, AllowedGroups: []string{"other", "x"}}, groups: true,
			want: "s1  a@example.com true [other]"},
		{name: "allowedGroups without insecureEnableGroups still applies", cfg: Config{AllowedGroups: []string{"x"}},
			want: "refused"},
		{name: "one group as a string", cfg: Config{InsecureEnableGroups: true}, groups: true,
			edit: func(c map[string]any) { c["groups"] = "solo" }, want: "s1  a@example.com true [solo]"},
		{name: "malformed groups", cfg: Config{InsecureEnableGroups: true}, edit: func(c map[string]any) { c["groups"] = []any{1.0} },
			want: `the identity provider sent a malformed "groups" claim`},
		{name: "unverified", edit: func(c map[string]any) { c["email_verified"] = false }, want: "refused"},
		{name: "unverified, insecureSkipEmailVerified", cfg: Config{InsecureSkipEmailVerified: true},
			edit: func(c map[string]any) { c["email_verified"] = false }, want: "s1  a@example.com false []"},
		{name: "email_verified missing, insecureSkipEmailVerified", cfg: Config{InsecureSkipEmailVerified: true},
			edit: func(c map[string]any) { delete(c, "email_verified") }, want: "s1  a@example.com true []"},
		{name: "email_verified missing", edit: func(c map[string]any) { delete(c, "email_verified") },
			want: "the identity provider did not say whether the email is verified (email_verified)"},
		{name: "email_verified as a string", edit: func(c map[string]any) { c["email_verified"] = "true" }, want: "s1  a@example.com true []"},
		{name: "no name", edit: func(c map[string]any) { delete(c, "name") }, want: `the identity provider sent no user name (claim "name")`},
		{name: "hostedDomains", cfg: Config{HostedDomains: []string{"example.com"}}, edit: func(c map[string]any) { c["hd"] = "evil.com" }, want: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := base()
			if tt.edit != nil {
				tt.edit(claims)
			}
			id, err := newRules(tt.cfg).identity(claims, true, tt.groups)
			var got string
			var r *refusal
			switch {
			case errors.As(err, &r):
				got = "refused"
			case err != nil:
				got = err.Error()
				got = got[len("oidc: upstream login failed: "):]
			default:
				got = fmt.Sprintf("%s %s %s %t %v", id.UserID, id.PreferredUsername, id.Email, id.EmailVerified, id.Groups)
			}
			if got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
