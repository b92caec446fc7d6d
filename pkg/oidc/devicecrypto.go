package oidc

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
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

// devicePurpose derives the device code's X25519 key.
const devicePurpose = "serverless-oidc device key v1"

// deviceKey is the X25519 private key of a device code: derived, never
// stored. Its public half is DeviceRequest.SealKey.
func deviceKey(deviceCode string) (*ecdh.PrivateKey, error) {
	seed, err := hkdf.Key(sha256.New, []byte(deviceCode), nil, devicePurpose, 32)
	if err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(seed)
}

// sealTowardDevice seals f (a login through a callback connector) so that
// only the device code's holder opens it: the approving browser's function
// knows the public key alone. The box is the ephemeral public key followed
// by sealUnder's output under the shared secret. nil f seals to nil.
func sealTowardDevice(r io.Reader, sealKey []byte, f *federated) ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	pub, err := ecdh.X25519().NewPublicKey(sealKey)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.X25519().GenerateKey(r)
	if err != nil {
		return nil, err
	}
	shared, err := eph.ECDH(pub)
	if err != nil {
		return nil, err
	}
	box, err := sealFederated(r, base64.RawURLEncoding.EncodeToString(shared), f)
	if err != nil {
		return nil, err
	}
	return append(eph.PublicKey().Bytes(), box...), nil
}

// openFromDevice opens what sealTowardDevice sealed, with the device code.
func openFromDevice(deviceCode string, box []byte) (*federated, error) {
	if len(box) == 0 {
		return nil, nil
	}
	const keyLen = 32
	if len(box) <= keyLen {
		return nil, errSealed
	}
	priv, err := deviceKey(deviceCode)
	if err != nil {
		return nil, err
	}
	pub, err := ecdh.X25519().NewPublicKey(box[:keyLen])
	if err != nil {
		return nil, errSealed
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, errSealed
	}
	return openFederated(base64.RawURLEncoding.EncodeToString(shared), box[keyLen:])
}
