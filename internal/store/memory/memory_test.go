package memory_test

import (
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestContract(t *testing.T) {
	oidctest.TestStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.Store {
		return memory.New(clock.Now)
	})
}

func TestPushedRequestContract(t *testing.T) {
	oidctest.TestPushedRequestStorage(t, func(t *testing.T, clock *oidctest.Clock) oidc.PushedRequestStore {
		return memory.New(clock.Now)
	})
}

func TestReplayContract(t *testing.T) {
	oidctest.TestReplayStorage(t, func(t *testing.T, clock *oidctest.Clock) oidc.ReplayStore {
		return memory.New(clock.Now)
	})
}

func TestRefreshContract(t *testing.T) {
	oidctest.TestRefreshStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.RefreshStore {
		return memory.New(clock.Now)
	})
}

func TestSessionContract(t *testing.T) {
	oidctest.TestSessionStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.SessionStore {
		return memory.New(clock.Now)
	})
}

func TestConnectorContract(t *testing.T) {
	oidctest.TestConnectorStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.ConnectorStore {
		return memory.New(clock.Now)
	})
}

func TestDeviceContract(t *testing.T) {
	oidctest.TestDeviceStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.DeviceStore {
		return memory.New(clock.Now)
	})
}

func TestUserContract(t *testing.T) {
	oidctest.TestUserStorage(t, func(t *testing.T) oidctest.UserStore {
		return memory.New(time.Now)
	})
}

func TestClientContract(t *testing.T) {
	oidctest.TestClientStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.ClientStore {
		return memory.New(clock.Now)
	})
}
