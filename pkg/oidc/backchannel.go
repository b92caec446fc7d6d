package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// OpenID Connect Back-Channel Logout 1.0. When a single sign-on session
// ends (RP-initiated logout, or a new login in the browser replacing it),
// every client the session signed in to (Session.ClientID and
// Session.Clients) that registered a backchannel_logout_uri gets a logout
// token (§2.4), POSTed as logout_token (§2.5). ID tokens issued from a
// session carry its sid (§2.1), always: whether or not a client set
// backchannel_logout_session_required, so an RP can tie a logout token to
// the very login it ends. A session that times out ends unannounced (the
// provider learns of it only when the browser comes back).
//
// Delivery runs within the request that ends the session, concurrently
// for all receivers, each attempt bounded (BackchannelLogoutDelivery), on
// a context detached from the browser's so that a browser hanging up does
// not cut it short. It never fails the request: a receiver that fails is
// logged. It runs within the request because on Lambda the execution
// environment is frozen once the response is returned: work left to a
// goroutine would be suspended until the next invocation, or lost.

// typLogoutToken is the logout token's typ header (§2.4: "logout+jwt"),
// so that it can never pass for an ID token or an access token.
const typLogoutToken = "logout+jwt"

// EventBackchannelLogout is the one member of a logout token's events
// claim (§2.4).
const EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenLifetime: §2.4 recommends a short exp ("two minutes or less").
const logoutTokenLifetime = 2 * time.Minute

// maxSessionClients bounds Session.Clients: clients past it are not
// recorded (and not notified), so a session item cannot grow without end.
const maxSessionClients = 64

// BackchannelLogoutDelivery bounds the delivery of logout tokens.
type BackchannelLogoutDelivery struct {
	// Timeout bounds each POST; default 2s.
	Timeout time.Duration
	// Attempts is how often a receiver is tried when it fails with a
	// network error, a timeout, 429 or a 5xx (a 4xx other than 429 is
	// final: the RP refused the token); default 3.
	Attempts int
	// Backoff is the pause before the second attempt, doubled before each
	// later one; default 200ms.
	Backoff time.Duration
	// Budget bounds the whole delivery, every receiver and retry, and
	// with it the delay added to the request that ended the session;
	// default 5s. Never more than the request's own deadline allows.
	Budget time.Duration
}

func (d BackchannelLogoutDelivery) withDefaults() BackchannelLogoutDelivery {
	setDefault(&d.Timeout, 2*time.Second)
	setDefault(&d.Backoff, 200*time.Millisecond)
	setDefault(&d.Budget, 5*time.Second)
	if d.Attempts <= 0 {
		d.Attempts = 3
	}
	return d
}

// CheckBackchannelLogoutURI applies the rules of §2.2 and of redirect
// URIs: an absolute https URL with a host, or http on a loopback host
// only; a query is allowed, a fragment is not. The error's text says what
// is wrong, without a prefix.
func CheckBackchannelLogoutURI(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("must not be empty")
	case err != nil || strings.TrimSpace(s) != s:
		return fmt.Errorf("%q is not a valid URI", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("%q must not contain a fragment (Back-Channel Logout §2.2)", s)
	case u.User != nil:
		return fmt.Errorf("%q must not contain user information", s)
	case u.Hostname() == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute http(s) URL with a host", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackName(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%q: http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https", s)
	}
	return fmt.Errorf("%q: the scheme must be https", s)
}

// logoutTokenClaims are a logout token's claims (§2.4): never a nonce.
type logoutTokenClaims struct {
	jwt.RegisteredClaims
	SID    string              `json:"sid,omitempty"`
	Events map[string]struct{} `json:"events"`
}

// backchannel delivers logout tokens.
type backchannel struct {
	*base
	clients  ClientStore
	delivery BackchannelLogoutDelivery
	// operator posts to the URIs of static and operator-made clients; its
	// transport is the caller's. registered posts to those of clients that
	// registered themselves, to public addresses only (see publicOnly).
	operator, registered *http.Client
}

