package app

// Functions whose routes never touch storage or signing are built without
// the AWS clients they would never call (build tags oidc_no_dynamodb and
// oidc_no_kms, chosen per function by BuildTags): the discovery function
// needs neither, the jwks function no DynamoDB. A smaller binary starts
// faster, and these are the endpoints relying parties fetch when they start.

// BuildTags are the Go build tags of a Lambda function's binary, beyond
// lambda.norpc. The build tool and the tests that run the binaries use
// them, so what is tested is what ships.
func BuildTags(function string) []string {
	switch function {
	case "discovery":
		return []string{"oidc_no_dynamodb", "oidc_no_kms"}
	case "jwks":
		return []string{"oidc_no_dynamodb"}
	}
	return nil
}
