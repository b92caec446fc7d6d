package oidc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Where an authorization request's parameters come from: the query (or
// form) itself, a request object (request, RFC 9101 by value), or a
// pushed request (request_uri from PAR, RFC 9126 §4). Never from a URL:
// a request_uri other than PAR's is refused with request_uri_not_supported
// (authrequest.go), so the provider fetches nothing a request names.

// parURNPrefix starts every request_uri the PAR endpoint issues
// (RFC 9126 §2.2).
const parURNPrefix = "urn:ietf:params:oauth:request_uri:"

// pushedRequestID is the stored id of request_uri pushed by clientID:
// a request_uri brought with another client_id finds nothing, and does
// not use up the request of the client that pushed it.
func pushedRequestID(clientID, requestURI string) string {
	return HashSecret(clientID + " " + requestURI)
}

// authRequestSources resolves the parameters of an authorization request.
type authRequestSources struct {
	clients ClientStore
	pushed  PushedRequestStore // nil: every PAR request_uri is refused
	objects *requestObjects
}

// resolve returns the parameters the authorization request is made of,
// and whether they were pushed. Its errors are pages, or go back to the
// redirect URI the query itself proves (authValidator.redirectTo).
func (s *authRequestSources) resolve(ctx context.Context, params url.Values) (url.Values, bool, error) {
	uri, hasURI := params["request_uri"]
	switch {
	case hasURI && params.Has("request"):
		// RFC 9101 §5: one or the other.
		return nil, false, errorf(ErrCodeInvalidRequest, "request and request_uri cannot both be sent")
	case hasURI && strings.HasPrefix(uri[0], parURNPrefix):
		vals, err := s.takePushed(ctx, params.Get("client_id"), uri[0])
		return vals, err == nil, err
	case params.Has("request"):
		vals, err := s.fromObject(ctx, params)
		return vals, false, err
	}
	return params, false, nil
}

// takePushed consumes the pushed request: single use (RFC 9126 §4), so the
// first navigation with it becomes the pending authorization request that
// the login and consent pages carry on, and any later one is refused.
func (s *authRequestSources) takePushed(ctx context.Context, clientID, uri string) (url.Values, error) {
	if clientID == "" {
		return nil, pageError(errorf(ErrCodeInvalidRequest, "client_id is missing"))
	}
	gone := pageError(errorf(ErrCodeInvalidRequestURI, "the request_uri is unknown, expired or already used"))
	if s.pushed == nil || len(uri) > maxParamLength || len(clientID) > maxClientIDLength {
		return nil, gone
	}
	r, err := s.pushed.TakePushedRequest(ctx, pushedRequestID(clientID, uri))
	if isNotFound(err) {
		return nil, gone
	}
	if err != nil {
		return nil, internalPageError(err)
	}
	vals, err := url.ParseQuery(r.Params)
	if err != nil || r.ClientID != clientID || vals.Get("client_id") != clientID {
		return nil, gone
	}
	return vals, nil
}

// fromObject verifies a request object sent by value and returns its
// parameters (RFC 9101 §6.3). OpenID Connect Core §6.1 has client_id and
// response_type in the query too: when there, they must match the
// object's.
func (s *authRequestSources) fromObject(ctx context.Context, params url.Values) (url.Values, error) {
	clientID := params.Get("client_id")
	if clientID == "" {
		// RFC 9101 §5: client_id is REQUIRED beside the object.
		return nil, pageError(errorf(ErrCodeInvalidRequest, "client_id is missing"))
	}
	client, err := s.clients.Client(ctx, clientID)
	if isNotFound(err) {
		return nil, pageError(errorf(ErrCodeInvalidRequest, "unknown client"))
	}
	if err != nil {
		return nil, internalPageError(err)
	}
	vals, err := s.objects.decode(ctx, client, params.Get("request"))
	if err != nil {
		return nil, err
	}
	if rt := params.Get("response_type"); rt != "" && vals.Has("response_type") && rt != vals.Get("response_type") {
		return nil, badRequestObject("response_type differs between the query and the request object")
	}
	return vals, nil
}

// redirectTo sends e, an error about a request object, to the redirect
// URI the query proves (its client_id and one of that client's registered
// redirect_uri, as proveClient checks them: the only redirect URIs an
// error may go to), with the query's state; without one, or for a page
// error (an unusable request_uri), the user sees a page.
func (a *authValidator) redirectTo(r *http.Request, params url.Values, err error) error {
	e, ok := err.(*Error)
	if !ok || e.Page {
		return pageError(err)
	}
	client, redirectURI, perr := a.proveClient(r.Context(), params)
	if perr != nil || checkProfileRedirect(client, redirectURI) != nil {
		return pageError(e)
	}
	rawType := params.Get("response_type")
	responseType, typeOK := parseResponseType(rawType)
	mode, _ := responseModeFor(params.Get("response_mode"), rawType, responseType, typeOK, redirectURI)
	state := params.Get("state")
	if len(state) > maxParamLength {
		state = ""
	}
	e.redirect = &authResponse{redirectURI: redirectURI, mode: mode, state: state, post: r.Method == http.MethodPost}
	return e
}

// pageError shows err to the user: an *Error becomes a page, anything
// else an internal error page.
func pageError(err error) error {
	if e, ok := err.(*Error); ok {
		e.Page, e.redirect = true, nil
		return e
	}
	return internalPageError(err)
}
