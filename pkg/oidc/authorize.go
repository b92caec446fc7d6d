package oidc

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// Authorize serves the authorization endpoint, the login and consent pages
// a browser posts to while signing in, and RP-initiated logout: the
// authorize function.
//
// An authorization request flows through this package in reading order:
// authorize.go (the decision), authrequest.go (validation in two phases),
// session.go (is the browser signed
// in?), consent.go (is an approval needed?), login.go (the password form),
// issue.go (the answer, signed and stored in one write), respond.go (sent
// back in the response mode).
type Authorize struct {
	base
	clients      ClientStore
	users        directory
	connectors   connectors
	authRequests AuthRequestStore
	codes        CodeStore
	consents     ConsentStore
	sessions     *browserSessions
	throttle     *throttle
	upstream     *upstream
	device       *deviceFlow // nil when the device grant is disabled
	validator    *authValidator
	requests     *authRequestSources
	handler      http.Handler
}

// AuthorizeBackends are what the authorize function reads and writes.
type AuthorizeBackends struct {
	Clients      ClientStore
	Users        UserStore
	AuthRequests AuthRequestStore
	Codes        CodeStore
	Sessions     SessionStore
	Consents     ConsentStore
	Attempts     LoginAttempts
	Signer       Signer // signs front-channel tokens; its keys verify id_token_hint
	// Connectors are where users log in, in login page order; none: the
	// password database alone. Callback connectors need ConnectorStates
	// and Identities.
	Connectors      []Connector
	ConnectorStates ConnectorStateStore
	Identities      IdentityStore
	// LogoutHTTPClient's transport carries back-channel logout tokens to
	// operator-made clients (nil: http.DefaultTransport); self-registered
	// clients' go to public addresses only, whatever it is.
	LogoutHTTPClient *http.Client
	// Devices holds device authorizations; needed only when the device
	// grant (GrantDeviceCode) is enabled: the user page decides them.
	Devices DeviceRequestStore
	// PushedRequests are the requests pushed to PAR (RFC 9126); nil:
	// every PAR request_uri is refused (invalid_request_uri).
	PushedRequests PushedRequestStore
	// Replays remembers the jti of request objects (RFC 9101); nil:
	// request objects are refused (request_not_supported).
	Replays ReplayStore
	// Pages renders the login, consent, device and error pages: HTMLPages().
	Pages Pages
}

// NewAuthorize builds the authorize function's endpoints. It does no I/O.
func NewAuthorize(s Settings, b AuthorizeBackends) (*Authorize, error) {
	if b.Clients == nil || b.Users == nil || b.AuthRequests == nil || b.Codes == nil || b.Sessions == nil ||
		b.Consents == nil || b.Attempts == nil || b.Signer == nil || b.Pages == nil {
		return nil, errMissingBackend("authorize", "Clients", "Users", "AuthRequests", "Codes", "Sessions", "Consents", "Attempts", "Signer", "Pages")
	}
	base, err := newBase(s, b.Signer)
	if err != nil {
		return nil, err
	}
	b.Clients = withProfile(base.s, b.Clients)
	base.pages = b.Pages
	cs, err := checkConnectors(b.Connectors, b.Identities)
	if err != nil {
		return nil, err
	}
	if b.Devices == nil && deviceEnabled(base.s) {
		return nil, errMissingBackend("authorize", "Devices (the device grant is enabled)")
	}
	if cs.hasCallback() && b.ConnectorStates == nil {
		return nil, errMissingBackend("authorize", "ConnectorStates (for the callback connectors)")
	}
	users := directory{users: b.Users, identities: b.Identities, plain: s.PlainSubjects, known: cs.ids()}
	a := &Authorize{base: base, clients: b.Clients, users: users, connectors: cs, authRequests: b.AuthRequests, codes: b.Codes, consents: b.Consents}
	a.sessions = &browserSessions{base: &a.base, store: b.Sessions, users: users, clients: b.Clients, connectors: cs,
		backchannel: newBackchannel(&a.base, b.Clients, b.LogoutHTTPClient)}
	a.throttle = &throttle{base: &a.base, attempts: b.Attempts}
	a.validator = &authValidator{base: &a.base, clients: b.Clients, connectors: cs}
	a.requests = &authRequestSources{clients: b.Clients, pushed: b.PushedRequests,
		objects: &requestObjects{b: &a.base, replays: b.Replays, keys: newClientKeySets(base.now)}}
	a.upstream = &upstream{base: &a.base, connectors: cs, states: b.ConnectorStates, identities: b.Identities, users: users, authRequests: b.AuthRequests}
	if deviceEnabled(base.s) {
		a.device = &deviceFlow{Authorize: a, store: b.Devices}
	}
	a.handler = a.router(a.handlers(), FunctionAuthorize)
	return a, nil
}

// Handler serves the authorize function's routes.
func (a *Authorize) Handler() http.Handler { return a.handler }

func (a *Authorize) handlers() map[string]http.HandlerFunc {
	h := map[string]http.HandlerFunc{
		PathAuthorize: a.handle(a.serveAuthorize),
		// The login page's two answers: a connector chosen from its list
		// (GET, a link: a navigation to another site after a form post
		// would be refused by form-action), or the password form (POST).
		PathLogin:             a.handle(byMethod(a.chooseConnector, a.checkPassword)),
		PathCallback:          a.handle(a.serveCallback),
		PathCallbackConnector: a.handle(a.serveCallback),
		PathConsent:           a.handle(a.serveConsent),
		PathLogout:            a.handle(a.serveLogout),
		PathStatic:            staticFiles(&a.base),
		PathTheme:             staticFiles(&a.base),
	}
	if a.device != nil {
		h[PathDevice] = a.handle(byMethod(a.device.serveForm, a.device.submitCode))
	}
	return h
}

