package kms

import (
	"crypto/elliptic"
	"encoding/asn1"
	"errors"
	"math/big"
)

// joseES256 converts an ECDSA P-256 signature from the ASN.1 DER
// Ecdsa-Sig-Value KMS returns (SEQUENCE { r INTEGER, s INTEGER }, RFC 3279
// §2.2.3) to the JWS form of RFC 7518 §3.4: R and S as 32-byte big-endian
// integers, each left-padded with zeros, concatenated (64 bytes). DER drops
// leading zero bytes, so about one signature in 128 has an R or S shorter
// than 32 bytes; concatenating the DER integers as they are would produce a
// signature that verifiers reject, intermittently.
func joseES256(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil {
		return nil, errors.New("ES256 signature is not DER: " + err.Error())
	}
	if len(rest) != 0 {
		return nil, errors.New("ES256 signature has trailing data after the DER sequence")
	}
	n := elliptic.P256().Params().N
	for _, v := range []*big.Int{sig.R, sig.S} {
		if v.Sign() <= 0 || v.Cmp(n) >= 0 {
			return nil, errors.New("ES256 signature value out of range")
		}
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

func bigInt(b []byte) *big.Int { return new(big.Int).SetBytes(b) }
