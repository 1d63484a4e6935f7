package process

import (
	"strconv"
	"strings"

	"github.com/longshore/longshore/internal/run"
)

// refPrefix starts every task ref of this runner.
const refPrefix = "proc"

// maxPID bounds the pids a ref may name (the kernel's largest pid_max).
const maxPID = 1 << 22

// taskID names one process: its pid, its start time in clock ticks since
// boot (field 22 of /proc/<pid>/stat, so that a reused pid is never taken
// for the task) and the run that started it.
type taskID struct {
	pid    int
	ticks  uint64
	runID  string
	source string
}

// formatRef writes a task ref: "proc:<pid>:<start ticks>:<run id>".
func formatRef(pid int, ticks uint64, runID string) string {
	return refPrefix + ":" + strconv.Itoa(pid) + ":" + strconv.FormatUint(ticks, 10) + ":" + runID
}

// parseRef reads a task ref written by formatRef. Anything else, including
// a ref with extra zeros or signs, is refused.
func parseRef(ref string) (taskID, bool) {
	parts := strings.Split(ref, ":")
	if len(parts) != 4 || parts[0] != refPrefix || !run.ValidID(parts[3]) {
		return taskID{}, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 1 || pid > maxPID {
		return taskID{}, false
	}
	ticks, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil {
		return taskID{}, false
	}
	if formatRef(pid, ticks, parts[3]) != ref {
		return taskID{}, false
	}
	return taskID{pid: pid, ticks: ticks, runID: parts[3], source: ref}, true
}
