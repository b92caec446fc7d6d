package oidc

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Response modes (OAuth 2.0 Multiple Response Type Encoding Practices §2.1,
// OAuth 2.0 Form Post Response Mode).
const (
	responseModeQuery    = "query"
	responseModeFragment = "fragment"
	responseModeFormPost = "form_post"
)

var responseModes = []string{responseModeQuery, responseModeFragment, responseModeFormPost}

// ResponseTypeParts are the response type values oauth2.responseTypes may
// name (Dex's form); a combination is enabled when all its parts are.
var ResponseTypeParts = []string{"code", "token", "id_token"}

// responseTypes are the supported response types in canonical order
// (OpenID Connect Core §3; OAuth 2.0 Multiple Response Type Encoding).
var responseTypes = []string{"code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"}

// parseResponseType normalises a space-separated response_type, whose
// values may come in any order, to its canonical form.
func parseResponseType(raw string) (string, bool) {
	parts := strings.Fields(raw)
	has := func(p string) bool { return slices.Contains(parts, p) }
	var canon []string
	for _, p := range []string{"code", "id_token", "token"} {
		if has(p) {
			canon = append(canon, p)
		}
	}
	t := strings.Join(canon, " ")
	if len(canon) != len(parts) || !slices.Contains(responseTypes, t) {
		return "", false
	}
	return t, true
}

// responseTypeEnabled applies oauth2.responseTypes (Dex's form: the parts
// allowed; a combination is allowed when all its parts are).
func responseTypeEnabled(parts []string, t string) bool {
	for _, part := range strings.Fields(t) {
		if !slices.Contains(parts, part) {
			return false
		}
	}
	return true
}

// defaultResponseMode: query for code, fragment for anything returning a
// token (OAuth 2.0 Multiple Response Type Encoding §2.1, §5). raw is used
// when the response type did not parse, so its error still goes where a
// success would have.
func defaultResponseMode(responseType, raw string) string {
	if responseType == "code" || (responseType == "" && !strings.Contains(raw, "token")) {
		return responseModeQuery
	}
	return responseModeFragment
}

// authResponse is a front-channel answer to the client's redirect URI.
type authResponse struct {
	redirectURI string
	mode        string
	state       string
	post        bool // answering a POST: use 303 (RFC 9700 §4.12)
	params      url.Values
}

// deliver sends params, state and iss (RFC 9207) to the client in the
// response mode: a redirect with a query or fragment, an auto-submitted
// form (form_post), or, for the out-of-band URI, a page showing the code.
func (b *base) deliver(w http.ResponseWriter, r *http.Request, resp authResponse) {
	params := resp.params
	if params == nil {
		params = url.Values{}
	}
	if resp.state != "" {
		params.Set("state", resp.state)
	}
	params.Set("iss", b.s.Issuer)

	if resp.redirectURI == deviceRedirect {
		b.renderDeviceDone(w, r, params)
		return
	}
	if resp.redirectURI == redirectOOB {
		b.renderOOB(w, r, params)
		return
	}
	if resp.mode == responseModeFormPost {
		b.renderFormPost(w, r, resp.redirectURI, params)
		return
	}
	target := resp.redirectURI
	switch {
	case resp.mode == responseModeFragment:
		target += "#" + params.Encode()
	case strings.Contains(target, "?"):
		target += "&" + params.Encode()
	default:
		target += "?" + params.Encode()
	}
	status := http.StatusFound
	if resp.post || r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
}
