#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a short time each
# (FUZZTIME, default 3s). `go test` already replays the committed seed
# corpora; this also explores a little around them on every `make test`.
#
# A finding (a failing input written to testdata/fuzz) fails the run. Go's
# fuzzer sometimes ends a very short run with a bare "context deadline
# exceeded" and no input, when gathering the corpus's baseline coverage
# outlasts -fuzztime on a busy machine: such a run is tried once more with
# twice the time, and reported, not failed, if it ends the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-3s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

fuzz() { # pkg name time
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$3" -fuzzminimizetime 2s "$1" >"$log" 2>&1
}

while IFS=: read -r file name; do
	pkg="./$(dirname "$file")"
	echo "fuzz $pkg $name ($fuzztime)"
	fuzz "$pkg" "$name" "$fuzztime" && continue
	if ! grep -q "Failing input written" "$log" && grep -q "context deadline exceeded" "$log"; then
		again=$fuzztime
		[[ $fuzztime =~ ^[0-9]+s$ ]] && again="$(( ${fuzztime%s} * 2 ))s"
		if fuzz "$pkg" "$name" "$again"; then
			continue
		fi
		if ! grep -q "Failing input written" "$log" && grep -q "context deadline exceeded" "$log"; then
			echo "fuzz $pkg $name: ended twice without a result (context deadline exceeded, no input): not a finding"
			continue
		fi
	fi
	cat "$log"
	status=1
done < <(git ls-files '*_test.go' | xargs grep -H -o -E '^func Fuzz[A-Za-z0-9_]+' | sed -E 's/func //' | sort -u)
exit "$status"
