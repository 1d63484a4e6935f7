package job

import (
	"slices"
	"strconv"
	"strings"
)

// fargateCPUs lists the task CPU sizes Fargate accepts, in CPU units.
var fargateCPUs = []int{256, 512, 1024, 2048, 4096, 8192, 16384}

// fargateMemory lists, for each CPU size, the memory sizes (MiB) Fargate accepts.
var fargateMemory = func() map[int][]int {
	steps := func(from, to, step int) []int {
		var out []int
		for m := from; m <= to; m += step {
			out = append(out, m)
		}
		return out
	}
	return map[int][]int{
		256:   {512, 1024, 2048},
		512:   steps(1024, 4096, 1024),
		1024:  steps(2048, 8192, 1024),
		2048:  steps(4096, 16384, 1024),
		4096:  steps(8192, 30720, 1024),
		8192:  steps(16384, 61440, 4096),
		16384: steps(32768, 122880, 8192),
	}
}()

// ValidSize reports whether Fargate accepts the cpu/memory pair.
func ValidSize(cpu, memory int) bool {
	return slices.Contains(fargateMemory[cpu], memory)
}

func smallestCPUFor(memory int) int {
	for _, cpu := range fargateCPUs {
		if slices.Contains(fargateMemory[cpu], memory) {
			return cpu
		}
	}
	return 0
}

// describeMemory writes the memory sizes allowed for a CPU compactly,
// e.g. "2048-8192 in steps of 1024".
func describeMemory(cpu int) string {
	sizes := fargateMemory[cpu]
	if len(sizes) <= 3 {
		parts := make([]string, len(sizes))
		for i, m := range sizes {
			parts[i] = strconv.Itoa(m)
		}
		return strings.Join(parts, ", ")
	}
	return strconv.Itoa(sizes[0]) + "-" + strconv.Itoa(sizes[len(sizes)-1]) +
		" in steps of " + strconv.Itoa(sizes[1]-sizes[0])
}

func describeCPUs() string {
	parts := make([]string, len(fargateCPUs))
	for i, c := range fargateCPUs {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ", ")
}
