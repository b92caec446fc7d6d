package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"time"
)

// The pushed authorization request endpoint (RFC 9126), served by the
// token function: the client authenticates as at the token endpoint and
// pushes its authorization request over the back channel; the request is
// validated as the authorization endpoint would (authValidator), stored
// for a short while under a single-use request_uri, and the browser goes
// to the authorization endpoint with client_id and request_uri alone.

// MaxPARLifetime bounds PARPolicy.Lifetime: RFC 9126 §2.2 suggests
// between five and 600 seconds.
const MaxPARLifetime = 10 * time.Minute

// PARPolicy is pushed authorization requests' policy.
type PARPolicy struct {
	// Required refuses every authorization request that was not pushed
	// (RFC 9126 §5 require_pushed_authorization_requests); Client.RequirePAR
	// does so for one client.
	Required bool
	// Lifetime is how long a request_uri may be used (expires_in); default
	// 60s, at most MaxPARLifetime.
	Lifetime time.Duration
}

// parEndpoint serves PathPAR.
type parEndpoint struct {
	t         *Token
	validator *authValidator
	objects   *requestObjects
	store     PushedRequestStore // nil: every push is refused
}

// parResponse is RFC 9126 §2.2's.
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int64  `json:"expires_in"`
}

func (p *parEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	p.t.dpop.offerNonce(w, r)
	resp, err := p.push(w, r)
	if err != nil {
		p.t.writeError(w, r, jsonError(err))
		return
	}
	// RFC 9126 §2.2: 201 Created.
	writeJSON(w, http.StatusCreated, resp)
}

func (p *parEndpoint) push(w http.ResponseWriter, r *http.Request) (parResponse, error) {
	params, client, err := p.t.backChannelRequest(w, r)
	if err != nil {
		return parResponse{}, err
	}
	if p.store == nil {
		return parResponse{}, errorf(ErrCodeInvalidRequest, "pushed authorization requests are not available")
	}
	if params.Has("request_uri") {
		// RFC 9126 §2.1: request_uri MUST NOT be provided.
		return parResponse{}, errorf(ErrCodeInvalidRequest, "request_uri cannot be pushed")
	}
	if params.Has("request") {
		// RFC 9126 §3: the request object's parameters, and those alone
		// (RFC 9101 §6.3), once it is verified with the authenticated
		// client's keys.
		if params, err = p.objects.decode(r.Context(), client, params.Get("request")); err != nil {
			return parResponse{}, err
		}
	}
	params = authParams(params, client.ID)
	jkt, err := p.t.dpop.proof(r, PathPAR, "", dpopAlgsOf(client))
	if err != nil {
		return parResponse{}, err
	}
	if jkt != "" {
		// RFC 9449 §10.1: a proof at PAR binds the code to its key, as
		// dpop_jkt does; both must then name the same key.
		if v := params.Get("dpop_jkt"); v != "" && v != jkt {
			return parResponse{}, dpopError("dpop_jkt is not the DPoP proof's key")
		}
		params.Set("dpop_jkt", jkt)
	}
	if _, err := p.validator.validate(r, params, true); err != nil {
		return parResponse{}, err
	}
	return p.save(r, client.ID, params)
}

// authParams are the pushed request's parameters, client_id set to the
// authenticated client (a mismatch was refused by client authentication)
// and the client authentication parameters left out.
func authParams(params url.Values, clientID string) url.Values {
	out := url.Values{}
	for k, v := range params {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type":
		default:
			out[k] = v
		}
	}
	out.Set("client_id", clientID)
	return out
}

func (p *parEndpoint) save(r *http.Request, clientID string, params url.Values) (parResponse, error) {
	secret, err := newSecret(p.t.rand)
	if err != nil {
		return parResponse{}, internalError(err)
	}
	uri := parURNPrefix + secret
	lifetime := p.t.s.PAR.Lifetime
	err = p.store.CreatePushedRequest(r.Context(), PushedRequest{
		ID: pushedRequestID(clientID, uri), ClientID: clientID, Params: params.Encode(), Expiry: p.t.now().Add(lifetime),
	})
	if err != nil {
		return parResponse{}, internalError(err)
	}
	return parResponse{RequestURI: uri, ExpiresIn: int64(lifetime / time.Second)}, nil
}

// jsonError makes a front-channel error (a page or a redirect, as the
// authorization endpoint's validation returns them) a JSON one: PAR's
// errors are the token endpoint's (RFC 9126 §2.3).
func jsonError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Page, c.redirect = false, nil
		return &c
	}
	return err
}
