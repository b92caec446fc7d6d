package kms_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// fakeKMS stands in for KMS at the HTTP level (the awsJson1_1 protocol the
// SDK speaks), so the real SDK client runs against it. It signs correctly in
// both message modes, unlike moto, records what the SDK sent, and can be told
// to fail or to hold requests.
type fakeKMS struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	keys  map[string]*fakeKey // by key id, ARN and alias
	calls []fakeCall
	fail  map[string][]string // operation → error codes to answer, in order
	// hold, if set, runs before a request is answered (barriers, delays).
	hold func(r *http.Request, op string)
}

type fakeKey struct {
	arn  string
	spec string
	priv crypto.Signer
}

type fakeCall struct {
	Op          string
	KeyID       string
	MessageType string
	Message     []byte
	Algorithm   string
}

func newFakeKMS(t *testing.T) *fakeKMS {
	f := &fakeKMS{t: t, keys: map[string]*fakeKey{}, fail: map[string][]string{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// client returns the real SDK client pointed at the fake, without retries
// unless opts add them.
func (f *fakeKMS) client(opts ...func(*awskms.Options)) *awskms.Client {
	return awskms.New(awskms.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(f.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		Retryer:      aws.NopRetryer{},
	}, opts...)
}

// addKey creates a key of spec (RSA_2048, RSA_3072, RSA_4096 or
// ECC_NIST_P256) and returns its ARN; aliases may name it too.
func (f *fakeKMS) addKey(spec string, aliases ...string) string {
	f.t.Helper()
	var (
		priv crypto.Signer
		err  error
	)
	switch spec {
	case "RSA_2048", "RSA_3072", "RSA_4096":
		var bits int
		fmt.Sscanf(spec, "RSA_%d", &bits)
		priv, err = rsa.GenerateKey(rand.Reader, bits)
	case "ECC_NIST_P256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ECC_NIST_P384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		f.t.Fatalf("fake KMS: unsupported spec %s", spec)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("1234abcd-12ab-34cd-56ef-%012d", len(f.keys)+1)
	k := &fakeKey{arn: "arn:aws:kms:us-east-1:111122223333:key/" + id, spec: spec, priv: priv}
	f.keys[id], f.keys[k.arn] = k, k
	for _, a := range aliases {
		f.keys[a] = k
	}
	return k.arn
}

// failNext makes the next calls of op answer with the given error codes.
func (f *fakeKMS) failNext(op string, codes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[op] = append(f.fail[op], codes...)
}

func (f *fakeKMS) setHold(hold func(r *http.Request, op string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = hold
}

func (f *fakeKMS) recorded(op string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// errorStatus is the HTTP status KMS uses for an error code.
func errorStatus(code string) int {
	switch code {
	case "KMSInternalException":
		return http.StatusInternalServerError
	case "DependencyTimeoutException", "ServiceUnavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	var req struct {
		KeyId            string
		Message          []byte
		MessageType      string
		SigningAlgorithm string
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.writeError(w, "SerializationException", err.Error())
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{Op: op, KeyID: req.KeyId, MessageType: req.MessageType, Message: req.Message, Algorithm: req.SigningAlgorithm})
	hold := f.hold
	var code string
	if q := f.fail[op]; len(q) > 0 {
		code, f.fail[op] = q[0], q[1:]
	}
	k := f.keys[req.KeyId]
	f.mu.Unlock()

	if hold != nil {
		hold(r, op)
	}
	switch {
	case code == "hangup":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case code == "garbage-signature":
		f.writeJSON(w, map[string]any{"KeyId": req.KeyId, "Signature": []byte{0x30, 0x03, 0x02, 0x01, 0x01}, "SigningAlgorithm": req.SigningAlgorithm})
		return
	case code != "":
		f.writeError(w, code, "injected by the test")
		return
	case k == nil:
		f.writeError(w, "NotFoundException", "Key '"+req.KeyId+"' does not exist")
		return
	}

	switch op {
	case "GetPublicKey":
		der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
		if err != nil {
			f.t.Error(err)
		}
		algs := []string{"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"} // as KMS lists for RSA keys (and SHA-384/512)
		if strings.HasPrefix(k.spec, "ECC") {
			algs = []string{"ECDSA_SHA_256"}
		}
		f.writeJSON(w, map[string]any{
			"KeyId": k.arn, "PublicKey": der, "KeySpec": k.spec, "CustomerMasterKeySpec": k.spec,
			"KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": algs,
		})
	case "Sign":
		var digest []byte
		switch req.MessageType {
		case "RAW", "":
			if len(req.Message) > 4096 {
				f.writeError(w, "ValidationException", "Message exceeds 4096 bytes; use MessageType DIGEST")
				return
			}
			sum := sha256.Sum256(req.Message)
			digest = sum[:]
		case "DIGEST":
			if len(req.Message) != sha256.Size {
				f.writeError(w, "ValidationException", "Digest length does not match SHA-256")
				return
			}
			digest = req.Message
		}
		var sig []byte
		var err error
		switch priv := k.priv.(type) {
		case *rsa.PrivateKey:
			if req.SigningAlgorithm == "RSASSA_PSS_SHA_256" {
				// KMS documents RSASSA_PSS_SHA_256 as PKCS #1 v2.2 §8.1
				// with SHA-256 for the digest and MGF1, "along with a
				// 256-bit salt".
				sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA256, digest, &rsa.PSSOptions{SaltLength: 32})
				break
			}
			sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest)
		case *ecdsa.PrivateKey:
			sig, err = ecdsa.SignASN1(rand.Reader, priv, digest) // DER, like KMS
		}
		if err != nil {
			f.t.Error(err)
		}
		f.writeJSON(w, map[string]any{"KeyId": k.arn, "Signature": sig, "SigningAlgorithm": req.SigningAlgorithm})
	default:
		f.writeError(w, "UnsupportedOperationException", op)
	}
}

func (f *fakeKMS) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Error(err)
	}
}

func (f *fakeKMS) writeError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(errorStatus(code))
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
