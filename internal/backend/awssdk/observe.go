package awssdk

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// CallObserver is told of each AWS call: the SDK's service id (DynamoDB,
// KMS) and operation name, the latency of the whole operation (retries
// included), whether it failed, and whether the failure was throttling.
type CallObserver func(service, operation string, latency time.Duration, failed, throttled bool)

// expectedErrorCodes are answers that are outcomes, not failures: a
// conditional write that loses is how the store makes a code or a refresh
// token single-use.
var expectedErrorCodes = []string{"ConditionalCheckFailedException", "TransactionCanceledException"}

// throttles tells throttling errors (ThrottlingException,
// ProvisionedThroughputExceededException, RequestLimitExceeded, …) from
// others, as the SDK's retryer does.
var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// observeMiddlewareID names the middleware in the SDK's stack.
const observeMiddlewareID = "ServerlessOIDCObserveCall"

// Observe is observeOption for loaders outside this package.
func Observe(observe CallObserver) func(*middleware.Stack) error { return observeOption(observe) }

// observeOption installs observe in a client's stack: in the initialize
// step, after the service metadata is set and before the retry loop
// (finalize step), so one operation is one observation whatever its
// attempts.
func observeOption(observe CallObserver) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc(observeMiddlewareID,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				failed := err != nil && !expected(err)
				throttled := failed && throttles.IsErrorThrottle(err) == aws.TrueTernary
				observe(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), time.Since(start), failed, throttled)
				return out, md, err
			}), middleware.After)
	}
}

func expected(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && slices.Contains(expectedErrorCodes, api.ErrorCode())
}
