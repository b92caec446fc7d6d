package connector_test

import (
	"testing"

	"github.com/serverless-oidc/op/internal/connector"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		raw      string
		required bool
		ok       bool
	}{
		{"https://as.example.com/token", true, true},
		{"http://127.0.0.1:5556/callback", true, true},
		{"http://localhost/callback", true, true},
		{"http://[::1]:8080/x", true, true},
		{"", false, true},
		{"", true, false},
		{"http://as.example.com/token", true, false},
		{"/callback", false, false},
		{"ftp://as.example.com", false, false},
		{"https://user:pw@as.example.com", false, false},
		{"https://as.example.com/cb#frag", false, false},
	}
	for _, tt := range tests {
		var got []string
		connector.CheckURL(func(key, msg string) { got = append(got, key+": "+msg) }, "tokenURL", tt.raw, tt.required)
		if (len(got) == 0) != tt.ok {
			t.Errorf("CheckURL(%q, required %v) reported %q; want ok %v", tt.raw, tt.required, got, tt.ok)
		}
	}
}
