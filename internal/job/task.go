package job

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits of the task settings, checked by validation.
const (
	// MinStorage and MaxStorage bound a task's ephemeral storage in GiB, as
	// Fargate does; DefaultStorage (20) is also accepted, as no setting.
	MinStorage = 21
	MaxStorage = 200
	// MaxPermissions bounds the statements of a job's task role policy.
	MaxPermissions = 20
	// MaxManagedPolicies is IAM's default quota of managed policies attached to a role.
	MaxManagedPolicies = 10
	// MaxSubnets and MaxSecurityGroups are the awsvpc limits of one task.
	MaxSubnets        = 16
	MaxSecurityGroups = 5
	// MaxUserTags bounds a job's tags: ECS allows 50 tags per resource and
	// Longshore adds its own (longshore:job, longshore:run,
	// longshore:deployment, longshore:attempt, longshore:trigger).
	MaxUserTags = 45
	// MaxTagKeyLength and MaxTagValueLength are AWS's limits, in characters.
	MaxTagKeyLength   = 128
	MaxTagValueLength = 256
)

// ReservedTagPrefix starts the keys of the tags Longshore puts on every
// task definition and task; a job's own tags may not use it.
const ReservedTagPrefix = "longshore:"

// awsTagPrefix starts the keys AWS reserves for its own tags.
const awsTagPrefix = "aws:"

var (
	actionRe      = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9*?]+$`)
	resourceARNRe = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):[a-z0-9-]+:([a-z0-9-]*|\*):([0-9]{12}|\*)?:\S(.*\S)?$`)
	policyARNRe   = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::(aws|[0-9]{12}):policy/([\w+=,.@-]+/)*[\w+=,.@-]+$`)
	roleARNRe     = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]+$`)
	subnetRe      = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	groupRe       = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// tagRe is AWS's pattern for tag keys and values.
	tagRe = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// architectureAliases are other names of the two architectures.
var architectureAliases = map[string]Architecture{
	"amd64": ArchitectureX86_64, "x86-64": ArchitectureX86_64, "x64": ArchitectureX86_64,
	"aarch64": ArchitectureARM64, "arm": ArchitectureARM64, "arm64v8": ArchitectureARM64,
}

func validateArchitecture(s *Spec, ps *problems) {
	switch s.Architecture {
	case ArchitectureX86_64:
	case ArchitectureARM64:
		if s.Capacity == CapacitySpot || s.Capacity == CapacitySpotThenOnDemand {
			ps.add("architecture", "arm64 cannot run on capacity %s: Fargate Spot runs x86_64 only: use capacity on-demand or architecture x86_64", s.Capacity)
		}
	default:
		msg := fmt.Sprintf("%q is not an architecture: write x86_64 or arm64", s.Architecture)
		if a, ok := architectureAliases[strings.ToLower(string(s.Architecture))]; ok {
			msg += fmt.Sprintf(" (%s is written %s)", s.Architecture, a)
		}
		ps.add("architecture", "%s", msg)
	}
}

// validateStorage checks the storage as written (0 only when it was left out).
func validateStorage(s *Spec, given func(string) bool, ps *problems) {
	if !given("storage") || s.Storage == DefaultStorage {
		return
	}
	if s.Storage < MinStorage || s.Storage > MaxStorage {
		ps.add("storage", "%d GiB is out of range: use %d to %d, or leave storage out for Fargate's default of %d GiB",
			s.Storage, MinStorage, MaxStorage, DefaultStorage)
	}
}

