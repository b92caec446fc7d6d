package oidc

import (
	"crypto/ecdh"
	"crypto/hpke"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The codes of the device authorization grant (RFC 8628) and the sealing
// of a connector's data toward the device.

// userCodeAlphabet is RFC 8628 §6.1's: 20 consonants, no vowels (no
// words), no easily confused letters. Eight of them carry 34.5 bits, which
// the user-code throttle (§5.1) and the short lifetime keep out of reach.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLength is the number of characters of a user code, shown as
// XXXX-XXXX.
const userCodeLength = 8

// newUserCode draws a user code from r in its canonical form (no dash),
// without modulo bias.
func newUserCode(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < userCodeLength {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("oidc: reading randomness: %w", err)
		}
		// 240 = 12×20: values above it would favour the first letters.
		if buf[0] < 240 {
			b.WriteByte(userCodeAlphabet[int(buf[0])%len(userCodeAlphabet)])
		}
	}
	return b.String(), nil
}

// showUserCode is how a canonical user code is shown: XXXX-XXXX.
func showUserCode(code string) string { return code[:4] + "-" + code[4:] }

// canonicalUserCode normalises what a user typed (RFC 8628 §6.1: case
// and dashes do not matter; spaces neither) and reports whether it can be
// a user code at all; a malformed entry costs no store read.
func canonicalUserCode(typed string) (string, bool) {
	if len(typed) > 4*userCodeLength {
		return "", false
	}
	var b strings.Builder
	for _, c := range strings.ToUpper(typed) {
		switch {
		case c == '-' || c == ' ':
		case c < 128 && strings.IndexByte(userCodeAlphabet, byte(c)) >= 0:
			b.WriteRune(c)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() == userCodeLength
}

// The login's copy is sealed toward the device with HPKE (RFC 9180):
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, in base mode,
// with devicePurpose as info. The recipient key pair is derived from the
// device code (RFC 9180 §7.1.3 DeriveKeyPair): never stored; its public
// half is DeviceRequest.SealKey, which the authorize function seals to.

// devicePurpose is the HPKE info of the device's box, and separates its
// key pair from anything else derived from a device code.
const devicePurpose = "serverless-oidc device key v1"

var (
	deviceKEM  = hpke.DHKEM(ecdh.X25519())
	deviceKDF  = hpke.HKDFSHA256()
	deviceAEAD = hpke.AES256GCM()
)

// deviceKey is the HPKE private key of a device code.
func deviceKey(deviceCode string) (hpke.PrivateKey, error) {
	return deviceKEM.DeriveKeyPair([]byte(deviceCode))
}

// sealTowardDevice seals f (a login through a callback connector) so that
// only the device code's holder opens it: the approving browser's function
// knows the public key alone. nil f seals to nil.
func sealTowardDevice(sealKey []byte, f *federated) ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	pub, err := deviceKEM.NewPublicKey(sealKey)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return hpke.Seal(pub, deviceKDF, deviceAEAD, []byte(devicePurpose), plain)
}

// openFromDevice opens what sealTowardDevice sealed, with the device code.
func openFromDevice(deviceCode string, box []byte) (*federated, error) {
	if len(box) == 0 {
		return nil, nil
	}
	priv, err := deviceKey(deviceCode)
	if err != nil {
		return nil, err
	}
	plain, err := hpke.Open(priv, deviceKDF, deviceAEAD, []byte(devicePurpose), box)
	if err != nil {
		return nil, errSealed
	}
	var f federated
	if err := json.Unmarshal(plain, &f); err != nil {
		return nil, errSealed
	}
	return &f, nil
}