// byMethod serves GET (and HEAD) with get and POST with post; the router
// has refused every other method.
func byMethod(get, post func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == http.MethodPost {
			return post(w, r)
		}
		return get(w, r)
	}
}

// handle adapts a handler that returns its error to the one error writer.
func (a *Authorize) handle(serve func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := serve(w, r); err != nil {
			a.writeError(w, r, err)
		}
	}
}

// serveAuthorize validates an authorization request (RFC 6749 §4.1.1,
// OpenID Connect Core §3.1.2.1) and answers it.
func (a *Authorize) serveAuthorize(w http.ResponseWriter, r *http.Request) error {
	params, err := readParams(w, r, true)
	if err != nil {
		return err
	}
	resolved, pushed, err := a.requests.resolve(r.Context(), params)
	if err != nil {
		return a.validator.redirectTo(r, params, err)
	}
	req, err := a.validator.validate(r, resolved, pushed)
	if err != nil {
		return err
	}
	return a.authorize(w, r, req)
}

// authorize answers a valid request: silently from the single sign-on
// session when it suffices (OpenID Connect Core §3.1.2.3), otherwise with
// the login or the approval page; prompt=none never shows a page and
// answers login_required or consent_required instead (§3.1.2.6).
func (a *Authorize) authorize(w http.ResponseWriter, r *http.Request, req AuthRequest) error {
	ctx := r.Context()
	session, user, ok, err := a.sessions.currentFor(ctx, r, req)
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	silent := slices.Contains(req.Prompt, promptNone)
	// A grant that asks the connector again at refresh needs a login of
	// its own upstream (federated.go).
	if !ok || loginRequired(a.now(), req, session) || renewsUpstream(a.connectors, req, user) {
		if silent {
			return frontChannelError(req, errorf(ErrCodeLoginRequired, "the user must log in"))
		}
		return a.startLogin(w, r, req)
	}
	req.Subject, req.AuthTime, req.AMR, req.SID = session.Subject, session.AuthTime, session.AMR, session.SID
	var fed *federated
	if user.ConnectorID != ConnectorLocal {
		fed = &federated{User: user}
	}
	consent, err := a.needsConsent(ctx, req)
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	if consent {
		if silent {
			return frontChannelError(req, errorf(ErrCodeConsentRequired, "the user must approve this client"))
		}
		// The session answers once the user approves: the client joins it
		// now, beside the pending request's write, as no read of the
		// session is due then (a denial leaves an RP that gets a logout
		// token for a sid it never saw, which it ignores).
		return a.besides(ctx, "recording the session's client",
			func() error { return a.sessions.record(ctx, session, req.ClientID) },
			func() error { return a.startConsent(w, r, req, fed) })
	}
	var resp authResponse
	err = a.besides(ctx, "recording session activity",
		func() error { return a.sessions.record(ctx, session, req.ClientID) },
		func() (err error) { resp, err = a.issue(ctx, req, fed); return err },
	)
	if err != nil {
		return issueError(req, err)
	}
	a.deliver(w, r, resp)
	return nil
}

// loginRequired reports whether req asks for a fresh login despite the
// live session: prompt=login or select_account, a max_age the session's
// authentication is older than, or an id_token_hint naming someone else
// (OpenID Connect Core §3.1.2.1).
func loginRequired(now time.Time, req AuthRequest, session Session) bool {
	return slices.Contains(req.Prompt, promptLogin) || slices.Contains(req.Prompt, promptSelectAccount) ||
		req.MaxAge == 0 || (req.MaxAge > 0 && now.Sub(session.AuthTime) > time.Duration(req.MaxAge)*time.Second) ||
		(req.HintSubject != "" && req.HintSubject != session.Subject)
}

// unverifiable reports whether a request of client with redirectURI could
// come from any app on the device (RFC 8252 §8.6): a public client
// redirecting out of band, to a private-use scheme, or to a loopback
// address, where any local process can listen on a port and bring its own
// PKCE pair. Such requests never get a code without the approval page.
func unverifiable(client Client, redirectURI string) bool {
	if redirectURI == deviceRedirect {
		// A device's request: whoever typed the code may not be whoever
		// holds the device (RFC 8628 §5.4); always ask, never remember.
		return true
	}
	if !client.Public {
		return false
	}
	_, loopback := parseLoopback(redirectURI)
	return redirectURI == redirectOOB || !isHTTPURL(redirectURI) || loopback
}

// trustsPeer reports whether client peer lists client in trustedPeers, so
// that client may obtain ID tokens with peer in the audience (Dex's
// cross-client trust). An unknown peer trusts no one; a store failure is
// the caller's internal error, never a refusal.
func trustsPeer(ctx context.Context, clients ClientStore, peer, client string) (bool, error) {
	if peer == client {
		return true, nil
	}
	c, err := clients.Client(ctx, peer)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slices.Contains(c.TrustedPeers, client), nil
}
