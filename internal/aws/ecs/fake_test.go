package ecs_test

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/longshore/longshore/internal/testsupport/awsfake"
)

// Short names for the fake's answers.
type (
	answer = awsfake.Answer
	call   = awsfake.Call
)

var (
	ok       = awsfake.OK
	apiError = awsfake.Error
	lost     = awsfake.Lost
	started  = awsfake.Default
	dig      = awsfake.Dig
)

// ecsClient is an ECS client for the fake that does not retry on its own,
// as the host builds it.
func ecsClient(f *awsfake.Server) *awsecs.Client {
	return awsecs.New(awsecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(f.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.AccessKeyID, awsfake.SecretAccessKey, ""),
	})
}
