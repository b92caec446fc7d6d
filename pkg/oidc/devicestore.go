package oidc

import (
	"context"
	"time"
)

// DeviceStatus is where a device authorization (RFC 8628) stands.
type DeviceStatus string

// The states of a DeviceRequest. A request is created pending; the user's
// decision makes it approved or denied, once; the one token response of
// an approved request makes it redeemed, once.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
	DeviceRedeemed DeviceStatus = "redeemed"
)

// DeviceRequest is a device authorization (RFC 8628 §3.1-§3.5): created at
// the device authorization endpoint, decided by the user at the user page
// (after the normal login and approval), and polled for at the token
// endpoint with the device code.
type DeviceRequest struct {
	ID string // HashSecret of the device code
	// UserCodeHash is HashSecret of the user code in its canonical form
	// (8 letters of userCodeAlphabet, upper case, no dash): unique among
	// live requests.
	UserCodeHash string
	ClientID     string
	Scopes       []string // the granted scopes, as at /authorize
	// SealKey is the HPKE (RFC 9180, DHKEM X25519) public key derived from the device code: what
	// a callback connector's data is sealed toward at approval, so that only
	// the holder of the device code opens it (devicecrypto.go).
	SealKey []byte
	// Interval is the polling interval the client must keep (RFC 8628
	// §3.2), raised by 5 s at each slow_down (§3.5); LastPoll is the last
	// poll, zero before the first.
	Interval time.Duration
	LastPoll time.Time
	// CodeExpiry is when the device code expires (expires_in, §3.2): a
	// poll after it is answered expired_token. Expiry, when the store
	// forgets the request, is later, so a late poll is still recognised.
	CodeExpiry time.Time
	Status     DeviceStatus
	// Set by DecideDeviceRequest with an approval: the user and the login.
	Subject  string
	AuthTime time.Time
	AMR      []string
	// ConnectorData is the login through a callback connector, sealed
	// toward SealKey (an HPKE encapsulated key and ciphertext); nil for a password
	// login.
	ConnectorData []byte
	// GrantID is set by RedeemDeviceRequest: the grant the tokens name.
	GrantID string
	Expiry  time.Time
}

// DeviceDecision is the user's answer to a device request.
type DeviceDecision struct {
	Approved      bool
	Subject       string
	AuthTime      time.Time
	AMR           []string
	ConnectorData []byte
}

// DeviceRequestStore holds device authorizations (RFC 8628).
type DeviceRequestStore interface {
	// CreateDeviceRequest stores d (Status DevicePending). It MUST fail
	// with ErrConflict, storing nothing, if a live request has its ID or
	// its UserCodeHash: the caller draws new codes.
	CreateDeviceRequest(ctx context.Context, d DeviceRequest) error
	// DeviceRequest returns the request by ID (the device code's hash), in
	// any status, until its Expiry; ErrNotFound otherwise.
	DeviceRequest(ctx context.Context, id string) (DeviceRequest, error)
	// DeviceRequestByUserCode returns the request by UserCodeHash, in any
	// status, until its Expiry; ErrNotFound otherwise.
	DeviceRequestByUserCode(ctx context.Context, userCodeHash string) (DeviceRequest, error)
	// DecideDeviceRequest records the user's decision: approved (with the
	// decision's user and login) or denied. It MUST be one conditional
	// write: only a pending request is decided; of concurrent callers
	// exactly one succeeds, the others get ErrConflict; a request unknown
	// or past its Expiry gives ErrNotFound.
	DecideDeviceRequest(ctx context.Context, id string, d DeviceDecision) error
	// RecordDevicePoll sets LastPoll and Interval of a live request
	// (ErrNotFound otherwise). Last writer wins: slow_down is advice to a
	// client, not a security gate.
	RecordDevicePoll(ctx context.Context, id string, at time.Time, interval time.Duration) error
	// RedeemDeviceRequest makes an approved request redeemed, recording
	// grant.ID as its GrantID, and creates that refresh token family (when
	// grant is not nil), as one atomic step. It is the single-use gate of
	// the device code: of any number of concurrent callers exactly one
	// succeeds; the others, and any caller for a request not approved or
	// past its Expiry, get ErrNotFound and store nothing.
	RedeemDeviceRequest(ctx context.Context, id string, grant *RefreshGrant) error
}
