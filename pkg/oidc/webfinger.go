package oidc

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// WebFinger (RFC 7033) as OpenID Connect Discovery 1.0 §2 uses it: a
// relying party that knows only a user's identifier (alice@example.com,
// normalized to acct:alice@example.com, or an https URL) asks the
// identifier's host which issuer serves it. The provider answers for the
// domains of Settings.WebFingerDomains alone, and says nothing about
// whether the user exists: every identifier of a listed domain gets the
// issuer, every other one a 404.

// RelIssuer is the link relation of OpenID Connect Discovery §2.
const RelIssuer = "http://openid.net/specs/connect/1.0/issuer"

// jrd is the JSON Resource Descriptor (RFC 7033 §4.4).
type jrd struct {
	Subject string    `json:"subject"`
	Links   []jrdLink `json:"links"`
}

type jrdLink struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// serveWebFinger answers GET /.well-known/webfinger. A missing or
// repeated resource, or one that is not an acct: or https: URI, is 400
// (RFC 7033 §4.2); a resource of a domain not served is 404; rel filters
// the links (§4.3), so a request for another relation gets none. Any
// origin may read the answer (§5).
func (d *Discovery) serveWebFinger(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || len(q["resource"]) != 1 || len(r.URL.RawQuery) > maxParamLength {
		d.writeError(w, r, &Error{Code: ErrCodeInvalidRequest, Description: "exactly one resource parameter is required"})
		return
	}
	resource := q.Get("resource")
	host, ok := resourceHost(resource)
	if !ok {
		d.writeError(w, r, &Error{Code: ErrCodeInvalidRequest, Description: "resource must be an acct: or https: URI"})
		return
	}
	if !slices.ContainsFunc(d.s.WebFingerDomains, func(domain string) bool { return strings.EqualFold(domain, host) }) {
		d.writeError(w, r, &Error{Code: ErrCodeNotFound, Description: "no issuer for this resource", Status: http.StatusNotFound})
		return
	}
	answer := jrd{Subject: resource, Links: []jrdLink{}}
	if rels := q["rel"]; len(rels) == 0 || slices.Contains(rels, RelIssuer) {
		answer.Links = append(answer.Links, jrdLink{Rel: RelIssuer, Href: d.s.Issuer})
	}
	body, err := json.Marshal(answer)
	if err != nil {
		d.writeError(w, r, internalError(err))
		return
	}
	h.Set("Content-Type", "application/jrd+json")
	h.Set("Cache-Control", publicCache)
	_, _ = w.Write(body)
}

// resourceHost is the host a WebFinger resource belongs to: the part
// after the last @ of an acct: URI (RFC 7565), or an https URL's host
// name. ok is false for anything else.
func resourceHost(resource string) (host string, ok bool) {
	if rest, found := strings.CutPrefix(resource, "acct:"); found {
		i := strings.LastIndexByte(rest, '@')
		if i <= 0 || i == len(rest)-1 {
			return "", false
		}
		host = rest[i+1:]
		return host, !strings.ContainsAny(host, "/?#@:[] ")
	}
	u, err := url.Parse(resource)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
		return "", false
	}
	return u.Hostname(), true
}
