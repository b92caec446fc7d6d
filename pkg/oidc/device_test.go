package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// The device authorization grant (RFC 8628) at the HTTP level, on the
// memory store with the test clock; e2e/browser drives it with
// golang.org/x/oauth2 and Chromium.

// deviceAuth is the device's first request: the device authorization
// endpoint, as the public client.
func (e *env) deviceAuth(scope string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathDeviceCode,
		strings.NewReader(url.Values{"client_id": {publicID}, "scope": {scope}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := testClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// pollDevice is one poll of the token endpoint with the device code.
func (e *env) pollDevice(deviceCode string) (int, map[string]any) {
	e.t.Helper()
	status, body, _ := e.token(url.Values{"grant_type": {oidc.GrantDeviceCode}, "device_code": {deviceCode}, "client_id": {publicID}}, "", "")
	return status, body
}

var userCodeFormat = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// enterCode submits a user code at the device page, signs in and answers
// the approval page with decision ("approve" or "deny"); it returns the
// last page.
func (e *env) enterCode(c *http.Client, userCode, decision string) page {
	e.t.Helper()
	p := e.postForm(c, oidc.PathDevice, url.Values{"user_code": {userCode}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="password"`) {
		e.t.Fatalf("device page: status %d; want the login page:\n%s", p.status, p.body)
	}
	form := formFields(e.t, p)
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	p = e.postForm(c, oidc.PathLogin, form)
	if !strings.Contains(p.body, `name="approve"`) || !strings.Contains(p.body, "A device asks for this access.</strong>") {
		e.t.Fatalf("after login: status %d; want the device approval page:\n%s", p.status, p.body)
	}
	consent := formFields(e.t, p)
	consent.Set(decision, "1")
	return e.postForm(c, oidc.PathConsent, consent)
}

func TestDeviceFlow(t *testing.T) {
	e := newEnv(t)
	status, auth := e.deviceAuth("openid email offline_access")
	if status != http.StatusOK {
		t.Fatalf("device authorization: %d %v", status, auth)
	}
	userCode, deviceCode := auth["user_code"].(string), auth["device_code"].(string)
	if !userCodeFormat.MatchString(userCode) || len(deviceCode) != 43 {
		t.Errorf("user_code %q, device_code %q: want XXXX-XXXX of RFC 8628 §6.1 and 256 bits", userCode, deviceCode)
	}
	if auth["verification_uri"] != e.issuer+"/device" || auth["expires_in"] != 300.0 || auth["interval"] != 5.0 ||
		auth["verification_uri_complete"] != e.issuer+"/device?user_code="+userCode {
		t.Errorf("device authorization response %v", auth)
	}
	if status, body := e.pollDevice(deviceCode); status != 400 || body["error"] != oidc.ErrCodeAuthorizationPending {
		t.Errorf("first poll: %d %v; want authorization_pending", status, body)
	}
	// Too soon: slow_down, and the interval is 10 s from now on (§3.5).
	e.clock.Advance(2 * time.Second)
	if _, body := e.pollDevice(deviceCode); body["error"] != oidc.ErrCodeSlowDown {
		t.Errorf("fast poll: %v; want slow_down", body)
	}
	e.clock.Advance(6 * time.Second)
	if _, body := e.pollDevice(deviceCode); body["error"] != oidc.ErrCodeSlowDown {
		t.Errorf("poll after 6 s with the raised 10 s interval: %v; want slow_down", body)
	}
	e.clock.Advance(16 * time.Second)
	if _, body := e.pollDevice(deviceCode); body["error"] != oidc.ErrCodeAuthorizationPending {
		t.Errorf("poll after 16 s: %v; want authorization_pending", body)
	}
	// The prefilled form of verification_uri_complete, then the code typed
	// in lower case without its dash.
	c := e.browser()
	if p := e.get(c, oidc.PathDevice, url.Values{"user_code": {userCode}}); !strings.Contains(p.body, `value="`+userCode+`"`) {
		t.Errorf("device page not prefilled with %s:\n%s", userCode, p.body)
	}
	p := e.enterCode(c, strings.ToLower(strings.ReplaceAll(userCode, "-", "")), "approve")
	if p.status != http.StatusOK || !strings.Contains(p.body, "You may return to your device") {
		t.Fatalf("after approval: %d\n%s", p.status, p.body)
	}
	status, tokens := e.pollDevice(deviceCode)
	if status != http.StatusOK || tokens["id_token"] == nil || tokens["access_token"] == nil || tokens["refresh_token"] == nil {
		t.Fatalf("tokens: %d %v", status, tokens)
	}
	// Single use: the code is spent.
	if _, body := e.pollDevice(deviceCode); body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("reused device code: %v; want invalid_grant", body)
	}
	// The refresh token works.
	if status, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens["refresh_token"].(string)}, "client_id": {publicID}}, "", ""); status != 200 {
		t.Errorf("refresh: %d %v", status, body)
	}
}

func TestDeviceDeniedWrongAndExpired(t *testing.T) {
	e := newEnv(t)
	_, auth := e.deviceAuth("openid")
	c := e.browser()
	p := e.postForm(c, oidc.PathDevice, url.Values{"user_code": {"BCDF-GHJK"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "unknown, expired or already used") {
		t.Errorf("wrong code: %d\n%s", p.status, p.body)
	}
	if p := e.postForm(c, oidc.PathDevice, url.Values{"user_code": {"AEIO-U123"}}); p.status != http.StatusBadRequest {
		t.Errorf("malformed code: %d", p.status)
	}
	p = e.enterCode(c, auth["user_code"].(string), "deny")
	if !strings.Contains(p.body, "Access was denied") {
		t.Errorf("denial page:\n%s", p.body)
	}
	if _, body := e.pollDevice(auth["device_code"].(string)); body["error"] != oidc.ErrCodeAccessDenied {
		t.Errorf("poll after denial: %v; want access_denied", body)
	}
	// A denied code cannot be entered again.
	if p := e.postForm(e.browser(), oidc.PathDevice, url.Values{"user_code": {auth["user_code"].(string)}}); p.status != http.StatusBadRequest {
		t.Errorf("denied code entered again: %d", p.status)
	}
	_, late := e.deviceAuth("openid")
	e.clock.Advance(5*time.Minute + time.Second)
	if _, body := e.pollDevice(late["device_code"].(string)); body["error"] != oidc.ErrCodeExpiredToken {
		t.Errorf("poll after expiry: %v; want expired_token", body)
	}
	if p := e.postForm(e.browser(), oidc.PathDevice, url.Values{"user_code": {late["user_code"].(string)}}); p.status != http.StatusBadRequest {
		t.Errorf("expired code entered: %d", p.status)
	}
	// Another client's device code is not this one's.
	if status, body, _ := e.token(url.Values{"grant_type": {oidc.GrantDeviceCode}, "device_code": {auth["device_code"].(string)}}, confidentialID, confidentialSecret); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("other client: %d %v", status, body)
	}
}

func TestDeviceConcurrentPollers(t *testing.T) {
	e := newEnv(t)
	_, auth := e.deviceAuth("openid offline_access")
	e.enterCode(e.browser(), auth["user_code"].(string), "approve")
	const n = 20
	var wins, invalid atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			status, body, _, err := e.tryToken(url.Values{"grant_type": {oidc.GrantDeviceCode}, "device_code": {auth["device_code"].(string)}, "client_id": {publicID}}, "", "")
			switch {
			case err != nil:
				t.Error(err)
			case status == 200:
				wins.Add(1)
			case body["error"] == oidc.ErrCodeInvalidGrant:
				invalid.Add(1)
			default:
				t.Errorf("poller: %d %v", status, body)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || invalid.Load() != n-1 {
		t.Errorf("%d pollers got tokens, %d invalid_grant of %d; want 1 and %d", wins.Load(), invalid.Load(), n, n-1)
	}
}

func TestDeviceUserCodeThrottle(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	var last page
	for range 21 {
		last = e.postForm(c, oidc.PathDevice, url.Values{"user_code": {"BCDF-GHJK"}})
	}
	if last.status != http.StatusTooManyRequests {
		t.Errorf("21st wrong code from one address: %d; want 429", last.status)
	}
	// Even the right code waits for the window to end.
	_, auth := e.deviceAuth("openid")
	if p := e.postForm(c, oidc.PathDevice, url.Values{"user_code": {auth["user_code"].(string)}}); p.status != http.StatusTooManyRequests {
		t.Errorf("right code while throttled: %d; want 429", p.status)
	}
}

func TestDeviceAuthorizationRefusals(t *testing.T) {
	e := newEnv(t)
	if status, body := e.deviceAuth("email"); status != 400 || body["error"] != oidc.ErrCodeInvalidScope {
		t.Errorf("without openid: %d %v; want invalid_scope", status, body)
	}
	e.store.PutClient(oidc.Client{ID: "no-device", Public: true, GrantTypes: []string{oidc.GrantAuthorizationCode}})
	req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathDeviceCode, strings.NewReader("client_id=no-device&scope=openid"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || body["error"] != oidc.ErrCodeUnauthorizedClient {
		t.Errorf("client whose grantTypes leave the device grant out: %d %v; want unauthorized_client", resp.StatusCode, body)
	}
	req, _ = http.NewRequest(http.MethodPost, e.issuer+oidc.PathDeviceCode, strings.NewReader("client_id=unknown&scope=openid"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := testClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("unknown client: %v %v; want 401", resp, err)
	}
}

func TestDevicePageRefusals(t *testing.T) {
	e := newEnv(t)
	_, auth := e.deviceAuth("openid")
	// A cross-site POST of a code (RFC 8628 §5.4's phishing helped along
	// by another site) is refused before any lookup.
	req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathDevice, strings.NewReader(url.Values{"user_code": {auth["user_code"].(string)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := e.do(e.browser(), req); p.status != http.StatusForbidden {
		t.Errorf("cross-site POST: %d; want 403", p.status)
	}
	// The client lost the grant since: the code no longer opens a login.
	e.store.PutClient(oidc.Client{ID: publicID, Public: true, RedirectURIs: []string{redirectURI}, GrantTypes: []string{oidc.GrantAuthorizationCode}})
	if p := e.postForm(e.browser(), oidc.PathDevice, url.Values{"user_code": {auth["user_code"].(string)}}); p.status != http.StatusBadRequest || strings.Contains(p.body, `name="password"`) {
		t.Errorf("code of a client without the grant: %d\n%s", p.status, p.body)
	}
}

// takenCodes is a store in which every user code is taken.
type takenCodes struct{ oidc.DeviceRequestStore }

func (takenCodes) CreateDeviceRequest(context.Context, oidc.DeviceRequest) error {
	return oidc.ErrConflict
}

// TestDeviceCodesTaken: when fresh codes keep colliding, the answer is an
// error, never a response without codes.
func TestDeviceCodesTaken(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) { c.Devices = takenCodes{c.Devices} })
	if status, body := e.deviceAuth("openid"); status != http.StatusInternalServerError || body["error"] != oidc.ErrCodeServerError || body["device_code"] != nil {
		t.Errorf("codes always taken: %d %v; want 500 server_error", status, body)
	}
}
