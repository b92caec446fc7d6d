package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// GitHub's REST API, the calls Dex makes: GET /user, /user/emails,
// /user/orgs, /user/teams and /orgs/{org}/members/{user}.

// Errors the API calls return besides oidc.ErrUnavailable.
var (
	errTokenRefused = errors.New("github: the API refused the access token (401)")
	errNotInOrg     = errors.New("github: the user is not in an allowed organization or team")
	errNoEmail      = errors.New("github: the user has no verified primary email")
)

const (
	maxBody  = 1 << 20 // bytes of one API answer
	maxPages = 50      // of one list: 5,000 entries at GitHub's 100 per page
)

// api calls GitHub's REST API with one access token.
type api struct {
	client *http.Client
	base   string // https://api.github.com or https://HOST/api/v3
	token  string
}

// user is GET /user, the fields Dex reads.
type user struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
	Email string `json:"email"` // the public email, if any: always a verified one
}

type userEmail struct {
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
	Primary  bool   `json:"primary"`
}

type org struct {
	Login string `json:"login"`
}

type team struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	Org  org    `json:"organization"`
}

// do sends GET u with the token. No answer, 5xx and rate limits wrap
// oidc.ErrUnavailable; 401 is errTokenRefused.
func (a api) do(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, connector.Failed("GitHub could not be reached", fmt.Errorf("github: GET %s: %w", pathOf(u), err))
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		resp.Body.Close()
		return nil, errTokenRefused
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0":
		resp.Body.Close()
		return nil, unavailable("GET "+pathOf(u), fmt.Errorf("status %d", resp.StatusCode))
	}
	return resp, nil
}

// get decodes the JSON answer of GET u into v and returns the next
// page's URL, if any.
func (a api) get(ctx context.Context, u string, v any) (next string, err error) {
	resp, err := a.do(ctx, u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("github: GET %s: status %d", pathOf(u), resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v); err != nil {
		return "", fmt.Errorf("github: GET %s: the answer is not the expected JSON: %w", pathOf(u), err)
	}
	return a.next(resp.Header.Get("Link"))
}

// linkNext finds the next page in a Link header (RFC 8288), as GitHub
// paginates: <https://api.github.com/user/teams?page=2>; rel="next".
var linkNext = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?next"?`)

// next returns the next page's URL from a Link header. It must be on the
// API's own origin: the token is never sent anywhere else.
func (a api) next(link string) (string, error) {
	m := linkNext.FindStringSubmatch(link)
	if m == nil {
		return "", nil
	}
	n, err := url.Parse(m[1])
	b, _ := url.Parse(a.base)
	if err != nil || n.Scheme != b.Scheme || n.Host != b.Host || !strings.HasPrefix(n.Path, b.Path+"/") {
		return "", errors.New("github: a pagination link leads off the API")
	}
	return n.String(), nil
}

// list reads every page of the list at path, calling add for each page.
func list[T any](ctx context.Context, a api, path string, add func([]T)) error {
	u := a.base + path + "?per_page=100"
	for range maxPages {
		var page []T
		next, err := a.get(ctx, u, &page)
		if err != nil {
			return err
		}
		add(page)
		if next == "" {
			return nil
		}
		u = next
	}
	return fmt.Errorf("github: GET %s: more than %d pages", path, maxPages)
}

// user is GET /user.
func (a api) user(ctx context.Context) (user, error) {
	var u user
	if _, err := a.get(ctx, a.base+"/user", &u); err != nil {
		return user{}, err
	}
	if u.ID <= 0 || u.Login == "" {
		return user{}, errors.New("github: GET /user: no id or login")
	}
	return u, nil
}

// email is the user's email as Dex chooses it: the public one when set
// (GitHub lets only a verified address be public); else the first
// verified one in the preferred domain; else the primary one, which must
// be verified. Unlike Dex, which takes every GitHub Enterprise email as
// verified, the verified flag is always required.
func (a api) email(ctx context.Context, public, preferred string) (string, error) {
	if public != "" {
		return public, nil
	}
	var primary, chosen string
	err := list(ctx, a, "/user/emails", func(page []userEmail) {
		for _, e := range page {
			switch {
			case !e.Verified || chosen != "":
			case preferred != "" && inDomain(e.Email, preferred):
				chosen = e.Email
			case e.Primary && primary == "":
				primary = e.Email
			}
		}
	})
	switch {
	case err != nil:
		return "", err
	case chosen != "":
		return chosen, nil
	case primary != "":
		return primary, nil
	}
	return "", errNoEmail
}

// inDomain reports whether email is in domain, or, for "*.example.com",
// in a subdomain of example.com (not example.com itself), as Dex does.
func inDomain(email, domain string) bool {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return false
	}
	host := strings.ToLower(email[i+1:])
	domain = strings.ToLower(domain)
	if sub, ok := strings.CutPrefix(domain, "*."); ok {
		return strings.HasSuffix(host, "."+sub) && len(host) > len(sub)+1
	}
	return host == domain
}

// member reports whether login is a member of org: GET
// /orgs/{org}/members/{user} answers 204 for a member; 404, or 302 when
// the caller is no member itself, for anyone else.
func (a api) member(ctx context.Context, orgName, login string) (bool, error) {
	p := "/orgs/" + url.PathEscape(orgName) + "/members/" + url.PathEscape(login)
	resp, err := a.do(ctx, a.base+p)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return true, nil
	case http.StatusFound, http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("github: GET /orgs/{org}/members/{user}: status %d", resp.StatusCode)
}

// pathOf is u's path, for errors: never a query.
func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(bad URL)"
	}
	return p.Path
}

// unavailable wraps a failed call to GitHub as oidc.ErrUnavailable.
func unavailable(what string, err error) error {
	return fmt.Errorf("github: %s: %w: %w", what, oidc.ErrUnavailable, err)
}
