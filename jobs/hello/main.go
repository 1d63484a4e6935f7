// Command hello is Longshore's example job: it prints its environment, the
// LONGSHORE_* variables first, and exits with the code in $EXIT_CODE (0 when unset).
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	env := os.Environ()
	sort.SliceStable(env, func(i, j int) bool {
		return strings.HasPrefix(env[i], "LONGSHORE_") && !strings.HasPrefix(env[j], "LONGSHORE_")
	})
	for _, kv := range env {
		fmt.Println(kv)
	}
	if len(os.Args) > 1 {
		fmt.Println("args:", strings.Join(os.Args[1:], " "))
	}
	code := 0
	if v := os.Getenv("EXIT_CODE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 255 {
			fmt.Fprintf(os.Stderr, "hello: EXIT_CODE=%q is not a number from 0 to 255\n", v)
			os.Exit(2)
		}
		code = n
	}
	fmt.Printf("hello: exiting with %d\n", code)
	os.Exit(code)
}
