package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// The user page of the device authorization grant (RFC 8628 §3.3), in
// the authorize function: the user enters the code the device shows; a
// known pending code becomes a pending AuthRequest (DeviceRequestID set,
// redirect URI deviceRedirect) that runs the normal login (connectors
// included) and the approval page, which a device request always shows
// (unverifiable). Its answer is recorded on the device request and the
// browser gets a "return to your device" page instead of a redirect.

// deviceRedirect is the redirect URI of a device's pending request: no
// client endpoint, so deliver and writeError show the device's page.
const deviceRedirect = GrantDeviceCode

// UserCodeThrottle limits the user codes tried at the device page
// (RFC 8628 §5.1): per client address and over all addresses, in fixed
// windows counted through LoginAttempts. A wrong code keeps its slot; a
// right one gives it back.
type UserCodeThrottle struct {
	Window time.Duration // default 15m
	PerIP  int           // default 20
	Global int           // default 1000
}

func (t UserCodeThrottle) withDefaults() UserCodeThrottle {
	setDefault(&t.Window, 15*time.Minute)
	if t.PerIP <= 0 {
		t.PerIP = 20
	}
	if t.Global <= 0 {
		t.Global = 1000
	}
	return t
}

// deviceFlow is the authorize function's side of the device grant.
type deviceFlow struct {
	*Authorize
	store DeviceRequestStore
}

type devicePage struct {
	Title, Action, UserCode, Error string
}

type deviceDonePage struct {
	Title    string
	Approved bool
	Message  string
}

// serveForm shows the code form, prefilled from verification_uri_complete's
// user_code (RFC 8628 §3.3.1): the user still confirms it with a click.
func (d *deviceFlow) serveForm(w http.ResponseWriter, r *http.Request) error {
	params, err := readParams(w, r, true)
	if err != nil {
		return err
	}
	code := ""
	if c, ok := canonicalUserCode(params.Get("user_code")); ok {
		code = showUserCode(c)
	}
	d.renderForm(w, r, http.StatusOK, code, "")
	return nil
}

func (d *deviceFlow) renderForm(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	d.render(w, r, status, "", devicePage{Title: "Connect a device", Action: d.URL(PathDevice), UserCode: code, Error: msg})
}

// submitCode checks a typed user code within the user-code throttle and
// starts the pending request of a live one.
func (d *deviceFlow) submitCode(w http.ResponseWriter, r *http.Request) error {
	params, err := readParams(w, r, true)
	if err != nil {
		return err
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return &Error{Code: ErrCodeInvalidRequest, Status: http.StatusForbidden, Page: true,
			Description: "This code was sent from another site. Open the address your device shows and enter the code there."}
	}
	ctx := r.Context()
	typed := params.Get("user_code")
	code, ok := canonicalUserCode(typed)
	if !ok {
		d.renderForm(w, r, http.StatusBadRequest, "", "Enter the code exactly as your device shows it.")
		return nil
	}
	counters := d.codeAttempt(r)
	switch v, err := d.throttle.reserve(ctx, counters); {
	case err != nil:
		return internalPageError(err)
	case v != allowed:
		d.log.WarnContext(ctx, "user code entry throttled", "request_id", RequestID(ctx))
		d.renderForm(w, r, http.StatusTooManyRequests, "", "Too many codes tried. Wait a few minutes and try again.")
		return nil
	}
	dr, err := d.store.DeviceRequestByUserCode(ctx, HashSecret(code))
	if err != nil && !isNotFound(err) {
		d.throttle.release(ctx, counters, true)
		return internalPageError(err)
	}
	if err != nil || dr.Status != DevicePending || !d.now().Before(dr.CodeExpiry) {
		// A wrong code keeps its slots: that is what the throttle counts.
		d.log.InfoContext(ctx, "unknown or used user code", "request_id", RequestID(ctx))
		d.renderForm(w, r, http.StatusBadRequest, "", "This code is unknown, expired or already used. Check your device.")
		return nil
	}
	d.throttle.release(ctx, counters, true)
	client, err := d.clients.Client(ctx, dr.ClientID)
	if isNotFound(err) || (err == nil && !clientMayUse(client, GrantDeviceCode)) {
		return errDeviceGone() // the client was removed, or lost the grant, since
	}
	if err != nil {
		return internalPageError(err)
	}
	req := AuthRequest{ClientID: client.ID, RedirectURI: deviceRedirect, ResponseType: "code", ResponseMode: responseModeQuery,
		Scopes: dr.Scopes, MaxAge: -1, DeviceRequestID: dr.ID}
	if _, e := checkConnector(ctx, d.log, d.connectors, url.Values{}, client); e != nil {
		return frontChannelError(req, e)
	}
	return d.authorize(w, r, req)
}

