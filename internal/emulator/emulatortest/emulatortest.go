package emulatortest

import (
	"sync"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/emulator"
)

// server is one kind of emulator and the shared instance of it.
type server struct {
	launch func() (*emulator.Process, error)

	mu     sync.Mutex
	shared *emulator.Process
	err    error
}

var (
	dynamoDBLocal = &server{launch: emulator.LaunchDynamoDBLocal}
	moto          = &server{launch: emulator.LaunchMoto}
)

// StartDynamoDBLocal starts a DynamoDB Local for this test alone and stops
// it when the test ends; it returns the endpoint. Startup costs about two
// seconds, so packages with many tests use SharedDynamoDBLocal.
func StartDynamoDBLocal(tb testing.TB) (endpoint string) {
	tb.Helper()
	return dynamoDBLocal.start(tb)
}

// SharedDynamoDBLocal returns the endpoint of the one DynamoDB Local of this
// test binary, starting it on first use. A failed start fails every caller.
// Tests that share it MUST NOT depend on global state: each creates its own
// table (or uses ids no other test uses).
//
// The server dies with the test binary in any case; a TestMain that calls
// StopSharedDynamoDBLocal after m.Run just stops it sooner and cleanly:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		emulatortest.StopSharedDynamoDBLocal()
//		os.Exit(code)
//	}
func SharedDynamoDBLocal(tb testing.TB) (endpoint string) {
	tb.Helper()
	return dynamoDBLocal.share(tb)
}

// StopSharedDynamoDBLocal stops the server SharedDynamoDBLocal started, if
// any.
func StopSharedDynamoDBLocal() { dynamoDBLocal.stopShared() }

// StartMoto starts a moto_server for this test alone and stops it when the
// test ends; it returns the endpoint. Startup costs about a second, so
// packages with many tests use SharedMoto.
func StartMoto(tb testing.TB) (endpoint string) {
	tb.Helper()
	return moto.start(tb)
}

// SharedMoto returns the endpoint of the one moto_server of this test
// binary, starting it on first use (tests that do not ask for it cost
// nothing). A failed start fails every caller. Tests that share it MUST NOT
// depend on global state: they create their own keys and use unique alias
// names. A TestMain may call StopSharedMoto after m.Run, as for
// SharedDynamoDBLocal.
func SharedMoto(tb testing.TB) (endpoint string) {
	tb.Helper()
	return moto.share(tb)
}

// StopSharedMoto stops the server SharedMoto started, if any.
func StopSharedMoto() { moto.stopShared() }

func (s *server) start(tb testing.TB) string {
	tb.Helper()
	p, err := s.launch()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%s ready at %s in %v", p.Name, p.Endpoint, p.Startup.Round(time.Millisecond))
	tb.Cleanup(func() {
		if err := p.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return p.Endpoint
}

func (s *server) share(tb testing.TB) string {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shared == nil && s.err == nil {
		s.shared, s.err = s.launch()
		if s.err == nil {
			tb.Logf("shared %s ready at %s in %v", s.shared.Name, s.shared.Endpoint, s.shared.Startup.Round(time.Millisecond))
		}
	}
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.shared.Endpoint
}

func (s *server) stopShared() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shared != nil {
		_ = s.shared.Stop()
	}
}
