package kms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// unavailableCodes are the KMS error codes after which the provider answers
// temporarily_unavailable: nothing the client sent is wrong, and the
// operator (or time) can fix it. Throttling matters most: the Sign quota is
// per account and Region, shared by every function and every other KMS user.
// A disabled key, a key pending deletion or a missing key is an operator
// error, but the client must still see "try later", never a client error,
// and the log line must name the code.
var unavailableCodes = map[string]bool{
	"ThrottlingException":         true, // request quota exceeded
	"Throttling":                  true,
	"TooManyRequestsException":    true,
	"RequestLimitExceeded":        true,
	"LimitExceededException":      true,
	"KMSInternalException":        true,
	"InternalFailure":             true,
	"ServiceUnavailable":          true,
	"ServiceUnavailableException": true,
	"DependencyTimeoutException":  true,
	"RequestTimeout":              true,
	"RequestTimeoutException":     true,
	"KMSInvalidStateException":    true, // disabled, pending deletion or pending import
	"DisabledException":           true,
	"KeyUnavailableException":     true, // custom key store disconnected
	"NotFoundException":           true, // key or alias deleted or misspelt
}

// classify wraps a failed KMS call. Transient and operator-fixable failures
// wrap oidc.ErrUnavailable so the core answers temporarily_unavailable and
// logs the text; the original error stays reachable with errors.As. Anything
// else (AccessDeniedException, a rejected parameter) is returned as a plain
// error: a bug or an IAM mistake, answered as server_error.
func classify(op, keyID string, err error) error {
	reason := unavailableReason(err)
	if reason == "" {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			return fmt.Errorf("kms signer: %s %s: %s: %w", op, keyID, apiErr.ErrorCode(), err)
		}
		return fmt.Errorf("kms signer: %s %s: %w", op, keyID, err)
	}
	return fmt.Errorf("kms signer: %s %s: %s: %w: %w", op, keyID, reason, oidc.ErrUnavailable, err)
}

// UnavailableReason names why err, from any AWS SDK call, is transient or
// operator-fixable (an error code such as ThrottlingException, "timeout",
// "network error"), or returns "" for a failure that is a bug or an IAM
// mistake. The data-key signer classifies its KMS and DynamoDB calls with it.
func UnavailableReason(err error) string { return unavailableReason(err) }

// unavailableReason names why err is transient, or returns "".
func unavailableReason(err error) string {
	var (
		apiErr      smithy.APIError
		respErr     *smithyhttp.ResponseError
		sendErr     *smithyhttp.RequestSendError
		readTimeout *awshttp.ResponseTimeoutError
		netErr      net.Error
	)
	switch {
	case errors.As(err, &apiErr) && (unavailableCodes[apiErr.ErrorCode()] || apiErr.ErrorFault() == smithy.FaultServer):
		return apiErr.ErrorCode()
	case errors.As(err, &respErr) && (respErr.HTTPStatusCode() >= 500 || respErr.HTTPStatusCode() == http.StatusTooManyRequests):
		return fmt.Sprintf("HTTP %d", respErr.HTTPStatusCode())
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &readTimeout):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &sendErr), errors.As(err, &netErr):
		return "network error"
	}
	return ""
}
