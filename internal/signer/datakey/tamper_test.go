package datakey_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestSwappedCiphertext: the kid is in the encryption context, so the
// wrapped key of one item copied into another does not decrypt there, and
// the signer refuses to sign rather than sign with the wrong key.
func TestSwappedCiphertext(t *testing.T) {
	e := newEnv(t)
	s := e.signer(t, nil)
	rs := sign(t, s, oidc.RS256)
	es := sign(t, s, oidc.ES256)
	item := func(kid string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SIGNKEY#set"}, "sk": &types.AttributeValueMemberS{Value: "SIGNKEY#" + kid}}
	}
	got, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: item(es.KeyID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName: aws.String(e.table), Key: item(rs.KeyID),
		UpdateExpression:          aws.String("SET wrapped_key = :w"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": got.Item["wrapped_key"]},
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.signer(t, nil).SigningKey(t.Context(), oidc.RS256)
	if err == nil || !strings.Contains(err.Error(), "Decrypt") {
		t.Errorf("SigningKey with a swapped ciphertext: %v; want a Decrypt error", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    datakey.Config
		want string // a substring of the report, "" for none
	}{
		{"valid", datakey.Config{WrappingKey: "alias/oidc-wrap", Table: "oidc"}, ""},
		{"no wrapping key", datakey.Config{Table: "oidc"}, "wrappingKey: required"},
		{"no table", datakey.Config{WrappingKey: "k"}, "table: required"},
		{"bad table", datakey.Config{WrappingKey: "k", Table: "a b"}, "table: \"a b\" is not a DynamoDB table name"},
		{"short rotation", datakey.Config{WrappingKey: "k", Table: "oidc", RotationPeriod: datakey.MinRotationPeriod / 2}, "rotationPeriod: "},
		{"bad endpoint", datakey.Config{WrappingKey: "k", Table: "oidc", KMSEndpoint: "localhost:4566"}, "kmsEndpoint: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			tt.c.Validate(func(key, msg string) { got = append(got, key+": "+msg) })
			report := strings.Join(got, "\n")
			if (tt.want == "") != (report == "") || !strings.Contains(report, tt.want) {
				t.Errorf("Validate: %q; want %q", report, tt.want)
			}
		})
	}
}

func TestAlgorithms(t *testing.T) {
	for _, tt := range []struct {
		alg      string
		idTokens []string
		want     string
	}{
		{oidc.RS256, nil, "RS256 ES256"},
		{oidc.ES256, nil, "ES256"},
		{oidc.ES256, []string{oidc.ES256, oidc.RS256}, "RS256 ES256"},
	} {
		if got := strings.Join(datakey.Algorithms(tt.alg, tt.idTokens), " "); got != tt.want {
			t.Errorf("Algorithms(%s, %v) = %s; want %s", tt.alg, tt.idTokens, got, tt.want)
		}
	}
}
