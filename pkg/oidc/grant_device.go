package oidc

import (
	"context"
	"crypto/hpke"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The device authorization grant (RFC 8628), at Dex's paths: the device
// authorization endpoint (PathDeviceCode, here), the user page
// (PathDevice, device.go, in the authorize function) and polling at the
// token endpoint (deviceCodeGrant, here).

// GrantDeviceCode is the device authorization grant's grant type
// (RFC 8628 §3.4). On by default, as in Dex: every client may use it
// unless its Client.GrantTypes leave it out.
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Error codes of the device access token response (RFC 8628 §3.5).
const (
	ErrCodeAuthorizationPending = "authorization_pending"
	ErrCodeSlowDown             = "slow_down"
	ErrCodeExpiredToken         = "expired_token"
)

// slowDownStep is what each slow_down adds to the interval (RFC 8628
// §3.5: "MUST be increased by 5 seconds for this and all subsequent
// requests").
const slowDownStep = 5 * time.Second

// pollTolerance is how much sooner than the interval a poll may arrive
// and still count as on time: containers' clocks and networks jitter.
const pollTolerance = 250 * time.Millisecond

// deviceEnabled reports whether the device grant is enabled provider-wide.
func deviceEnabled(s Settings) bool { return slices.Contains(s.GrantTypes, GrantDeviceCode) }

// tokenDevices is the token function's side of the device grant.
type tokenDevices struct {
	*Token
	store DeviceRequestStore
}

// deviceAuthResponse is RFC 8628 §3.2's answer.
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// serveDeviceAuthorization is the device authorization endpoint
// (RFC 8628 §3.1, §3.2): the client authenticates as at the token
// endpoint (public clients by client_id), and gets a device code and a
// user code.
func (d *tokenDevices) serveDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	resp, err := d.authorizeDevice(w, r)
	if err != nil {
		d.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (d *tokenDevices) authorizeDevice(w http.ResponseWriter, r *http.Request) (deviceAuthResponse, error) {
	params, client, err := d.backChannelRequest(w, r)
	if err != nil {
		return deviceAuthResponse{}, err
	}
	if !clientMayUse(client, GrantDeviceCode) {
		// RFC 8628 §3.2 answers with RFC 6749 §5.2's codes.
		return deviceAuthResponse{}, errorf(ErrCodeUnauthorizedClient, "this client may not use the device grant")
	}
	scopes := strings.Fields(params.Get("scope"))
	if !slices.Contains(scopes, ScopeOpenID) {
		// As at /authorize: the tokens are an OpenID Connect login's.
		return deviceAuthResponse{}, errorf(ErrCodeInvalidScope, "scope must contain openid")
	}
	for _, peer := range peerAudiences(scopes) {
		switch ok, err := trustsPeer(r.Context(), d.clients, peer, client.ID); {
		case err != nil:
			return deviceAuthResponse{}, internalError(err)
		case !ok:
			return deviceAuthResponse{}, errorf(ErrCodeInvalidScope, errUntrustedPeer)
		}
	}
	deviceCode, userCode, err := d.create(r.Context(), client, grantedScopes(scopes))
	if err != nil {
		return deviceAuthResponse{}, internalError(err)
	}
	shown := showUserCode(userCode)
	return deviceAuthResponse{
		DeviceCode:              deviceCode,
		UserCode:                shown,
		VerificationURI:         d.URL(PathDevice),
		VerificationURIComplete: d.URL(PathDevice) + "?" + url.Values{"user_code": {shown}}.Encode(),
		ExpiresIn:               int64(d.s.DeviceRequestLifetime / time.Second),
		Interval:                int64(d.s.DevicePollInterval / time.Second),
	}, nil
}

// create stores a new pending request with fresh codes; a user code
// already in use (one in about 10^7 with a million live requests) draws
// again.
func (d *tokenDevices) create(ctx context.Context, client Client, scopes []string) (deviceCode, userCode string, err error) {
	for range 3 {
		if deviceCode, err = newSecret(d.rand); err != nil {
			return "", "", err
		}
		if userCode, err = newUserCode(d.rand); err != nil {
			return "", "", err
		}
		var key hpke.PrivateKey
		if key, err = deviceKey(deviceCode); err != nil {
			return "", "", err
		}
		now := d.now()
		err = d.store.CreateDeviceRequest(ctx, DeviceRequest{
			ID: HashSecret(deviceCode), UserCodeHash: HashSecret(userCode), ClientID: client.ID, Scopes: scopes,
			SealKey: key.PublicKey().Bytes(), Interval: d.s.DevicePollInterval, Status: DevicePending,
			CodeExpiry: now.Add(d.s.DeviceRequestLifetime),
			// Kept as long again, so that a late poll is told expired_token.
			Expiry: now.Add(2 * d.s.DeviceRequestLifetime),
		})
		if !errors.Is(err, ErrConflict) {
			return deviceCode, userCode, err
		}
	}
	return "", "", err
}

// deviceCodeGrant is the grants table's entry for GrantDeviceCode.
func deviceCodeGrant(t *Token, ctx context.Context, req tokenRequest) (tokenSet, error) {
	return t.devices.poll(ctx, req)
}

// poll answers a device access token request (RFC 8628 §3.4, §3.5).
func (d *tokenDevices) poll(ctx context.Context, req tokenRequest) (tokenSet, error) {
	raw := req.params.Get("device_code")
	if raw == "" {
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "device_code is missing")
	}
	dr, err := d.store.DeviceRequest(ctx, HashSecret(raw))
	switch {
	case isNotFound(err):
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the device code is invalid or expired")
	case err != nil:
		return tokenSet{}, internalError(err)
	case dr.ClientID != req.client.ID:
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the device code was issued to another client")
	case dr.Status == DeviceRedeemed:
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the device code was already used")
	case !d.now().Before(dr.CodeExpiry):
		return tokenSet{}, errorf(ErrCodeExpiredToken, "the device code has expired")
	case dr.Status == DeviceDenied:
		return tokenSet{}, errorf(ErrCodeAccessDenied, "the user denied the request")
	case dr.Status == DeviceApproved:
		return d.redeem(ctx, req, dr, raw)
	}
	return tokenSet{}, d.pending(ctx, dr)
}

// pending answers a poll of a request the user has not decided:
// authorization_pending, or slow_down when it came sooner than the
// interval, which then grows by slowDownStep for this device code
// (RFC 8628 §3.5). The poll is recorded either way.
func (d *tokenDevices) pending(ctx context.Context, dr DeviceRequest) error {
	now := d.now()
	e := errorf(ErrCodeAuthorizationPending, "the user has not yet approved the request")
	if !dr.LastPoll.IsZero() && now.Sub(dr.LastPoll) < dr.Interval-pollTolerance {
		dr.Interval += slowDownStep
		e = errorf(ErrCodeSlowDown, "polling too fast: wait the interval, now "+dr.Interval.String())
	}
	if err := d.store.RecordDevicePoll(ctx, dr.ID, now, dr.Interval); err != nil {
		if isNotFound(err) {
			return errorf(ErrCodeInvalidGrant, "the device code is invalid or expired")
		}
		return internalError(err)
	}
	return e
}

// redeem issues the tokens of an approved request: those of the code
// flow, signed first, then the request is redeemed and the grant stored
// in one atomic step (DESIGN "Nothing lost"). Of concurrent pollers
// exactly one gets them; the others' tokens are discarded.
func (d *tokenDevices) redeem(ctx context.Context, req tokenRequest, dr DeviceRequest, raw string) (tokenSet, error) {
	fed, err := openFromDevice(raw, dr.ConnectorData)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	user, err := d.grantUser(ctx, dr.Subject, fed)
	switch {
	case isNotFound(err) || (err == nil && user.Disabled):
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the user no longer exists")
	case err != nil:
		return tokenSet{}, internalError(err)
	}
	g := grant{ClientID: dr.ClientID, Subject: dr.Subject, Scopes: dr.Scopes, AuthTime: dr.AuthTime, AMR: dr.AMR,
		IDTokenAlg: req.client.IDTokenSigningAlg, JKT: req.jkt}
	refresh, refreshToken, err := d.newGrant(g, req.client, fed)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	g.GrantID = refresh.ID
	set, err := d.mintTokens(ctx, g, user)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	set.RefreshToken = refreshToken
	wctx, cancel := detach(ctx)
	defer cancel()
	if err := d.store.RedeemDeviceRequest(wctx, dr.ID, refresh); err != nil {
		if isNotFound(err) {
			return tokenSet{}, errorf(ErrCodeInvalidGrant, "the device code was already used")
		}
		return tokenSet{}, internalError(err)
	}
	return set, nil
}
