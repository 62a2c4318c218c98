#!/usr/bin/env bash
# .ci/desktop-smoke.sh — the real desktop app under Xvfb (run by make test, ≈ 10 s after the
# build): it opens its window on a fresh data folder; a second copy on the same folder says
# "Kith is already running with this data folder" in a window of its own and exits 1 once that
# is closed; SIGTERM quits the first cleanly (exit 0, the store closed: kithd can open it).
set -euo pipefail

cd "$(dirname "$0")/.."
go=${GO:-go}
tmp=$(mktemp -d /tmp/kith-smoke.XXXXXX)
declare -a pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL desktop smoke: $*" >&2
	for f in "$tmp"/*.log; do
		[[ -e $f ]] && { echo "--- ${f##*/}:"; tail -n 30 "$f"; } >&2
	done
	exit 1
}

$go build -o "$tmp/kith" ./cmd/kith
$go build -o "$tmp/kithd" ./cmd/kithd
export DISPLAY=:96 LANG=en_US.UTF-8
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || fail "Xvfb did not start"

# wait_window TITLE: until a visible window has exactly this title.
wait_window() {
	for _ in $(seq 150); do
		timeout 5 xdotool search --onlyvisible --name "^$1\$" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "no window titled \"$1\" within 30 s"
}

"$tmp/kith" --data "$tmp/data" >"$tmp/first.log" 2>&1 &
first=$!
pids+=("$first")
wait_window Kith
echo "ok   the window opens on a fresh data folder"

"$tmp/kith" --data "$tmp/data" >"$tmp/second.log" 2>&1 &
second=$!
pids+=("$second")
wait_window "Kith cannot start"
grep -q "already running" "$tmp/second.log" || fail "the second copy did not say why it cannot start"
kill -TERM "$second" # as closing its window would
rc=0
wait "$second" || rc=$?
((rc != 0)) || fail "the second copy exited 0, want an error status"
echo "ok   a second copy on the same folder says Kith is already running (exit $rc)"

kill -TERM "$first"
rc=0
wait "$first" || rc=$?
((rc == 0)) || fail "SIGTERM: the app exited $rc, want 0"
"$tmp/kithd" --data "$tmp/data" status >/dev/null || fail "after SIGTERM the data folder cannot be opened"
echo "ok   SIGTERM quits cleanly; the store opens again"
