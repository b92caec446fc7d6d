//go:build !xray

package awssdk

import "github.com/aws/smithy-go/middleware"

// Tracing reports whether this build links the AWS X-Ray SDK (build tag
// xray) and so turns AWS calls into X-Ray subsegments. Without the tag
// (the default: the SDK adds about 9 MB to each bootstrap, docs/lambda.md)
// nothing of it is linked, and Lambda's active tracing records the
// invocations alone.
const Tracing = false

// traceOption is never installed without the tag.
func traceOption(*middleware.Stack) error { return nil }
