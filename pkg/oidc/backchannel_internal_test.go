package oidc

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckBackchannelLogoutURI(t *testing.T) {
	tests := []struct {
		uri  string
		want bool
	}{
		{"https://rp.example/logout", true},
		{"https://rp.example/logout?tenant=1", true},
		{"http://127.0.0.1:8080/logout", true},
		{"http://localhost/logout", true},
		{"http://[::1]/logout", true},
		{"http://rp.example/logout", false},
		{"https://rp.example/logout#frag", false},
		{"https://user:pw@rp.example/logout", false},
		{"https:///logout", false},
		{"/logout", false},
		{"javascript:alert(1)", false},
		{"ftp://rp.example/logout", false},
		{" https://rp.example/logout", false},
		{"", false},
	}
	for _, tc := range tests {
		if err := CheckBackchannelLogoutURI(tc.uri); (err == nil) != tc.want {
			t.Errorf("CheckBackchannelLogoutURI(%q) = %v; want ok %v", tc.uri, err, tc.want)
		}
	}
}

// TestPublicOnly: logout tokens of self-registered clients never reach a
// loopback, private or link-local address, even through a name.
func TestPublicOnly(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:443", "[::1]:443", "10.0.0.1:443", "192.168.1.1:80", "172.16.0.1:80",
		"169.254.169.254:80", "[fe80::1]:80", "100.64.0.1:80", "0.0.0.0:80", "[::ffff:127.0.0.1]:80", "[fc00::1]:80"} {
		if err := publicOnly("tcp", addr, nil); !errors.Is(err, errNotPublic) {
			t.Errorf("publicOnly(%s) = %v; want refused", addr, err)
		}
	}
	for _, addr := range []string{"93.184.215.14:443", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443"} {
		if err := publicOnly("tcp", addr, nil); err != nil {
			t.Errorf("publicOnly(%s) = %v; want allowed", addr, err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the request reached a loopback server") }))
	defer srv.Close()
	hc := &http.Client{Transport: publicOnlyTransport()}
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		resp, err := hc.Post(u, "application/x-www-form-urlencoded", strings.NewReader("logout_token=x"))
		if err == nil {
			resp.Body.Close()
			t.Errorf("POST %s went through", u)
		} else if !errors.Is(err, errNotPublic) {
			t.Errorf("POST %s: %v; want errNotPublic", u, err)
		}
	}
}
