#!/usr/bin/env bash
# .ci/fuzz-smoke.sh — run every fuzz target of the module briefly.
#
# Finds each `func FuzzXxx(` in the module's *_test.go files and runs it for
# FUZZTIME (default 10s), one target at a time. Stops at the first failure;
# go test then saves the failing input under <pkg>/testdata/fuzz/FuzzXxx/,
# which is worth committing as a regression case. Copes with zero targets.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
go=${GO:-go}

# "dir<TAB>FuzzName" for every target, sorted; skips .git, vendor, testdata.
mapfile -t targets < <(
	find . \( -name .git -o -name vendor -o -name testdata -o -name node_modules \) -prune -o \
		-type f -name '*_test.go' -print0 |
		xargs -0 -r grep -HoE '^func Fuzz[A-Za-z0-9_]*\(' |
		sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1\t\2#' |
		sort -u
)

if ((${#targets[@]} == 0)); then
	echo "fuzz-smoke: no fuzz targets found (nothing to do)"
	exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
n=0
for t in "${targets[@]}"; do
	dir=${t%%$'\t'*}
	name=${t#*$'\t'}
	echo "fuzz-smoke: $name in $dir for $fuzztime"
	ok=false
	for attempt in 1 2; do
		corpus_before=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort || true)
		if "$go" test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir" 2>&1 | tee "$log"; then
			ok=true
			break
		fi
		# Go's fuzzer sometimes ends a run that found nothing with "context deadline exceeded"
		# (the coordinator gives up on a busy worker at the deadline). That is not a finding:
		# no input was saved. Run it once more; a real failure saves its input and stops here.
		corpus_after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort || true)
		if ((attempt == 1)) && [[ $corpus_before == "$corpus_after" ]] &&
			grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz-smoke: $name ended with the fuzzer's own deadline error and no failing input: once more"
			continue
		fi
		break
	done
	if ! $ok; then
		echo "fuzz-smoke: FAILED: $name in $dir (the failing input is under $dir/testdata/fuzz/$name/; reproduce with: go test -run='^$name\$' $dir)" >&2
		exit 1
	fi
	n=$((n + 1))
done
echo "fuzz-smoke: $n of ${#targets[@]} targets passed, $fuzztime each ($((SECONDS - start))s in all)"
