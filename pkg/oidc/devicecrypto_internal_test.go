package oidc

import (
	"bytes"
	"testing"
)

// TestSealTowardDevice: a connector's login sealed toward a device code's
// public key opens with that device code alone, and a tampered box not at
// all.
func TestSealTowardDevice(t *testing.T) {
	key, err := deviceKey("device-code-1")
	if err != nil {
		t.Fatal(err)
	}
	f := &federated{User: User{Subject: Subject("u-1", "corp"), ConnectorID: "corp", UserID: "u-1", Email: "a@corp.example"}, Data: []byte("upstream-refresh-token")}
	box, err := sealTowardDevice(key.PublicKey().Bytes(), f)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(box, f.Data) || bytes.Contains(box, []byte("a@corp.example")) {
		t.Fatal("the box holds the login in clear")
	}
	got, err := openFromDevice("device-code-1", box)
	if err != nil || got.User.Subject != f.User.Subject || string(got.Data) != string(f.Data) {
		t.Fatalf("open: %+v, %v", got, err)
	}
	if _, err := openFromDevice("device-code-2", box); err == nil {
		t.Error("another device code opened the box")
	}
	box[len(box)-1] ^= 1
	if _, err := openFromDevice("device-code-1", box); err == nil {
		t.Error("a tampered box opened")
	}
	if b, err := sealTowardDevice(key.PublicKey().Bytes(), nil); b != nil || err != nil {
		t.Errorf("a password login sealed to %v, %v; want nil", b, err)
	}
}
