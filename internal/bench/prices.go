package bench

// awsPrices are the public us-east-1 list prices the cost row uses, in US
// dollars, as of pricesAsOf; the one place to update them.
var awsPrices = struct {
	// DynamoDB on demand, per write and read request unit.
	WriteUnit, ReadUnit float64
	// EventBridge custom events put on a bus, per event (each 64 KB of an
	// entry is one event).
	Event float64
	// Lambda, per request and per GB-second of duration by architecture.
	LambdaRequest float64
	GBSecond      map[string]float64
	// CloudWatch Logs standard ingestion, per GB.
	LogGB float64
	// DynamoDB standard table storage and point-in-time recovery, per
	// GB-month.
	StorageGBMonth, PITRGBMonth float64
	// Step Functions standard workflows, per state transition.
	Transition float64
}{
	WriteUnit:      0.625 / 1e6,
	ReadUnit:       0.125 / 1e6,
	Event:          1.00 / 1e6,
	LambdaRequest:  0.20 / 1e6,
	GBSecond:       map[string]float64{"arm64": 0.0000133334, "x86_64": 0.0000166667},
	LogGB:          0.50,
	StorageGBMonth: 0.25,
	PITRGBMonth:    0.20,
	Transition:     25.0 / 1e6,
}

// pricesAsOf dates awsPrices and awsLatency.
const pricesAsOf = "2026-12-04"

// awsLatency is what the bench cannot measure here: how long a function
// waits for each AWS call it makes, which Lambda bills as duration. These
// are assumptions, on the slow side of what the services answer within a
// Region: DynamoDB's single-digit milliseconds, a PutEvents, and RunTask,
// which places the task before it answers.
var awsLatency = map[string]float64{ // milliseconds
	"DynamoDB":    10,
	"EventBridge": 30,
	"ECS":         500,
}

// lambdaVCPUMB is the memory at which a Lambda function has one vCPU; it
// gets CPU in proportion to its memory below that.
const lambdaVCPUMB = 1769

// Lambda's JSON log format writes platform records for every invocation
// beside the function's own lines: these are the start and report records
// as Lambda documents them, with this deployment's names and typical values,
// for their size (each is one log event).
var platformRecords = []string{
	`{"time":"2026-12-04T10:00:00.000Z","type":"platform.start","record":{"requestId":"6f7f0961-1a2b-4c3d-8e9f-0123456789ab","version":"$LATEST"}}`,
	`{"time":"2026-12-04T10:00:00.120Z","type":"platform.report","record":{"requestId":"6f7f0961-1a2b-4c3d-8e9f-0123456789ab","metrics":{"durationMs":117.25,"billedDurationMs":118,"memorySizeMB":128,"maxMemoryUsedMB":31},"status":"success"}}`,
}

// storageItemOverhead is what DynamoDB adds to the stored size of each
// item, in the table and in each index.
const storageItemOverhead = 100

// logEventOverhead is what CloudWatch Logs counts for each log event beside
// its message (the size PutLogEvents batches are measured in).
const logEventOverhead = 26
