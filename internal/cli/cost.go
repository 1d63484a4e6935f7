package cli

import (
	"fmt"

	"github.com/longshore/longshore/internal/cost"
)

// usdWord writes a cost as the runs and jobs tables show it: "$0.0012",
// "<$0.0001" for a cost too small for four decimals, "$0" for nothing, "-"
// when none was recorded.
func usdWord(usd *float64) string {
	switch {
	case usd == nil:
		return "-"
	case *usd == 0:
		return "$0"
	case *usd < 0.00005:
		return "<$0.0001"
	}
	return fmt.Sprintf("$%.4f", *usd)
}

// costBasisWords says what a cost is: "Fargate list prices, us-east-1, of
// 2026-12-04", or for a local run "what it would cost on Fargate, ...".
func costBasisWords(basis, region string) string {
	if region == "" {
		region = cost.DefaultRegion
	}
	prices := fmt.Sprintf("%s list prices of %s", region, cost.PricesDate)
	if basis == cost.BasisEstimate {
		return "what it would cost on Fargate, at " + prices
	}
	return "on Fargate, at " + prices
}

// jobCostWord writes a job's cost over the last 30 days: "$0.0123",
// "≥$0.5000 (first 1000 runs)" when not every run was read, "-" when the
// engine gave none.
func jobCostWord(usd *float64, runs int, partial bool) string {
	if usd == nil {
		return "-"
	}
	if partial {
		return fmt.Sprintf("≥%s (first %d runs)", usdWord(usd), runs)
	}
	return usdWord(usd)
}
