package construct

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NetworkProps chooses the network tasks run in.
type NetworkProps struct {
	Prefix    string
	Retention awslogs.RetentionDays
	// Vpc and Subnets are an existing network (Subnets default to the
	// VPC's private subnets); nil means VpcID and SubnetIDs, or a new VPC.
	Vpc     awsec2.IVpc
	Subnets []awsec2.ISubnet
	// VpcID and SubnetIDs name an existing network by id.
	VpcID     string
	SubnetIDs []string
	// NatGateways of a new VPC; 0 puts tasks in public subnets.
	NatGateways int
	// AssignPublicIP is passed through for existing subnets.
	AssignPublicIP bool
}

// Network is where tasks run: a VPC, the subnets tasks are placed in and
// one security group for them with no inbound rules.
type Network struct {
	constructs.Construct
	Vpc            awsec2.IVpc
	Subnets        []awsec2.ISubnet
	SecurityGroup  awsec2.SecurityGroup
	AssignPublicIP bool
}

// NewNetwork creates a VPC (two AZs; private subnets behind one NAT
// gateway, plus a free S3 gateway endpoint so image layers from ECR and
// payloads do not pass through NAT) or imports an existing one.
//
// NAT rather than interface endpoints: tasks pull images from any registry a
// job names (public.ecr.aws, Docker Hub, a vendor's), which endpoints cannot
// reach, and the five endpoints Fargate would need (ecr.api, ecr.dkr, logs,
// secretsmanager, ssm) cost 5 x 2 AZs x $0.01/h = about $73 a month, against
// about $33 for one NAT gateway.
func NewNetwork(scope constructs.Construct, id string, props *NetworkProps) *Network {
	c := constructs.NewConstruct(scope, &id)
	n := &Network{Construct: c, AssignPublicIP: props.AssignPublicIP}
	if props.Vpc != nil {
		n.Vpc = props.Vpc
		n.Subnets = props.Subnets
		if len(n.Subnets) == 0 {
			n.Subnets = *props.Vpc.PrivateSubnets()
		}
	} else if props.VpcID != "" {
		stack := awscdk.Stack_Of(c)
		n.Vpc = awsec2.Vpc_FromVpcAttributes(c, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId:             jsii.String(props.VpcID),
			AvailabilityZones: stack.AvailabilityZones(),
		})
		for i, id := range props.SubnetIDs {
			s := awsec2.Subnet_FromSubnetId(c, jsii.String(fmt.Sprintf("Subnet%d", i)), jsii.String(id))
			// Tasks are placed by subnet id; nothing reads a route table.
			awscdk.Annotations_Of(s).AcknowledgeWarning(jsii.String("@aws-cdk/aws-ec2:noSubnetRouteTableId"),
				jsii.String("tasks are placed by subnet id; no route table is read"))
			n.Subnets = append(n.Subnets, s)
		}
	} else {
		taskSubnets := awsec2.SubnetType_PRIVATE_WITH_EGRESS
		subnets := []*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
		}
		if props.NatGateways > 0 {
			subnets = append(subnets, &awsec2.SubnetConfiguration{
				Name: jsii.String("tasks"), SubnetType: taskSubnets, CidrMask: jsii.Number(20),
			})
		} else {
			taskSubnets = awsec2.SubnetType_PUBLIC
		}
		flowLogs := awslogs.NewLogGroup(c, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String("/" + props.Prefix + "/vpc-flow-logs"),
			Retention:     props.Retention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
			VpcName:             jsii.String(props.Prefix),
			IpAddresses:         awsec2.IpAddresses_Cidr(jsii.String("10.20.0.0/16")),
			MaxAzs:              jsii.Number(2),
			NatGateways:         jsii.Number(float64(props.NatGateways)),
			SubnetConfiguration: &subnets,
			GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
				"S3": {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
			},
			FlowLogs: &map[string]*awsec2.FlowLogOptions{
				"Rejected": {
					Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
					TrafficType: awsec2.FlowLogTrafficType_REJECT,
				},
			},
		})
		n.Vpc = vpc
		n.Subnets = *vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetType: taskSubnets}).Subnets
	}
	n.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("Tasks"), &awsec2.SecurityGroupProps{
		Vpc:              n.Vpc,
		Description:      jsii.String("Longshore tasks: outbound only, no inbound rules"),
		AllowAllOutbound: jsii.Bool(true),
	})
	return n
}

// SubnetIDs returns the task subnets' ids (tokens for a new VPC).
func (n *Network) SubnetIDs() []*string {
	ids := make([]*string, len(n.Subnets))
	for i, s := range n.Subnets {
		ids[i] = s.SubnetId()
	}
	return ids
}
