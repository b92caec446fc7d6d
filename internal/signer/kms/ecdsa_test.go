package kms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"math/big"
	"testing"
)

func der(t *testing.T, r, s *big.Int) []byte {
	t.Helper()
	b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJoseES256(t *testing.T) {
	n := elliptic.P256().Params().N
	short := big.NewInt(0x0102)                // 2 bytes: needs 30 bytes of padding
	high := new(big.Int).Sub(n, big.NewInt(1)) // high bit set: DER adds a 0x00
	fixed := func(r, s *big.Int) []byte { b := make([]byte, 64); r.FillBytes(b[:32]); s.FillBytes(b[32:]); return b }
	tests := []struct {
		name string
		der  []byte
		want []byte // nil: an error is expected
	}{
		{"ShortR", der(t, short, high), fixed(short, high)},
		{"ShortS", der(t, high, short), fixed(high, short)},
		{"BothShort", der(t, big.NewInt(1), big.NewInt(2)), fixed(big.NewInt(1), big.NewInt(2))},
		{"TrailingData", append(der(t, short, high), 0x00), nil},
		{"NotDER", []byte{0x01, 0x02, 0x03}, nil},
		{"Empty", nil, nil},
		{"ZeroR", der(t, big.NewInt(0), high), nil},
		{"NegativeS", der(t, high, big.NewInt(-5)), nil},
		{"ROrder", der(t, n, short), nil},
		{"STooLong", der(t, short, new(big.Int).Lsh(big.NewInt(1), 300)), nil},
		{"NonMinimalInteger", []byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := joseES256(tt.der)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("joseES256(%x) = %x; want an error", tt.der, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("joseES256 = %x; want %x", got, tt.want)
			}
		})
	}
}

// TestJoseES256RealSignatures converts enough real DER signatures that some
// have a short R or S (about 1 in 128), and checks each verifies as R||S.
func TestJoseES256RealSignatures(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	shortSeen := 0
	for i := range 3000 {
		digest := sha256.Sum256(fmt.Appendf(nil, "message %d", i))
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		rs, err := joseES256(sig)
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if len(rs) == 64 && (rs[0] == 0 || rs[32] == 0) {
			shortSeen++ // R or S needed left-padding
		}
		if len(rs) != 64 || !ecdsa.Verify(&key.PublicKey, digest[:], bigInt(rs[:32]), bigInt(rs[32:])) {
			t.Fatalf("signature %d (%d DER bytes) does not verify as R||S", i, len(sig))
		}
	}
	if shortSeen == 0 {
		t.Fatal("no signature needed padding; the test proves nothing (expected about 23 in 3000)")
	}
	t.Logf("%d of 3000 signatures had an R or S shorter than 32 bytes", shortSeen)
}
