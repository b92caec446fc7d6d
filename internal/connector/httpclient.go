package connector

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"time"
)

// HTTPClient is the client a connector calls its upstream with: a copy of
// base (nil: a client with a 10-second timeout) that never follows a
// redirect, so that neither a token nor the client secret follows one and
// a 3xx answer is read as such, and that trusts rootCAs besides base's
// roots (or the system's). Each of rootCAs is a PEM file or, as Dex
// accepts, base64 of PEM; key is their config key, named in errors.
func HTTPClient(base *http.Client, key string, rootCAs ...string) (*http.Client, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	if base != nil {
		copied := *base
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if len(rootCAs) == 0 {
		return c, nil
	}
	var t *http.Transport
	switch rt := c.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = rt.Clone()
	default:
		return nil, fmt.Errorf("%s: the HTTP client's transport %T cannot take root CAs", key, rt)
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	pool, err := certPool(t.TLSClientConfig.RootCAs, key, rootCAs)
	if err != nil {
		return nil, err
	}
	t.TLSClientConfig.RootCAs = pool
	c.Transport = t
	return c, nil
}

// certPool is a copy of base (nil: the system roots) with the
// certificates of rootCAs added.
func certPool(base *x509.CertPool, key string, rootCAs []string) (*x509.CertPool, error) {
	pool := base
	if pool != nil {
		pool = pool.Clone()
	} else if p, err := x509.SystemCertPool(); err == nil {
		pool = p
	} else {
		pool = x509.NewCertPool()
	}
	for i, ca := range rootCAs {
		name := key
		if len(rootCAs) > 1 {
			name = fmt.Sprintf("%s[%d]", key, i)
		}
		pem, err := os.ReadFile(ca)
		if err != nil {
			// Not a readable file: base64 of PEM, or the file's error.
			var decErr error
			if pem, decErr = base64.StdEncoding.DecodeString(ca); decErr != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", name)
		}
	}
	return pool, nil
}
