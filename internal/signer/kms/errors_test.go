package kms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestClassify(t *testing.T) {
	resp := func(status int) *smithyhttp.ResponseError {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("boom")}
	}
	tests := []struct {
		name string
		err  error
		want string // "" means not ErrUnavailable
	}{
		{"ModelledThrottle", &smithy.GenericAPIError{Code: "ThrottlingException"}, "ThrottlingException"},
		{"UnknownServerFault", &smithy.GenericAPIError{Code: "SomethingNew", Fault: smithy.FaultServer}, "SomethingNew"},
		{"Generic429", resp(http.StatusTooManyRequests), "HTTP 429"},
		{"Generic502", resp(http.StatusBadGateway), "HTTP 502"},
		{"Generic403", resp(http.StatusForbidden), ""},
		{"ReadTimeout", &awshttp.ResponseTimeoutError{}, "timeout"},
		{"Deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), "timeout"},
		{"SendFailed", &smithyhttp.RequestSendError{Err: errors.New("dial tcp: connection refused")}, "network error"},
		{"AccessDenied", &smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}, ""},
		{"Other", errors.New("something else"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("Sign", "alias/k", tt.err)
			if got := errors.Is(err, oidc.ErrUnavailable); got != (tt.want != "") {
				t.Fatalf("classify(%v): ErrUnavailable = %v; want %v", tt.err, got, tt.want != "")
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the original error is not wrapped: %v", err)
			}
			if tt.want != "" {
				if wantPrefix := "kms signer: Sign alias/k: " + tt.want + ": "; !strings.HasPrefix(err.Error(), wantPrefix) {
					t.Errorf("message %q; want prefix %q", err, wantPrefix)
				}
			}
		})
	}
}