func validatePermissions(s *Spec, ps *problems) {
	if n := len(s.Permissions); n > MaxPermissions {
		ps.add("permissions", "%d statements are too many: use at most %d (merge statements on the same resources, or attach managedPolicies)", n, MaxPermissions)
	}
	for i, p := range s.Permissions {
		field := fmt.Sprintf("permissions[%d]", i)
		if len(p.Actions) == 0 {
			ps.add(field+".actions", "is empty: list at least one action, such as s3:GetObject")
		}
		if len(p.Resources) == 0 {
			ps.add(field+".resources", `is empty: list at least one resource ARN, such as arn:aws:s3:::my-bucket/*, or "*"`)
		}
		for j, a := range p.Actions {
			f := fmt.Sprintf("%s.actions[%d]", field, j)
			switch {
			case a == "*":
				ps.add(f, `"*" would allow every action of every service: name the service, such as s3:* or s3:GetObject`)
			case !actionRe.MatchString(a):
				ps.add(f, "%q is not an IAM action: write service:Action, such as s3:GetObject, s3:Get* or dynamodb:*", a)
			}
		}
		for j, r := range p.Resources {
			f := fmt.Sprintf("%s.resources[%d]", field, j)
			switch {
			case r == "*":
				if len(p.Actions) > 0 {
					ps.warn(f, `resource "*" grants %s on every resource of the account: name the ARNs if you can`, strings.Join(p.Actions, ", "))
				} else {
					ps.warn(f, `resource "*" grants its actions on every resource of the account: name the ARNs if you can`)
				}
			case !resourceARNRe.MatchString(r):
				ps.add(f, `%q is not a resource: write "*" or an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE `+
					`(PARTITION aws, aws-cn or aws-us-gov; REGION and ACCOUNT may be empty or *; ACCOUNT is 12 digits), such as arn:aws:s3:::my-bucket/*`, r)
			}
		}
	}
	if n := len(s.ManagedPolicies); n > MaxManagedPolicies {
		ps.add("managedPolicies", "%d policies are too many: IAM attaches at most %d managed policies to a role", n, MaxManagedPolicies)
	}
	seen := map[string]int{}
	for i, arn := range s.ManagedPolicies {
		field := fmt.Sprintf("managedPolicies[%d]", i)
		if j, dup := seen[arn]; dup {
			ps.add(field, "%q repeats managedPolicies[%d]: remove one", arn, j)
			continue
		}
		seen[arn] = i
		if !policyARNRe.MatchString(arn) {
			ps.add(field, "%q is not an IAM managed policy ARN: write arn:aws:iam::aws:policy/NAME (AWS managed) or arn:aws:iam::ACCOUNT:policy/NAME (ACCOUNT is 12 digits)", arn)
		}
	}
	if s.TaskRole == "" {
		return
	}
	if !roleARNRe.MatchString(s.TaskRole) {
		ps.add("taskRole", "%q is not an IAM role ARN: write arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:role/PATH/NAME (ACCOUNT is 12 digits)", s.TaskRole)
	}
	if len(s.Permissions) > 0 || len(s.ManagedPolicies) > 0 {
		ps.add("taskRole", "use taskRole for an existing role, or permissions/managedPolicies for a role Longshore creates, not both")
	}
}

func validateNetwork(s *Spec, ps *problems) {
	n := s.Network
	checkIDs := func(field string, ids []string, max int, re *regexp.Regexp, what, prefix string) {
		if len(ids) > max {
			ps.add(field, "%d %ss are too many: a Fargate task takes at most %d", len(ids), what, max)
		}
		seen := map[string]int{}
		for i, id := range ids {
			f := fmt.Sprintf("%s[%d]", field, i)
			if j, dup := seen[id]; dup {
				ps.add(f, "%q repeats %s[%d]: remove one", id, field, j)
				continue
			}
			seen[id] = i
			if !re.MatchString(id) {
				ps.add(f, "%q is not a %s ID: write %s- and 8 or 17 hex digits, such as %s-0123456789abcdef0", id, what, prefix, prefix)
			}
		}
	}
	checkIDs("network.subnets", n.Subnets, MaxSubnets, subnetRe, "subnet", "subnet")
	checkIDs("network.securityGroups", n.SecurityGroups, MaxSecurityGroups, groupRe, "security group", "sg")
}

func validateTags(s *Spec, ps *problems) {
	const allowed = "use letters, digits, spaces and _ . : / = + - @"
	if n := len(s.Tags); n > MaxUserTags {
		ps.add("tags", "%d tags are too many: use at most %d (ECS allows 50 a resource, and Longshore adds its own)", n, MaxUserTags)
	}
	for _, k := range sortedKeys(s.Tags) {
		field := join("tags", k)
		if k == "" || !tagRe.MatchString(k) {
			field = "tags" // the message quotes the key
		}
		switch n := utf8.RuneCountInString(k); {
		case k == "":
			ps.add(field, "a key is empty: use 1 to %d characters", MaxTagKeyLength)
		case !tagRe.MatchString(k):
			ps.add(field, "key %q has characters AWS tags do not allow: %s", k, allowed)
		case n > MaxTagKeyLength:
			ps.add(field, "the key is %d characters long: use 1 to %d", n, MaxTagKeyLength)
		case hasPrefixFold(k, awsTagPrefix):
			ps.add(field, "keys starting with %s are reserved by AWS: choose another key", awsTagPrefix)
		case hasPrefixFold(k, ReservedTagPrefix):
			ps.add(field, "keys starting with %s are Longshore's own (it sets longshore:job, longshore:run and more): choose another key", ReservedTagPrefix)
		}
		switch v := s.Tags[k]; {
		case !tagRe.MatchString(v):
			ps.add(field, "the value %q has characters AWS tags do not allow: %s", v, allowed)
		case utf8.RuneCountInString(v) > MaxTagValueLength:
			ps.add(field, "the value is %d characters long: use at most %d", utf8.RuneCountInString(v), MaxTagValueLength)
		}
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
