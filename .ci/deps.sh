#!/usr/bin/env bash
# .ci/deps.sh [run|test|dist|...] — make sure this machine can build (and test) Kith.
#
# Installs the Debian/Ubuntu packages that Fyne's cgo build needs when they
# are missing, then checks that the Go toolchain is new enough for go.mod.
# With everything present it changes nothing and takes well under a second.
#
#   (no argument)  build packages only
#   run            build packages, and the fonts that draw every script (Noto core and CJK);
#                  a desktop user already has a display
#   test           also Xvfb, Mesa's software GL and xdotool (the desktop smoke test), Chromium
#                  (an export's page),
#                  iproute2, nftables and conntrack (the NAT lab), and dist's packages
#   dist           build packages, and what `make dist` packs and checks with: MinGW-w64
#                  (kith.exe), dpkg-dev (the .deb), zip, xz, file, AppStream and
#                  desktop-file-utils (the validators)
#   lab            iproute2, nftables and conntrack only
#   screenshots    test's, and ImageMagick's `import`
#
# The Go toolchain itself is not installed here.
set -euo pipefail

mode=${1:-build}
case $mode in
build | run | test | screenshots | lab | dist) ;;
*)
	echo "usage: $0 [run|test|screenshots|lab|dist]" >&2
	exit 2
	;;
esac

# Fyne's cgo build (go-gl/gl, go-gl/glfw 3.4, which also builds its Wayland backend). libc6-dev is only a Recommends
# of gcc, and make runs the Makefile: both are missing on minimal images.
pkgs=(gcc libc6-dev make pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
	libwayland-dev libxkbcommon-dev wayland-protocols)
if [[ $mode == run || $mode == screenshots ]]; then
	# Fyne draws a character its own font lacks with a system font that has it: these give
	# Chinese, Japanese, Korean, Arabic, Hebrew, Devanagari, Thai and more (without them, boxes).
	pkgs+=(fonts-noto-core fonts-noto-cjk)
fi
if [[ $mode == test || $mode == screenshots ]]; then
	# Xvfb runs the real app; without libgl1-mesa-dri: "GLXBadFBConfig". xdotool finds its
	# windows and presses keys; x11-utils has xdpyinfo (is the display up?); xclip puts a
	# picture on the X clipboard for the app to paste.
	pkgs+=(xvfb xauth libgl1-mesa-dri xdotool x11-utils xclip)
fi
if [[ $mode == test ]]; then
	# An export's page is opened in headless Chromium (app's TestExport), with no network.
	pkgs+=(chromium)
fi
if [[ $mode == screenshots ]]; then
	pkgs+=(imagemagick)
fi
if [[ $mode == test || $mode == dist ]]; then
	# make dist (.ci/dist.sh, .ci/dist-test.sh): kith.exe is cross-built with cgo by MinGW-w64;
	# dpkg-dev has dpkg-deb and dpkg-shlibdeps (the .deb's Depends); xz-utils and zip pack,
	# unzip and file check; appstreamcli and desktop-file-validate check the metainfo and the
	# desktop entry.
	pkgs+=(gcc-mingw-w64-x86-64 dpkg-dev xz-utils zip unzip file appstream desktop-file-utils)
fi
if [[ $mode == test || $mode == lab ]]; then
	# The NAT lab (cmd/kith-lab): network namespaces, veth pairs and bridges (ip), NAT rules
	# (nft), flushing a router's NAT table when its address changes (conntrack).
	pkgs+=(iproute2 nftables conntrack)
fi

cd "$(dirname "$0")/.."

install_missing() {
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "deps: not a Debian/Ubuntu system; make sure these (or your distribution's equivalents) are installed: ${pkgs[*]}" >&2
		return 0
	fi
	local missing=() p
	# One dpkg-query for all packages; unknown ones print nothing (stderr dropped).
	declare -A installed=()
	while read -r p status; do
		[[ $status == "install ok installed" ]] && installed[$p]=1
	done < <(dpkg-query -W -f='${Package} ${Status}\n' "${pkgs[@]}" 2>/dev/null || true)
	for p in "${pkgs[@]}"; do
		[[ -n ${installed[$p]:-} ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0

	local sudo=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "deps: missing packages: ${missing[*]}" >&2
			echo "deps: not root and no sudo; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	echo "deps: installing ${missing[*]}"
	local log
	log=$(mktemp)
	trap 'rm -f "$log"' RETURN
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update >"$log" 2>&1 ||
		! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y install --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
		cat "$log" >&2
		echo "deps: apt-get failed (see above); install by hand: apt-get install ${missing[*]}" >&2
		exit 1
	fi
}

check_go() {
	local need have toolchain
	need=$(awk '$1 == "go" { print $2; exit }' go.mod)
	if ! command -v go >/dev/null 2>&1; then
		echo "deps: go not found in PATH; install Go ${need} or later from https://go.dev/dl/ (this script does not install Go)" >&2
		exit 1
	fi
	# Asked outside the module so that go does not switch toolchains first.
	{ read -r have; read -r toolchain; } < <(cd / && go env GOVERSION GOTOOLCHAIN)
	have=${have#go}
	case $have in devel*) return 0 ;; esac
	have=${have%%[!0-9.]*} # go1.27rc1 -> 1.27
	if [[ $(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1) == "$need" ]]; then
		return 0
	fi
	if [[ ${toolchain%%+*} == local ]]; then
		echo "deps: go ${have} is older than go.mod's 'go ${need}', and GOTOOLCHAIN=local forbids fetching a newer one." >&2
		echo "deps: install Go ${need} or later (https://go.dev/dl/), or set GOTOOLCHAIN=auto to let go download it through the module proxy." >&2
		exit 1
	fi
	echo "deps: go ${have} is older than go.mod's 'go ${need}'; go will download go${need} or later through the module proxy (GOPROXY) on first use (GOTOOLCHAIN=${toolchain})."
}

install_missing
check_go
