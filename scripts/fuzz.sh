#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a short time each
# (FUZZTIME, default 3s). `go test` already replays the committed seed
# corpora; this also explores a little around them on every `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-3s}"
status=0
while IFS=: read -r file name; do
	pkg="./$(dirname "$file")"
	echo "fuzz $pkg $name ($fuzztime)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg" >/tmp/longshore-fuzz.log 2>&1; then
		cat /tmp/longshore-fuzz.log
		status=1
	fi
done < <(git ls-files '*_test.go' | xargs grep -H -o -E '^func Fuzz[A-Za-z0-9_]+' | sed -E 's/func //' | sort -u)
exit "$status"
