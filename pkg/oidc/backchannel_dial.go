package oidc

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errNotPublic refuses a connection to an address a self-registered
// client must not make the provider call.
var errNotPublic = errors.New("oidc: the address is not a public one")

// publicOnlyTransport is the transport logout tokens of self-registered
// clients go through. Anyone may register (RFC 7591), so a
// backchannel_logout_uri would otherwise let them make the provider POST
// into its own network: the VPC, the instance metadata service, the
// Lambda runtime API on 127.0.0.1. The check runs on the address actually
// dialled, after name resolution, so a name that resolves (or rebinds) to
// a private address is refused too. No proxy is used.
func publicOnlyTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: publicOnly}
	return &http.Transport{
		DialContext:         d.DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConns:        16,
		IdleConnTimeout:     30 * time.Second,
	}
}

// publicOnly is a net.Dialer Control that refuses loopback, private,
// link-local, multicast and unspecified addresses.
func publicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errNotPublic
	}
	ip := ap.Addr().Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		cgnat.Contains(ip) {
		return errNotPublic
	}
	return nil
}

// cgnat is RFC 6598's shared address space, private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")
