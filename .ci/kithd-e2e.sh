#!/usr/bin/env bash
# .ci/kithd-e2e.sh — drive the kithd binary through its command-line contract.
#
# Builds kithd (or takes KITHD, a built one), then plays a small community on 127.0.0.1 with one
# data folder per person under a temporary folder: Ana creates "Makers" and
# runs a peer, invites Bo and Cy, who join and run theirs; messages and
# members spread, Cy goes away and catches up on what he missed, commands
# reach running peers through their control sockets, and mistakes get the
# documented exit status (0 ok, 1 error, 2 usage). Steps 12 and 13 then
# start `run` together with a one-off command, several times, since those are
# races: run must come up, as the identity saved in its folder. Every wait
# polls a condition with a deadline. Prints one line per step; on a failure,
# what failed, the last command's output and the runners' logs. About 30 s
# after the build on 2 cores.
#
#   GO=go1.26 bash .ci/kithd-e2e.sh      another go command (default: go)
#   KITHD=dist/kithd-0.1.0-linux-amd64 bash .ci/kithd-e2e.sh   this kithd, not a build
#                                        (make test: the release's, from make dist)
#
# Needs bash, coreutils and grep; not jq.
set -euo pipefail

cd "$(dirname "$0")/.."
go=${GO:-go}

