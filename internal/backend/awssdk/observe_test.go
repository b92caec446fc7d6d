package awssdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
)

type call struct {
	service, operation string
	failed, throttled  bool
}

// TestObserveCalls: on DynamoDB Local, every call is observed once with
// its service and operation; a conditional write that loses is an
// outcome, not a failure; a call on a missing table is a failure, not
// throttling.
func TestObserveCalls(t *testing.T) {
	endpoint := emulatortest.StartDynamoDBLocal(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var calls []call
	cfg, err := awssdk.FromEnvironment(context.Background(), "eu-west-1", func(service, operation string, latency time.Duration, failed, throttled bool) {
		if latency <= 0 {
			t.Errorf("%s %s latency %v", service, operation, latency)
		}
		calls = append(calls, call{service, operation, failed, throttled})
	})
	if err != nil {
		t.Fatal(err)
	}
	client := awsdynamodb.NewFromConfig(cfg, func(o *awsdynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	ctx := context.Background()
	if err := dynamodb.CreateTable(ctx, client, "observe"); err != nil {
		t.Fatal(err)
	}
	calls = nil
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberS{Value: "b"}}
	put := &awsdynamodb.PutItemInput{TableName: aws.String("observe"), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if _, err := client.PutItem(ctx, put); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutItem(ctx, put); err == nil {
		t.Fatal("second conditional put succeeded")
	}
	if _, err := client.GetItem(ctx, &awsdynamodb.GetItemInput{TableName: aws.String("absent"), Key: item}); err == nil {
		t.Fatal("GetItem on a missing table succeeded")
	}
	want := []call{{"DynamoDB", "PutItem", false, false}, {"DynamoDB", "PutItem", false, false}, {"DynamoDB", "GetItem", true, false}}
	if len(calls) != len(want) {
		t.Fatalf("calls %v; want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("call %d = %+v; want %+v", i, calls[i], want[i])
		}
	}
}
