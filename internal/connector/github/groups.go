package github

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// groups applies the organization rules and returns the user's groups,
// as Dex does:
//   - orgs: the user must be a member of at least one listed org, and,
//     for an org with teams, of one of those teams; the groups are
//     "org:team" for the user's teams in the orgs that admit them (all
//     their teams there when the org lists none, else those listed);
//   - org (deprecated): the user must be a member; the groups are their
//     team names in it, without prefix;
//   - loadAllGroups with the groups scope: every org of the user, and
//     "org:team" for every team.
func (g *Connector) groups(ctx context.Context, a api, s oidc.ConnectorScopes, login string) ([]string, error) {
	switch {
	case len(g.cfg.Orgs) > 0:
		return g.groupsForOrgs(ctx, a, login)
	case g.cfg.Org != "":
		in, err := a.member(ctx, g.cfg.Org, login)
		if err != nil || !in {
			return nil, cmpErr(err, errNotInOrg)
		}
		teams, err := g.userTeams(ctx, a)
		return teams[strings.ToLower(g.cfg.Org)], err
	case s.Groups && g.cfg.LoadAllGroups:
		return g.allGroups(ctx, a)
	}
	return nil, nil
}

func (g *Connector) groupsForOrgs(ctx context.Context, a api, login string) ([]string, error) {
	var teams map[string][]string
	admitted := false
	groups := []string{}
	for _, o := range g.cfg.Orgs {
		in, err := a.member(ctx, o.Name, login)
		if err != nil {
			return nil, err
		}
		if !in {
			continue
		}
		if teams == nil {
			if teams, err = g.userTeams(ctx, a); err != nil {
				return nil, err
			}
		}
		mine := teams[strings.ToLower(o.Name)]
		if len(o.Teams) == 0 {
			admitted = true
		} else {
			mine = slices.DeleteFunc(slices.Clone(mine), func(t string) bool { return !slices.Contains(o.Teams, t) })
			admitted = admitted || len(mine) > 0
		}
		for _, t := range mine {
			groups = append(groups, o.Name+":"+t)
		}
	}
	if !admitted {
		return nil, fmt.Errorf("%w: %s", errNotInOrg, login)
	}
	return groups, nil
}

// allGroups is loadAllGroups: each org of the user followed by its teams.
func (g *Connector) allGroups(ctx context.Context, a api) ([]string, error) {
	var orgs []string
	err := list(ctx, a, "/user/orgs", func(page []org) {
		for _, o := range page {
			orgs = append(orgs, o.Login)
		}
	})
	if err != nil {
		return nil, err
	}
	teams, err := g.userTeams(ctx, a)
	if err != nil {
		return nil, err
	}
	groups := []string{}
	for _, o := range orgs {
		groups = append(groups, o)
		for _, t := range teams[strings.ToLower(o)] {
			groups = append(groups, o+":"+t)
		}
	}
	return groups, nil
}

// userTeams is GET /user/teams: the user's team names (per
// teamNameField) by lower-cased org login, as GitHub's logins are
// case-insensitive.
func (g *Connector) userTeams(ctx context.Context, a api) (map[string][]string, error) {
	out := map[string][]string{}
	err := list(ctx, a, "/user/teams", func(page []team) {
		for _, t := range page {
			o := strings.ToLower(t.Org.Login)
			switch g.cfg.TeamNameField {
			case "slug":
				out[o] = append(out[o], t.Slug)
			case "both":
				out[o] = append(out[o], t.Name, t.Slug)
			default:
				out[o] = append(out[o], t.Name)
			}
		}
	})
	return out, err
}

// cmpErr is err, or def when err is nil.
func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
