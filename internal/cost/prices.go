package cost

// Prices as of 2026-12-04, from the AWS Fargate pricing page
// (https://aws.amazon.com/fargate/pricing/, Linux, per second with a
// one-minute minimum). This table is the one place Longshore keeps prices:
// change them here, and the date above with them.
//
// Only US East (N. Virginia) is listed: a Region not in the table is priced
// at these prices, and a run says so (its costRegion is us-east-1).
//
// Fargate Spot has no list price: its price moves with spare capacity and
// is "up to 70% less" than on-demand. Longshore estimates it as SpotDiscount
// off the on-demand vCPU and memory prices of the task's architecture;
// ephemeral storage is charged in full either way.

// PricesDate is when the table was last checked against the pricing page.
const PricesDate = "2026-12-04"

// DefaultRegion is the Region whose prices apply where a Region has none of
// its own in the table.
const DefaultRegion = "us-east-1"

var table = map[string]Prices{
	"us-east-1": {
		Region:        "us-east-1",
		X86VCPUHour:   0.04048,
		X86GBHour:     0.004445,
		ARMVCPUHour:   0.03238,
		ARMGBHour:     0.00356,
		StorageGBHour: 0.000111,
		SpotDiscount:  0.70,
	},
}
