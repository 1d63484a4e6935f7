package main

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

func TestCdkNagFindsNothingUnsuppressed(t *testing.T) {
	f := deployments(t)
	for name, d := range map[string]*deployment{"the default deployment": f.main, "a deployment into an existing VPC": f.alt} {
		t.Run(name, func(t *testing.T) {
			var errs, warns []*cxapi.SynthesisMessage
			assert(t, "annotations", func() {
				a := assertions.Annotations_FromStack(d.stack.Stack)
				errs = *a.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
				warns = *a.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			})
			for _, m := range errs {
				t.Errorf("error at %s: %v", *m.Id, m.Entry.Data)
			}
			for _, m := range warns {
				t.Errorf("warning at %s: %v", *m.Id, m.Entry.Data)
			}
		})
	}
}