func newBackchannel(b *base, clients ClientStore, client *http.Client) *backchannel {
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	operator := &http.Client{CheckRedirect: noRedirect}
	if client != nil {
		operator.Transport = client.Transport
	}
	registered := &http.Client{CheckRedirect: noRedirect, Transport: publicOnlyTransport()}
	return &backchannel{base: b, clients: clients, delivery: b.s.BackchannelLogout.withDefaults(), operator: operator, registered: registered}
}

// logout tells every client session s signed in to, that has a
// backchannel_logout_uri, that s ended. It returns when all are done or
// the budget is spent; failures are logged.
func (bc *backchannel) logout(ctx context.Context, s Session) {
	ids := slices.Compact(slices.Sorted(slices.Values(append([]string{s.ClientID}, s.Clients...))))
	dctx, cancel := bc.deadline(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		if id == "" {
			continue
		}
		wg.Go(func() {
			if err := bc.notify(dctx, id, s); err != nil {
				bc.log.WarnContext(ctx, "back-channel logout failed", "client_id", id, "error", err, "request_id", RequestID(ctx))
			}
		})
	}
	wg.Wait()
}

// deadline is the delivery's context: not cancelled with the request,
// ending after the budget, or earlier when the request's own deadline (a
// Lambda invocation's) is nearer, leaving time to answer.
func (bc *backchannel) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	budget := bc.delivery.Budget
	if d, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(d)-time.Second)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), max(budget, 0))
}

// notify delivers one logout token to client id, if it has a URI.
func (bc *backchannel) notify(ctx context.Context, id string, s Session) error {
	c, err := bc.clients.Client(ctx, id)
	if isNotFound(err) || (err == nil && c.BackchannelLogoutURI == "") {
		return nil
	}
	if err != nil {
		return err
	}
	token, err := bc.mintLogoutToken(ctx, c, s)
	if err != nil {
		return err
	}
	hc := bc.operator
	if c.SelfRegistered {
		hc = bc.registered
	}
	return bc.post(ctx, hc, c.BackchannelLogoutURI, token)
}

// mintLogoutToken signs a logout token (§2.4) for client c about session
// s, with the key of the client's ID token algorithm: the RP verifies it
// as it verifies ID tokens (§2.6).
func (bc *backchannel) mintLogoutToken(ctx context.Context, c Client, s Session) (string, error) {
	now := bc.now().Truncate(time.Second)
	jti, err := newSecret(bc.rand)
	if err != nil {
		return "", err
	}
	key, err := bc.idTokenKey(ctx, c.IDTokenSigningAlg)
	if err != nil {
		return "", err
	}
	return bc.sign(ctx, key, typLogoutToken, logoutTokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    bc.s.Issuer,
			Subject:   s.Subject,
			Audience:  jwt.ClaimStrings{c.ID},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(logoutTokenLifetime)),
			ID:        jti,
		},
		SID:    s.SID,
		Events: map[string]struct{}{EventBackchannelLogout: {}},
	})
}

// post sends the logout token (§2.5), retrying failures that may pass
// (network errors, timeouts, 429, 5xx) with backoff, up to Attempts.
func (bc *backchannel) post(ctx context.Context, hc *http.Client, uri, token string) error {
	pause := bc.delivery.Backoff
	for attempt := 1; ; attempt++ {
		status, err := bc.postOnce(ctx, hc, uri, token)
		if err == nil && status >= 200 && status < 300 {
			return nil // §2.8: 200 OK; 204 is accepted too
		}
		if err == nil {
			err = fmt.Errorf("answered %d", status)
		}
		retry := status == 0 || status == http.StatusTooManyRequests || status >= 500
		if !retry || attempt >= bc.delivery.Attempts {
			return fmt.Errorf("after %d attempt(s): %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %d attempt(s), out of time: %w", attempt, err)
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// postOnce makes one POST; status 0 with an error when there is no answer.
func (bc *backchannel) postOnce(ctx context.Context, hc *http.Client, uri, token string) (int, error) {
	actx, cancel := context.WithTimeout(ctx, bc.delivery.Timeout)
	defer cancel()
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, redactURLError(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return resp.StatusCode, nil
}

// redactURLError keeps the cause of a failed request, without the URL
// (which the log names by client id).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
