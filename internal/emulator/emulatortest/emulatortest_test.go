package emulatortest

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopSharedDynamoDBLocal()
	StopSharedMoto()
	os.Exit(code)
}

var helpers = []struct {
	name   string
	start  func(testing.TB) string
	shared func(testing.TB) string
}{
	{"DynamoDB Local", StartDynamoDBLocal, SharedDynamoDBLocal},
	{"moto_server", StartMoto, SharedMoto},
}

func accepts(endpoint string) bool {
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// TestStartStopsAtCleanup: Start… serves during the test and is stopped by
// its Cleanup.
func TestStartStopsAtCleanup(t *testing.T) {
	for _, h := range helpers {
		t.Run(h.name, func(t *testing.T) {
			var endpoint string
			t.Run("inner", func(t *testing.T) {
				endpoint = h.start(t)
				if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
					t.Errorf("endpoint = %q; want http://127.0.0.1:PORT", endpoint)
				}
				if !accepts(endpoint) {
					t.Errorf("%s refuses connections", endpoint)
				}
			})
			if endpoint == "" {
				return
			}
			for deadline := time.Now().Add(10 * time.Second); accepts(endpoint); time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%s still accepts connections after Cleanup", endpoint)
				}
			}
		})
	}
}

func TestSharedIsShared(t *testing.T) {
	for _, h := range helpers {
		t.Run(h.name, func(t *testing.T) {
			a, b := h.shared(t), h.shared(t)
			if a != b {
				t.Errorf("shared returned %s, then %s; want one server", a, b)
			}
			if !accepts(a) {
				t.Errorf("%s refuses connections", a)
			}
		})
	}
}
