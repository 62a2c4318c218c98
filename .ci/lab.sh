#!/usr/bin/env bash
# .ci/lab.sh — the NAT lab: a small internet in network namespaces (cmd/kith-lab).
#
# Builds kithd and kith-lab, then runs the lab: a reachable relay, a DHT node, two homes
# behind NAT routers of two kinds and a LAN pair; it prints a table and a line of figures.
# It needs root (CI runs as root): without root, iproute2, nftables or namespace support it
# says why and is skipped, never passed: `make lab` then fails (exit 3); `make test`, which sets
# LAB_SKIP_OK=1, goes on after saying SKIPPED.
#
#   bash .ci/lab.sh                     what make lab runs (make test adds KITHD=dist/kithd-…)
#   LAB_ARGS='--keep -v' bash .ci/lab.sh   keep the logs, say what it does
#   LAB_REPORT=docs/REACHABILITY.table bash .ci/lab.sh   also write the table as Markdown
set -euo pipefail

cd "$(dirname "$0")/.."
go=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# KITHD: a built kithd (make test passes the release's, from make dist). kith-lab is then built
# as dist.sh builds kithd (CGO_ENABLED=0, -trimpath), so that it reuses that build's packages.
if [[ -n ${KITHD:-} ]]; then
	cp "$KITHD" "$tmp/kithd"
	CGO_ENABLED=0 $go build -trimpath -buildvcs=false -o "$tmp/kith-lab" ./cmd/kith-lab
else
	$go build -o "$tmp/kithd" ./cmd/kithd
	$go build -o "$tmp/kith-lab" ./cmd/kith-lab
fi
args=(--kithd "$tmp/kithd")
if [[ -n ${LAB_REPORT:-} ]]; then
	args+=(--report "$LAB_REPORT")
fi
# shellcheck disable=SC2206 # LAB_ARGS are flags, split on purpose
args+=(${LAB_ARGS:-})
rc=0
"$tmp/kith-lab" "${args[@]}" || rc=$?
case $rc in
0) ;;
3)
	echo "lab: SKIPPED (see the line above): the NAT lab did not run on this machine"
	[[ -n ${LAB_SKIP_OK:-} ]] || exit 3
	;;
*)
	echo "lab: FAILED (exit $rc): run 'sudo make lab LAB_ARGS=\"--keep -v\"' to keep the members' logs" >&2
	exit "$rc"
	;;
esac
