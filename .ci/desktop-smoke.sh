#!/usr/bin/env bash
# .ci/desktop-smoke.sh — the real desktop app under Xvfb (run by make test, ≈ 10 s after the
# build): it opens its window on a fresh data folder; a second start on the same folder shows
# that window (hidden, as in the tray) and exits 0; typing sends, and so does a picture pasted
# from the X clipboard; on a folder kithd holds, it says "Kith is
# already running with this data folder" in a window of its own; SIGTERM quits the first
# cleanly (exit 0, the store closed: kithd can open it).
#
#   bash .ci/desktop-smoke.sh            builds kith and kithd first
#   KITH_TARBALL=dist/kith-0.1.0-linux-amd64.tar.xz KITHD=dist/kithd-0.1.0-linux-amd64 \
#   bash .ci/desktop-smoke.sh            the release's kith (from its tarball) and kithd instead:
#                                        what make test runs, after make dist; kith must say
#                                        KITH_VERSION (default: FyneApp.toml's Version)
set -euo pipefail

cd "$(dirname "$0")/.."
go=${GO:-go}
tmp=$(mktemp -d /tmp/kith-smoke.XXXXXX)
declare -a pids=()
cleanup() {
	local p
	pkill -f "xclip .*$tmp/pic.png" 2>/dev/null || true # still serving the clipboard
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

version=0.0.0-smoke
if [[ -n ${KITH_TARBALL:-} ]]; then
	version=${KITH_VERSION:-$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)}
	mkdir "$tmp/tar"
	tar -xJf "$KITH_TARBALL" -C "$tmp/tar" || fail "cannot unpack $KITH_TARBALL"
	bin=$(find "$tmp/tar" -path '*/bin/kith' -type f -print -quit)
	[[ -n $bin ]] || fail "$KITH_TARBALL holds no bin/kith"
	mv "$bin" "$tmp/kith"
else
	$go build -ldflags "-X github.com/kith-app/kith/app.version=$version" -o "$tmp/kith" ./cmd/kith
fi
if [[ -n ${KITHD:-} ]]; then
	cp "$KITHD" "$tmp/kithd" || fail "KITHD=$KITHD: cannot copy it"
else
	$go build -o "$tmp/kithd" ./cmd/kithd
fi
# The version the build stamped, with no window and no data folder.
"$tmp/kith" --version | grep -qF "kith $version (" || fail "kith --version: $("$tmp/kith" --version 2>&1), want $version"
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

"$tmp/kithd" --data "$tmp/data" create --name Smoke --display-name Ana >/dev/null
"$tmp/kith" --data "$tmp/data" --no-mdns --no-nat >"$tmp/first.log" 2>&1 &
first=$!
pids+=("$first")
wait_window Kith
echo "ok   the window opens"

# Typed into the composer (it has the focus): Shift+Enter adds a line, Enter sends.
id=$(xdotool search --onlyvisible --name '^Kith$' | head -n 1)
for _ in $(seq 50); do "$tmp/kithd" --data "$tmp/data" status >/dev/null 2>&1 && break; sleep 0.2; done # the network (and socket) is up
sleep 1
xdotool type --window "$id" --delay 20 "line one"
xdotool key --window "$id" shift+Return
xdotool type --window "$id" --delay 20 "line two"
xdotool key --window "$id" Return
sent=''
for _ in $(seq 50); do
	sent=$("$tmp/kithd" --data "$tmp/data" messages --json 2>/dev/null || true)
	[[ $sent == *'line one\nline two'* ]] && break
	sleep 0.2
done
[[ $sent == *'"text":"line one\nline two"'* ]] || fail "typing and Enter did not send \"line one\nline two\": kithd messages says $sent"
echo "ok   Shift+Enter adds a line and Enter sends, in the real window"

# A picture on the X clipboard (as a screenshot tool leaves one), pasted with Ctrl+V, is sent.
base64 -d >"$tmp/pic.png" <<<'iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAYAAAC09K7GAAAAGUlEQVR4nGJiQANggRMBIv/RJeAAEAAA//88RwIwLbgjowAAAABJRU5ErkJggg=='
xclip -selection clipboard -t image/png -i "$tmp/pic.png" # it keeps serving the clipboard in the background
xdotool key --window "$id" ctrl+v
for _ in $(seq 50); do
	sent=$("$tmp/kithd" --data "$tmp/data" messages --json 2>/dev/null || true)
	[[ $sent == *'Pasted picture'* ]] && break
	sleep 0.2
done
[[ $sent == *'"name":"Pasted picture '*'"mime":"image/png"'* ]] || fail "Ctrl+V with a picture on the clipboard did not send it: kithd messages says $sent"
echo "ok   a picture pasted with Ctrl+V is sent, in the real window"

# A second start on the same folder brings the first window to the front, and exits 0.
xdotool search --onlyvisible --name '^Kith$' | head -n 1 | xargs xdotool windowunmap # as if closed to the tray
rc=0
timeout 60 "$tmp/kith" --data "$tmp/data" --no-mdns --no-nat >"$tmp/second.log" 2>&1 || rc=$?
((rc == 0)) || fail "a second start exited $rc, want 0 (the running one shows its window)"
wait_window Kith
echo "ok   a second start on the same folder shows the running window"

# A folder that kithd holds has no window to show: the app says it is already running, in a
# window of its own, and exits non-zero once that is closed.
"$tmp/kithd" --data "$tmp/headless" run --listen /ip4/127.0.0.1/tcp/0 --no-mdns --no-nat >"$tmp/kithd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do "$tmp/kithd" --data "$tmp/headless" status --json 2>/dev/null | grep -q '"running":true' && break; sleep 0.1; done
"$tmp/kith" --data "$tmp/headless" --no-mdns --no-nat >"$tmp/third.log" 2>&1 &
third=$!
pids+=("$third")
wait_window "Kith cannot start"
grep -q "already running" "$tmp/third.log" || fail "the app did not say why it cannot start"
kill -TERM "$third" # as closing its window would
rc=0
wait "$third" || rc=$?
((rc != 0)) || fail "the app exited 0 on a folder kithd holds, want an error status"
echo "ok   on a folder kithd holds, the app says Kith is already running (exit $rc)"

kill -TERM "$first"
rc=0
wait "$first" || rc=$?
((rc == 0)) || fail "SIGTERM: the app exited $rc, want 0"
"$tmp/kithd" --data "$tmp/data" status >/dev/null || fail "after SIGTERM the data folder cannot be opened"
echo "ok   SIGTERM quits cleanly; the store opens again"