// codeAttempt is the counters of one user code tried from r's address.
func (d *deviceFlow) codeAttempt(r *http.Request) []counter {
	lt := d.s.UserCodeThrottle
	end := d.now().Add(lt.Window)
	return []counter{
		{key: "ucip:" + HashSecret(d.throttle.clientAddress(r)), limit: lt.PerIP, end: end},
		{key: "ucall", limit: lt.Global, end: end},
	}
}

// approve records the user's approval of req's device request: the
// pending request is completed first (the browser flow's single-use
// gate), then the device request decided, once. A callback connector's
// login goes sealed toward the device code (sealTowardDevice).
func (d *deviceFlow) approve(ctx context.Context, req AuthRequest, fed *federated) (authResponse, error) {
	dr, err := d.store.DeviceRequest(ctx, req.DeviceRequestID)
	if isNotFound(err) || (err == nil && (dr.Status != DevicePending || !d.now().Before(dr.CodeExpiry))) {
		return authResponse{}, errDeviceGone()
	}
	if err != nil {
		return authResponse{}, err
	}
	box, err := sealTowardDevice(dr.SealKey, fed)
	if err != nil {
		return authResponse{}, err
	}
	if req.ID != "" {
		if err := d.authRequests.CompleteAuthRequest(ctx, req.ID, req.Version, nil); err != nil {
			return authResponse{}, err
		}
	}
	err = d.store.DecideDeviceRequest(ctx, dr.ID, DeviceDecision{Approved: true, Subject: req.Subject,
		AuthTime: req.AuthTime, AMR: req.AMR, ConnectorData: box})
	if isNotFound(err) || errors.Is(err, ErrConflict) {
		return authResponse{}, errDeviceGone()
	}
	if err != nil {
		return authResponse{}, err
	}
	return authResponse{redirectURI: deviceRedirect}, nil
}

// deny records the user's denial of req's device request: the device's
// next poll is answered access_denied.
func (d *deviceFlow) deny(ctx context.Context, req AuthRequest) error {
	err := d.store.DecideDeviceRequest(ctx, req.DeviceRequestID, DeviceDecision{})
	if err != nil && !isNotFound(err) && !errors.Is(err, ErrConflict) {
		return internalPageError(err)
	}
	return nil
}

// errDeviceGone is the page of a device request that can no longer be
// approved.
func errDeviceGone() *Error {
	return &Error{Code: ErrCodeInvalidRequest, Page: true,
		Description: "This device code has expired or was already used. Start again on your device."}
}

// renderDeviceDone ends a device's browser flow: the approval, or the
// error that ended it (params as deliver has them).
func (b *base) renderDeviceDone(w http.ResponseWriter, r *http.Request, params url.Values) {
	p := deviceDonePage{Title: "Device", Approved: params.Get("error") == ""}
	status := http.StatusOK
	if !p.Approved {
		p.Message, status = params.Get("error_description"), http.StatusBadRequest
		if params.Get("error") == ErrCodeAccessDenied {
			p.Message, status = "Access was denied. Your device has been told.", http.StatusOK
		}
	}
	b.render(w, r, status, "", p)
}
