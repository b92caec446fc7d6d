package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// errTokenRefused: userinfo answered 401.
var errTokenRefused = errors.New("oauth: userinfo refused the access token (401)")

const maxBody = 1 << 20 // bytes of a userinfo answer

// identity reads the user from userInfoURL with the access token and
// maps the answer's members to an identity, as Dex does.
func (c *Connector) identity(ctx context.Context, s oidc.ConnectorScopes, accessToken string) (oidc.Identity, error) {
	info, err := c.userInfo(ctx, accessToken)
	if err != nil {
		return oidc.Identity{}, err
	}
	m := c.cfg.ClaimMapping
	var id oidc.Identity
	switch v := info[c.cfg.UserIDKey].(type) {
	case string:
		id.UserID = v
	case json.Number: // a number as the upstream wrote it, never 1e+06
		id.UserID = v.String()
	}
	if id.UserID == "" {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "the identity provider did not say who the user is",
			Err: fmt.Errorf("oauth: userinfo has no string or number %q", c.cfg.UserIDKey)}
	}
	id.Username, _ = info[m.UserNameKey].(string)
	id.PreferredUsername, _ = info[m.PreferredUsernameKey].(string)
	id.Email, _ = info[m.EmailKey].(string)
	id.EmailVerified, _ = info[m.EmailVerifiedKey].(bool)
	if c.cfg.InsecureSkipEmailVerified {
		id.EmailVerified = true
	}
	if s.Groups {
		id.Groups = groupsOf(info[m.GroupsKey], nil)
		// Dex also reads groups from the access token's payload when it is
		// a JWT: it came straight from the token endpoint over TLS, as
		// trustworthy as the userinfo answer.
		id.Groups = groupsOf(tokenClaims(accessToken)[m.GroupsKey], id.Groups)
	}
	return id, nil
}

// userInfo is GET userInfoURL with the access token (RFC 6750 §2.1).
// No answer or a 5xx is ErrUnavailable; 401 is errTokenRefused.
func (c *Connector) userInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.UserInfoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, connector.Failed("the identity provider could not be reached", fmt.Errorf("oauth: userinfo: %w", err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, errTokenRefused
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, unavailable("userinfo", fmt.Errorf("status %d", resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return nil, &oidc.UpstreamError{Reason: "the identity provider's user information could not be read",
			Err: fmt.Errorf("oauth: userinfo: status %d", resp.StatusCode)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, unavailable("userinfo", err)
	}
	var info map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&info); err != nil || info == nil {
		return nil, &oidc.UpstreamError{Reason: "the identity provider's user information is not a JSON object",
			Err: fmt.Errorf("oauth: userinfo: %v", err)}
	}
	return info, nil
}

// groupsOf appends to groups the names in v, a list of strings or of
// objects with a name (Dex reads both), each once.
func groupsOf(v any, groups []string) []string {
	list, _ := v.([]any)
	for _, g := range list {
		name, _ := g.(string)
		if obj, ok := g.(map[string]any); ok {
			name, _ = obj["name"].(string)
		}
		if name != "" && !slices.Contains(groups, name) {
			groups = append(groups, name)
		}
	}
	return groups
}

// tokenClaims is the payload of a JWT access token, unverified (see
// identity), or nil when the token is opaque.
func tokenClaims(token string) map[string]any {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	return claims
}

// unavailable wraps a failed call upstream as oidc.ErrUnavailable.
func unavailable(what string, err error) error {
	return fmt.Errorf("oauth: %s: %w: %w", what, oidc.ErrUnavailable, err)
}
