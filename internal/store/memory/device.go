package memory

import (
	"context"
	"slices"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var _ oidc.DeviceRequestStore = (*Store)(nil)

// deviceItems are the Store's device authorizations, a type of their own
// so that each type's method set stays small; the Store embeds it.
type deviceItems struct{ s *Store }

// CreateDeviceRequest implements oidc.DeviceRequestStore.
func (di deviceItems) CreateDeviceRequest(_ context.Context, d oidc.DeviceRequest) error {
	s := di.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.devices[d.ID]; ok && !s.expired(cur.Expiry) {
		return oidc.ErrConflict
	}
	if id, ok := s.userCodes[d.UserCodeHash]; ok {
		if cur, ok := s.devices[id]; ok && !s.expired(cur.Expiry) {
			return oidc.ErrConflict
		}
	}
	d = cloneDevice(d)
	d.Status, d.GrantID = oidc.DevicePending, ""
	s.devices[d.ID] = d
	s.userCodes[d.UserCodeHash] = d.ID
	return nil
}

// DeviceRequest implements oidc.DeviceRequestStore.
func (di deviceItems) DeviceRequest(_ context.Context, id string) (oidc.DeviceRequest, error) {
	s := di.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || s.expired(d.Expiry) {
		return oidc.DeviceRequest{}, oidc.ErrNotFound
	}
	return cloneDevice(d), nil
}

// DeviceRequestByUserCode implements oidc.DeviceRequestStore.
func (di deviceItems) DeviceRequestByUserCode(ctx context.Context, userCodeHash string) (oidc.DeviceRequest, error) {
	s := di.s
	s.mu.Lock()
	id, ok := s.userCodes[userCodeHash]
	s.mu.Unlock()
	if !ok {
		return oidc.DeviceRequest{}, oidc.ErrNotFound
	}
	return di.DeviceRequest(ctx, id)
}

// DecideDeviceRequest implements oidc.DeviceRequestStore.
func (di deviceItems) DecideDeviceRequest(_ context.Context, id string, dec oidc.DeviceDecision) error {
	s := di.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || s.expired(d.Expiry) {
		return oidc.ErrNotFound
	}
	if d.Status != oidc.DevicePending {
		return oidc.ErrConflict
	}
	d.Status = oidc.DeviceDenied
	if dec.Approved {
		d.Status = oidc.DeviceApproved
		d.Subject, d.AuthTime, d.AMR = dec.Subject, dec.AuthTime, slices.Clone(dec.AMR)
		d.ConnectorData = slices.Clone(dec.ConnectorData)
	}
	s.devices[id] = d
	return nil
}

// RecordDevicePoll implements oidc.DeviceRequestStore.
func (di deviceItems) RecordDevicePoll(_ context.Context, id string, at time.Time, interval time.Duration) error {
	s := di.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || s.expired(d.Expiry) {
		return oidc.ErrNotFound
	}
	d.LastPoll, d.Interval = at, interval
	s.devices[id] = d
	return nil
}

// RedeemDeviceRequest implements oidc.DeviceRequestStore.
func (di deviceItems) RedeemDeviceRequest(_ context.Context, id string, grant *oidc.RefreshGrant) error {
	s := di.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || s.expired(d.Expiry) || d.Status != oidc.DeviceApproved {
		return oidc.ErrNotFound
	}
	if grant != nil {
		if _, exists := s.grants[grant.ID]; exists {
			return oidc.ErrConflict
		}
		g := cloneGrant(*grant)
		g.Version = 1
		s.grants[g.ID] = g
		d.GrantID = g.ID
	}
	d.Status = oidc.DeviceRedeemed
	s.devices[id] = d
	return nil
}

func cloneDevice(d oidc.DeviceRequest) oidc.DeviceRequest {
	d.Scopes, d.AMR = slices.Clone(d.Scopes), slices.Clone(d.AMR)
	d.SealKey, d.ConnectorData = slices.Clone(d.SealKey), slices.Clone(d.ConnectorData)
	return d
}