# A control socket's path must stay under ~100 characters: a long $TMPDIR would not do.
tmpdir=${TMPDIR:-/tmp}
((${#tmpdir} <= 60)) || tmpdir=/tmp
tmp=$(mktemp -d "$tmpdir/kithd-e2e.XXXXXX")
kithd=${KITHD:-$tmp/kithd}
[[ $kithd == /* ]] || kithd=$PWD/$kithd
declare -A pid=() # running `kithd run` processes, by data folder name
step=0
desc=build
last_cmd=''
out=''
err=''
rc=0

# cleanup stops every runner this script started, then removes the folder.
cleanup() {
	local name p i
	for name in "${!pid[@]}"; do
		p=${pid[$name]}
		kill -TERM "$p" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fail reports the current step as failed, with the last command and the runners' logs.
fail() {
	local log
	{
		echo "FAIL step $step: $desc: $*"
		if [[ -n $last_cmd ]]; then
			echo "--- last command (exit $rc): $last_cmd"
			echo "--- its stdout:"
			printf '%s\n' "$out" | head -n 40
			echo "--- its stderr:"
			printf '%s\n' "$err" | head -n 40
		fi
		for log in "$tmp"/*.log; do
			[[ -e $log ]] || continue
			echo "--- ${log##*/} (last 40 lines):"
			tail -n 40 "$log"
		done
	} >&2
	exit 1
}

begin() {
	step=$1
	desc=$2
	step_start=$SECONDS
}

ok() { echo "ok   step $step: $desc ($((SECONDS - step_start))s)"; }

# kd NAME ARGS... runs `kithd --data $tmp/NAME ARGS...` and sets out, err and rc.
kd() {
	local name=$1
	shift
	last_cmd="kithd --data $tmp/$name $*"
	if out=$(timeout 90 "$kithd" --data "$tmp/$name" "$@" 2>"$tmp/stderr"); then
		rc=0
	else
		rc=$?
	fi
	err=$(<"$tmp/stderr")
}

# kd_ok NAME ARGS... is kd that fails the step unless kithd exits 0.
kd_ok() {
	kd "$@"
	((rc == 0)) || fail "kithd $2 exited $rc, want 0"
}

# start_runner NAME starts `kithd run` on NAME's folder in the background (log: NAME.log).
start_runner() {
	local name=$1
	echo "=== kithd run started by the e2e script at $(date +%T)" >>"$tmp/$name.log"
	"$kithd" --data "$tmp/$name" run --listen /ip4/127.0.0.1/tcp/0 --no-mdns --no-nat --sync-every 1s \
		>>"$tmp/$name.log" 2>&1 &
	pid[$name]=$!
}

# alive NAME fails the step if NAME's runner has exited.
alive() {
	local name=$1 status=0
	kill -0 "${pid[$name]}" 2>/dev/null && return 0
	wait "${pid[$name]}" || status=$?
	unset "pid[$name]"
	fail "kithd run on $name exited with status $status while it should run (see $name.log below)"
}

# wait_running NAME waits until NAME's control socket is up and `status --json` says it runs.
# Nothing touches the folder before the socket exists: see step 12 for why.
wait_running() {
	local name=$1 deadline=$((SECONDS + 30))
	while ((SECONDS < deadline)); do
		alive "$name"
		if [[ -S $tmp/$name/kithd.sock ]]; then
			kd "$name" status --json
			if ((rc == 0)) && grep -q '"running":true' <<<"$out"; then
				return 0
			fi
		fi
		sleep 0.1
	done
	fail "$name's kithd run did not report \"running\":true within 30s"
}

# stop_runner NAME sends SIGTERM to NAME's runner and fails unless it exits 0 within 20s.
stop_runner() {
	local name=$1 p=${pid[$1]} status=0 i
	kill -TERM "$p" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		fail "kithd run on $name did not exit within 20s of SIGTERM"
	fi
	wait "$p" || status=$?
	unset "pid[$name]"
	((status == 0)) || fail "kithd run on $name exited $status after SIGTERM, want 0"
}

# eventually SECONDS FUNC ARGS... polls FUNC until it succeeds (0) or the deadline passes (1),
# failing at once when a runner dies.
eventually() {
	local limit=$1 deadline=$((SECONDS + $1)) name
	shift
	while ((SECONDS < deadline)); do
		"$@" && return 0
		for name in "${!pid[@]}"; do
			alive "$name"
		done
		sleep 0.2
	done
	"$@" && return 0
	echo "(gave up after ${limit}s)" >&2
	return 1
}

# has_text NAME TEXT... succeeds when NAME's `messages --json --limit 100` has every TEXT.
has_text() {
	local name=$1 t
	shift
	kd "$name" messages --json --limit 100
	((rc == 0)) || return 1
	for t in "$@"; do
		grep -qF "\"text\":\"$t\"" <<<"$out" || return 1
	done
}

# members_ok NAME succeeds when NAME lists Ana, Bo and Cy, three members, with Ana online.
members_ok() {
	kd "$1" members --json
	((rc == 0)) || return 1
	local n
	n=$(grep -o '"role":' <<<"$out" | wc -l)
	((n == 3)) || return 1
	grep -qF '"name":"Ana"' <<<"$out" && grep -qF '"name":"Bo"' <<<"$out" && grep -qF '"name":"Cy"' <<<"$out" || return 1
	# MemberJSON's field order: id, name, role, online, ...
	grep -qE '"name":"Ana","role":"[a-z]+","online":true' <<<"$out"
}

total_start=$SECONDS
# Without KITHD, kithd is built the default way (with cgo: what `go vet` and `go test` have
# compiled already, so mostly a link), and that it builds without cgo, as released, is checked
# cheaply: every package resolves with CGO_ENABLED=0. make test passes the release's kithd
# (make dist: CGO_ENABLED=0, -trimpath, stripped), so these steps run what users get.
if [[ -n ${KITHD:-} ]]; then
	begin 0 "kithd from KITHD: $KITHD"
	[[ -x $kithd ]] || fail "KITHD=$KITHD is not an executable file"
	"$kithd" version >/dev/null || fail "$kithd version failed"
else
	begin 0 "build kithd (CGO_ENABLED=0 resolves)"
	nocgo=$(CGO_ENABLED=0 "$go" list -e -deps -f '{{if .Error}}{{.ImportPath}}: {{.Error}}{{end}}' ./cmd/kithd) ||
		fail "go list ./cmd/kithd failed"
	[[ -z $nocgo ]] || fail "kithd does not build without cgo: $nocgo"
	"$go" build -o "$kithd" ./cmd/kithd || fail "go build ./cmd/kithd failed"
fi
ok
run_start=$SECONDS

begin 1 "create"
kd_ok A create --name Makers --display-name Ana
[[ $out =~ ^[0-9a-f]{64}$ ]] || fail "create printed \"$out\", want a 64-hex community ID"
community=$out
ok

begin 2 "run A"
start_runner A
wait_running A
ok

begin 3 "invite"
kd_ok A invite --uses 3
[[ $out == kith1* && $out != *$'\n'* ]] || fail "invite printed \"$out\", want one line starting with kith1"
[[ -z $err ]] || fail "invite wrote to stderr while A runs, want nothing"
inv=$out
ok

begin 4 "join B and C"
kd_ok B join --name Bo --timeout 60s --no-mdns "$inv"
[[ $out == "$community" ]] || fail "join printed \"$out\", want the community ID $community"
kd_ok C join --name Cy --timeout 60s --no-mdns "kith://join/$inv" # as a link
[[ $out == "$community" ]] || fail "join printed \"$out\", want the community ID $community"
ok

begin 5 "run B and C"
start_runner B
start_runner C
wait_running B
wait_running C
ok

begin 6 "a post reaches B and C"
kd_ok A post "hello from Ana"
eventually 30 has_text B "hello from Ana" || fail "B's messages lack \"hello from Ana\""
eventually 30 has_text C "hello from Ana" || fail "C's messages lack \"hello from Ana\""
ok

begin 7 "members"
eventually 30 members_ok B || fail "B's members --json should list 3 members, Ana, Bo and Cy, with Ana \"online\":true"
ok

begin 8 "C catches up after being away"
stop_runner C
away=()
for i in $(seq 1 20); do
	kd_ok A post "while C was away $i"
	away+=("while C was away $i")
done
start_runner C
wait_running C
eventually 30 has_text C "while C was away 20" || fail "C's messages lack \"while C was away 20\""
eventually 10 has_text C "${away[@]}" || fail "C's messages lack some of \"while C was away 1..20\""
ok

# B's runner holds B's store, so this post can only work through B's control socket.
begin 9 "post through B's running peer"
kd_ok B post "from B via its running peer"
[[ $out =~ ^[0-9a-f]{64}$ ]] || fail "post printed \"$out\", want a 64-hex message ID"
alive B
eventually 30 has_text A "from B via its running peer" || fail "A's messages lack \"from B via its running peer\""
ok

begin 10 "errors and exit statuses"
kd A post
((rc == 2)) || fail "post without text exited $rc, want 2 (usage)"
[[ -n $err ]] || fail "post without text said nothing on stderr"
kd A frobnicate
((rc == 2)) || fail "an unknown command exited $rc, want 2 (usage)"
[[ -n $err ]] || fail "an unknown command said nothing on stderr"
kd D join kith1garbage
((rc == 1)) || fail "joining with a damaged invite exited $rc, want 1"
[[ -n $err && $(wc -l <<<"$err") -eq 1 ]] || fail "joining with a damaged invite should say one line on stderr"
kd A run
((rc == 1)) || fail "a second kithd run on A exited $rc, want 1"
grep -qF "already running" <<<"$err" || fail "a second kithd run on A should say \"already running\""
alive A
ok

begin 11 "status, then stop every runner"
kd_ok A status --json
for key in '"running":true' '"peer_id":' '"addrs":' '"communities":' "\"id\":\"$community\""; do
	grep -qF "$key" <<<"$out" || fail "A's status --json lacks $key"
done
for name in A B C; do
	stop_runner "$name"
done
[[ ! -e $tmp/A/kithd.sock ]] || fail "A's control socket is left behind after it stopped"
kd_ok A status --json
grep -qF '"running":false' <<<"$out" || fail "A's status --json should say \"running\":false once stopped"
ok

# race_start NAME starts `kithd run` on NAME and, at once, a one-off `kithd status --json`
# there (as a service manager's health check or a script would), then waits until the runner
# is up. It fails the step if the runner dies; it leaves the runner running.
race_start() {
	local name=$1 deadline status=0
	start_runner "$name"
	kd "$name" status --json
	deadline=$((SECONDS + 30))
	while [[ ! -S $tmp/$name/kithd.sock ]] && kill -0 "${pid[$name]}" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.05
	done
	if ! kill -0 "${pid[$name]}" 2>/dev/null; then
		wait "${pid[$name]}" || status=$?
		unset "pid[$name]"
		fail "attempt $attempt: kithd run on $name exited $status at start-up, next to a \`kithd status\` started at the same moment (exit $rc); run must come up all the same (its last log line: $(tail -n 1 "$tmp/$name.log"))"
	fi
	wait_running "$name"
}

# peer_id_of prints the "peer_id" of the last status --json.
peer_id_of() { sed -n 's/.*"peer_id":"\([^"]*\)".*/\1/p' <<<"$out" | head -n 1; }

# A one-off command may open a data folder just before `kithd run` does (a health check, a
# script): run must wait for it rather than fail. Tried several times, since it is a race.
begin 12 "a command during run's start-up"
kd_ok E create --name "Echo" # E's identity exists from here on (status makes none): step 13 covers fresh folders
for attempt in 1 2 3 4 5 6 7 8; do
	race_start E
	stop_runner E
done
ok

# On a fresh folder, `run` and a one-off command that start together must end up as one
# person: the identity run goes online with is the one saved in the folder.
begin 13 "one identity on a fresh folder"
for attempt in 1 2 3 4 5 6; do
	race_start "F$attempt"
	kd_ok "F$attempt" status --json
	running_as=$(peer_id_of)
	stop_runner "F$attempt"
	kd_ok "F$attempt" status --json
	saved=$(peer_id_of)
	[[ -n $running_as && $running_as == "$saved" ]] ||
		fail "attempt $attempt: kithd run went online as $running_as but the folder's identity.key is $saved: two processes created an identity each and one overwrote the other"
done
ok

# The systemd unit (cmd/kithd/kithd.service) runs kithd as written there: its ExecStart, with
# the data folder in this run's and the listen addresses on loopback (port 0), must start,
# report running, and stop cleanly on SIGTERM; systemd-analyze checks the unit itself.
begin 14 "the systemd unit's command line"
unit=cmd/kithd/kithd.service
exec_args=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed 's/^ExecStart=//; s/\\$//' | tr '\n' ' ')
read -r -a words <<<"$exec_args"
[[ ${words[0]} == /usr/local/bin/kithd && ${words[1]} == --data && ${words[3]} == run ]] ||
	fail "the unit's ExecStart is \"$exec_args\": want /usr/local/bin/kithd --data DIR run ..."
ip6=0 # the unit listens on IPv6 too: here on ::1, where this machine has it
grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null && ip6=1
args=()
for ((i = 4; i < ${#words[@]}; i++)); do
	w=${words[i]}
	if [[ $w == --listen && ${words[i + 1]} == /ip6/* ]] && ((ip6 == 0)); then
		((i++))
		continue
	fi
	w=${w/\/ip4\/0.0.0.0\//\/ip4\/127.0.0.1\/}
	w=${w/\/ip6\/::\//\/ip6\/::1\/}
	args+=("${w/\/4001/\/0}")
done
echo "=== kithd run as the unit starts it: ${args[*]}" >>"$tmp/G.log"
"$kithd" --data "$tmp/G" run "${args[@]}" --no-nat >>"$tmp/G.log" 2>&1 &
pid[G]=$!
wait_running G
stop_runner G
if command -v systemd-analyze >/dev/null; then
	sed "s#/usr/local/bin/kithd#$kithd#" "$unit" >"$tmp/kithd.service"
	systemd-analyze verify "$tmp/kithd.service" >"$tmp/analyze.log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$tmp/analyze.log")"
fi
ok

# A backup of Cy's folder, restored into a new one while Ana runs: the same identity, and the
# history back from Ana; the passphrase comes as one line of standard input, a wrong one and a
# folder Kith runs on are refused (exit 1), and an existing file is never written over.
begin 15 "backup and restore"
pass='a phrase for the backup'
kd_pass() { # NAME PASSPHRASE ARGS...: kd with the passphrase on standard input
	local name=$1 p=$2
	shift 2
	last_cmd="kithd --data $tmp/$name $* <<< passphrase"
	if out=$(timeout 90 "$kithd" --data "$tmp/$name" "$@" <<<"$p" 2>"$tmp/stderr"); then rc=0; else rc=$?; fi
	err=$(<"$tmp/stderr")
}
kd_pass C "$pass" backup --out "$tmp/cy.kithbackup"
((rc == 0)) || fail "backup exited $rc: $err"
[[ $(stat -c %a "$tmp/cy.kithbackup") == 600 ]] || fail "the backup's mode is $(stat -c %a "$tmp/cy.kithbackup"), want 600"
kd_pass C "$pass" backup --out "$tmp/cy.kithbackup"
[[ $rc == 1 && $err == *"exists already"* ]] || fail "a backup over a file exited $rc: $err"
kd_ok C status --json
cy_id=$(peer_id_of)
start_runner A
wait_running A
kd_pass C2 "not the phrase" restore "$tmp/cy.kithbackup"
[[ $rc == 1 && $err == *"passphrase does not open"* ]] || fail "a wrong passphrase exited $rc: $err"
kd_pass A "$pass" restore "$tmp/cy.kithbackup"
[[ $rc == 1 && $err == *"stop it first"* ]] || fail "a restore into a running folder exited $rc: $err"
kd_pass C2 "$pass" restore --timeout 20s "$tmp/cy.kithbackup"
((rc == 0)) || fail "restore exited $rc: $err"
kd_ok C2 status --json
[[ $(peer_id_of) == "$cy_id" ]] || fail "the restored identity is $(peer_id_of), want Cy's $cy_id"
has_text C2 "hello from Ana" "while C was away 20" || fail "the restored folder lacks Ana's messages"
stop_runner A
ok

echo "kithd-e2e: all steps passed in $((SECONDS - total_start))s ($((SECONDS - run_start))s after the build)"
