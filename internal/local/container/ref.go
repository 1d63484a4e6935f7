package container

import (
	"strings"

	"github.com/longshore/longshore/internal/run"
)

// refPrefix starts every task ref of this runner.
const refPrefix = "ctr"

// taskID names one container: its engine id and the run that started it.
type taskID struct {
	containerID string
	runID       string
	source      string
}

// formatRef writes a task ref: "ctr:<container id>:<run id>".
func formatRef(containerID, runID string) string {
	return refPrefix + ":" + containerID + ":" + runID
}

// IsRef reports whether ref is a task ref of a container runner (it may
// still be one this runner never made).
func IsRef(ref string) bool { return strings.HasPrefix(ref, refPrefix+":") }

// parseRef reads a task ref written by formatRef: the container id is 64
// lowercase hex digits, as every engine writes them.
func parseRef(ref string) (taskID, bool) {
	parts := strings.Split(ref, ":")
	if len(parts) != 3 || parts[0] != refPrefix || !validContainerID(parts[1]) || !run.ValidID(parts[2]) {
		return taskID{}, false
	}
	return taskID{containerID: parts[1], runID: parts[2], source: ref}, true
}

func validContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
