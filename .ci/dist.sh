#!/usr/bin/env bash
# .ci/dist.sh — make dist: the release's files, in dist/ (emptied first).
#
#   kith-VERSION-linux-amd64.tar.xz     `fyne package -os linux --release`: kith, its desktop
#                                       entry (the kith: link scheme), icon, AppStream metainfo,
#                                       and fyne's Makefile (make install / make user-install)
#   kith_VERSION_amd64.deb              /usr/bin/kith and /usr/bin/kithd, the desktop entry,
#                                       icon and metainfo, kithd.service (not enabled)
#   kith-VERSION-windows-amd64.zip      kith.exe (`fyne package -os windows --release`, cgo
#                                       cross-built by MinGW-w64), kithd.exe, README.txt
#   kithd-VERSION-OS-ARCH[.exe]         CGO_ENABLED=0 for linux/amd64, linux/arm64,
#                                       darwin/amd64, darwin/arm64, windows/amd64
#   SHA256SUMS                          sha256sum's format, every file above
#
# Every binary is built with -trimpath, stripped (-s -w) and stamped with VERSION and COMMIT
# (`kith --version`, `kithd version`); archives get the commit's time and root as owner, so a
# rebuild of the same commit gives the same kithd files and archive layouts. The Linux kith,
# the Windows kith and the five kithd builds run side by side (logs are shown on a failure).
# Seven builds for four platforms: with an empty build cache 46 CPU-minutes, 25 minutes on 2
# cores (measured; the cgo builds of Fyne's OpenGL code for Linux and Windows are the long
# ones, Windows' 23 minutes of it); with a warm cache 3 minutes, mostly compressing archives. `make dist` installs the
# Debian packages first (.ci/deps.sh dist); .ci/dist-test.sh checks the result.
#
#   VERSION=0.1.0 COMMIT=1a2b3c4d5e6f GO=go bash .ci/dist.sh    (the Makefile passes these)
#   DIST_ONLY=linux bash .ci/dist.sh     the Linux half: the tarball, the .deb, kithd for
#                                        linux/amd64 and SHA256SUMS (what make test builds:
#                                        about a third of the work)
#
# fyne (fyne.io/tools v1.7.4) is installed in ~/.cache/kith-dist/bin; it runs `go` from PATH.
# It writes into the folder it packages, so it packages a copy of the source.
# The build_* functions run through start() and cleanup through a trap:
# shellcheck disable=SC2317
set -euo pipefail

fail() {
	echo "dist: $*" >&2
	exit 1
}

# cleanup: stops the jobs still running (each in a process group of its own: set -m) and
# removes the staging folder.
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$stage"
}

# stage_source DIR: a copy of the source to package (fyne writes FyneApp.toml, a generated
# Go file and, for Windows, fyne.syso and the .exe into it). FyneApp.toml and Icon.png go
# next to cmd/kith's main.go, where fyne looks for them.
stage_source() {
	mkdir -p "$1"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$1"
	else
		tar --exclude=./dist --exclude=./.git -cf - . | tar -xf - -C "$1"
	fi
	cp FyneApp.toml Icon.png "$1/cmd/kith/"
}

# start NAME FUNCTION: runs FUNCTION in the background, its output in logs/NAME.log.
start() {
	local name=$1
	shift
	(
		t0=$SECONDS
		"$@"
		echo "$name: $((SECONDS - t0)) s"
	) >"$stage/logs/$name.log" 2>&1 &
	pids[$name]=$!
}

# finish NAME...: waits for those jobs; on a failure, shows the log's end and stops.
finish() {
	local name failed=0
	for name in "$@"; do
		if wait "${pids[$name]}"; then
			tail -n 1 "$stage/logs/$name.log" | sed 's/^/dist: built /'
		else
			echo "dist: $name failed; the end of its log:" >&2
			tail -n 60 "$stage/logs/$name.log" >&2
			failed=1
		fi
		unset "pids[$name]"
	done
	((failed == 0)) || exit 1
}

build_kithd() {
	local t os arch ext
	for t in "${kithd_targets[@]}"; do
		os=${t%/*} arch=${t#*/} ext=
		[[ $os == windows ]] && ext=.exe
		echo "go build kithd for $os/$arch"
		CGO_ENABLED=0 GOOS=$os GOARCH=$arch nice -n 10 "$go" build -trimpath -buildvcs=false \
			-ldflags "$ldflags" -o "$dist/kithd-$version-$os-$arch$ext" ./cmd/kithd
	done
}

# The Linux tarball: fyne's, with our desktop entry (fyne 1.7.4 can declare files it opens,
# with Exec=kith %F, but not a link scheme: kith.desktop has MimeType=x-scheme-handler/kith
# and Exec=kith %u), the metainfo, and its Makefile installing that too.
build_linux() {
	local src=$stage/linux/src out=$stage/linux/out
	stage_source "$src"
	mkdir -p "$out"
	cd "$out"
	# A position-independent executable, as Debian builds its programs (Windows' is by default).
	# (XZ_OPT: fyne's own tarball is unpacked again at once; it need not be small.)
	GOFLAGS="$fyne_goflags -buildmode=pie" CGO_ENABLED=1 XZ_OPT=-0 \
		nice -n 5 "$fyne" package -os linux --release -v --src "$src/cmd/kith"
	mkdir x
	tar -xJf ./*.tar.xz -C x
	local top=kith-$version-linux-amd64 root prefix local=
	root=x/$top
	mv x/kith "$root"
	prefix=$root/usr
	[[ -d $prefix/local ]] && prefix=$prefix/local local=local/
	local desktop=$prefix/share/applications/$app_id.desktop
	[[ -f $desktop && -f $prefix/bin/kith && -f $prefix/share/pixmaps/$app_id.png ]] ||
		fail "fyne package's tarball is not laid out as expected: $(cd x && find . | sort | tr '\n' ' ')"
	sed "s/^Icon=.*/Icon=$app_id/" "$repo/cmd/kith/kith.desktop" >"$desktop"
	install -Dm0644 "$repo/$metainfo" "$prefix/share/metainfo/$app_id.metainfo.xml"
	# fyne's Makefile, with the metainfo beside the icon and the desktop database refreshed
	# (update-desktop-database is what tells xdg-open that Kith opens kith: links).
	local mi="share/metainfo/$app_id.metainfo.xml"
	awk -v mi="$mi" -v local="$local" '
		{ print }
		/^install:/ { target = "install" }
		/^uninstall:/ { target = "uninstall" }
		/^user-install:/ { target = "user-install" }
		/^user-uninstall:/ { target = "user-uninstall" }
		target == "install" && /share\/pixmaps\/\$\(Icon\)/ {
			print "\tinstall -Dm00644 usr/" local mi " $(DESTDIR)$(PREFIX)/" mi
			print "\t-update-desktop-database -q $(DESTDIR)$(PREFIX)/share/applications"
			n++
		}
		target == "uninstall" && /share\/pixmaps\/\$\(Icon\)/ { print "\t-rm $(DESTDIR)$(PREFIX)/" mi; n++ }
		target == "user-install" && /^\tsed / {
			print "\tinstall -Dm00644 usr/" local mi " $(DESTDIR)$(HOME)/.local/" mi
			print "\t-update-desktop-database -q $(DESTDIR)$(HOME)/.local/share/applications"
			n++
		}
		target == "user-uninstall" && /share\/icons\/\$\(Icon\)/ { print "\t-rm $(DESTDIR)$(HOME)/.local/" mi; n++ }
		END { if (n != 4) { print "patched " n " of 4 places" > "/dev/stderr"; exit 1 } }
	' "$root/Makefile" >Makefile.new || fail "fyne package's Makefile changed: cannot add the metainfo to it"
	mv Makefile.new "$root/Makefile"
	pack_tar x "$top" "$dist/$top.tar.xz"
	cp "$prefix/bin/kith" "$stage/kith-linux" # for the .deb
}

# pack_tar DIR TOP OUT: DIR/TOP as a .tar.xz, in name order, owned by root, at the commit's time.
pack_tar() {
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
		--mode=go-w -C "$1" -cf - "$2" | xz -T0 -6 >"$3"
}

build_windows() {
	local src=$stage/windows/src
	stage_source "$src"
	cd "$src/cmd/kith"
	# fyne builds the .exe, adds its icon, manifest and version information (fyne.syso), then
	# builds it again. Given an existing --executable it skips the first build: a placeholder
	# saves a link (the slowest job's). dist-test.sh checks that a real .exe replaced it.
	: >kith.exe
	GOFLAGS=$fyne_goflags GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
		"$fyne" package -os windows --release -v --src "$src/cmd/kith" --executable "$src/cmd/kith/kith.exe"
	local exe
	exe=$(find . -maxdepth 1 -iname '*.exe' -print -quit)
	[[ -n $exe ]] || fail "fyne package -os windows made no .exe"
	mv "$exe" "$stage/kith.exe"
}

# The .deb, from a staged tree; Depends from dpkg-shlibdeps (what kith links) plus the X11
# and Wayland libraries GLFW loads at run time (dlopen: invisible to dpkg-shlibdeps).
build_deb() {
	local root=$stage/deb/kith_${version}_amd64 pkg
	pkg=$dist/kith_${version}_amd64.deb
	install -Dm0755 "$stage/kith-linux" "$root/usr/bin/kith"
	install -Dm0755 "$dist/kithd-$version-linux-amd64" "$root/usr/bin/kithd"
	sed "s/^Icon=.*/Icon=$app_id/" cmd/kith/kith.desktop |
		install -Dm0644 /dev/stdin "$root/usr/share/applications/$app_id.desktop"
	install -Dm0644 Icon.png "$root/usr/share/icons/hicolor/512x512/apps/$app_id.png"
	install -Dm0644 "$metainfo" "$root/usr/share/metainfo/$app_id.metainfo.xml"
	sed 's|^ExecStart=/usr/local/bin/kithd |ExecStart=/usr/bin/kithd |' cmd/kithd/kithd.service |
		install -Dm0644 /dev/stdin "$root/lib/systemd/system/kithd.service"
	grep -q '^ExecStart=/usr/bin/kithd ' "$root/lib/systemd/system/kithd.service" ||
		fail "cmd/kithd/kithd.service: no ExecStart=/usr/local/bin/kithd line to point at /usr/bin/kithd"
	install -Dm0644 packaging/deb/copyright "$root/usr/share/doc/kith/copyright"
	install -Dm0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/kith"
	# A native package's changelog: this version, at the commit's time.
	printf 'kith (%s) unstable; urgency=medium\n\n  * Kith %s (commit %s).\n\n -- %s  %s\n' \
		"$version" "$version" "${commit:-unknown}" "$maintainer" "$(date -R -d "@$SOURCE_DATE_EPOCH")" |
		gzip -9n >"$stage/changelog.gz"
	install -Dm0644 "$stage/changelog.gz" "$root/usr/share/doc/kith/changelog.gz"
	install -d "$root/DEBIAN"
	install -m0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"

	local shlibs depends
	mkdir -p "$stage/shlibdeps/debian"
	printf 'Source: kith\n\nPackage: kith\nArchitecture: amd64\n' >"$stage/shlibdeps/debian/control"
	shlibs=$(cd "$stage/shlibdeps" && dpkg-shlibdeps -O -e"$root/usr/bin/kith" 2>"$stage/logs/shlibdeps.log") ||
		{ cat "$stage/logs/shlibdeps.log" >&2; fail "dpkg-shlibdeps failed"; }
	shlibs=${shlibs#shlibs:Depends=}
	[[ $shlibs == *libc6* ]] || fail "dpkg-shlibdeps: unexpected answer: $shlibs"
	depends="$shlibs, libx11-6, libx11-xcb1, libxcursor1, libxext6, libxi6, libxinerama1, libxrandr2, libxrender1, libwayland-cursor0, libwayland-egl1, libxkbcommon0, adduser"
	cat >"$root/DEBIAN/control" <<-EOF
		Package: kith
		Version: $version
		Architecture: amd64
		Maintainer: $maintainer
		Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
		Depends: $depends
		Section: net
		Priority: optional
		Homepage: https://github.com/kith-app/kith
		Description: private communities run by their members' computers
		 Kith hosts a private, invite-only community peer to peer: the members'
		 computers keep its signed, encrypted history and pass it to each other.
		 There is no server and no account.
		 .
		 This package has the desktop app (kith), which opens kith: invite links,
		 and the headless peer and command-line client (kithd) with a systemd unit,
		 kithd.service, for an always-on member; the unit is not enabled.
	EOF
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	dpkg-deb --root-owner-group -Zxz --build "$root" "$pkg" >/dev/null
}

build_zip() {
	local top=kith-$version-windows-amd64
	local dir=$stage/zip/$top
	install -Dm0755 "$stage/kith.exe" "$dir/kith.exe"
	install -Dm0755 "$dist/kithd-$version-windows-amd64.exe" "$dir/kithd.exe"
	sed "s/@VERSION@/$version/g; s/\$/\r/" packaging/windows/README.txt >"$dir/README.txt"
	find "$stage/zip" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	(cd "$stage/zip" && find "$top" | sort | zip -X -9 -q "$dist/$top.zip" -@)
}

# main: the whole run. (A function, so that bash has read all of it before it starts: editing
# this file during a run cannot change what the run does.)
main() {
	cd "$(dirname "$0")/.."
	repo=$PWD
	go=${GO:-go}
	version=${VERSION:-$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)}
	commit=${COMMIT-$(git describe --always --dirty=-modified --abbrev=12 --exclude '*' 2>/dev/null || true)}
	fyne_version=v1.7.4
	app_id=$(sed -n 's/^ *ID *= *"\(.*\)"/\1/p' FyneApp.toml) # app.kith.desktop
	kithd_targets=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
	only=${DIST_ONLY:-}
	case $only in
	"") ;;
	linux) kithd_targets=(linux/amd64) ;;
	*) fail "DIST_ONLY=$only: only \"linux\" (or nothing, for everything) is known" ;;
	esac
	dist=$repo/dist

	[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "FyneApp.toml's Version \"$version\" is not x.y.z"
	[[ -n $app_id ]] || fail "FyneApp.toml has no ID"
	# Archives and files carry the commit's time, not the build's.
	export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
	export TZ=UTC LC_ALL=C
	ldflags="-s -w -X github.com/kith-app/kith/app.version=$version -X github.com/kith-app/kith/app.commit=$commit"
	# fyne takes its -ldflags from GOFLAGS, one word per flag; it adds -s -w and -trimpath itself.
	# (GOFLAGS in the environment replaces the one in `go env`: -buildvcs=false is repeated.)
	fyne_goflags="${GOFLAGS:+$GOFLAGS }-buildvcs=false -ldflags=-X=github.com/kith-app/kith/app.version=$version -ldflags=-X=github.com/kith-app/kith/app.commit=$commit"

	# The metainfo's newest release must be this one; both files must be valid.
	metainfo=cmd/kith/$app_id.metainfo.xml
	newest=$(grep -o '<release version="[^"]*"' "$metainfo" | head -n 1 | cut -d'"' -f2)
	[[ $newest == "$version" ]] ||
		fail "$metainfo: the newest <release> is \"$newest\", FyneApp.toml says \"$version\": add a <release> for it"
	appstreamcli validate --no-net --pedantic --explain "$metainfo" >/dev/null ||
		{ appstreamcli validate --no-net --pedantic --explain "$metainfo" >&2 || true; fail "$metainfo is not valid AppStream"; }
	desktop-file-validate cmd/kith/kith.desktop || fail "cmd/kith/kith.desktop is not a valid desktop entry"
	grep -qx 'MimeType=x-scheme-handler/kith;' cmd/kith/kith.desktop || fail "cmd/kith/kith.desktop does not register kith: links"

	stage=$(mktemp -d "${TMPDIR:-/tmp}/kith-dist.XXXXXX")
	declare -gA pids=()
	# Each job runs in a process group of its own (set -m), so that a failure or an interrupt
	# stops the builds it started too.
	set -m
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	rm -rf "$dist"
	mkdir -p "$dist" "$stage/logs"
	echo "dist: Kith $version (commit ${commit:-unknown}) into dist/${only:+ (only $only)}"
	maintainer=${DEB_MAINTAINER:-Kith developers <kith@kith.invalid>}

	# With an empty build cache the Windows build is the longest (its C compiles are one
	# thread each), then the Linux one: they get the CPU first (kithd's builds run at nice 10,
	# the Linux one at 5) and the kithd builds fill the gaps.
	start kithd build_kithd
	local cache_home=${XDG_CACHE_HOME:-${HOME:+$HOME/.cache}}
	fyne=${cache_home:-$stage}/kith-dist/bin/fyne
	echo "dist: fyne $fyne_version (go install fyne.io/tools/cmd/fyne@$fyne_version)"
	GOBIN=${fyne%/*} "$go" install "fyne.io/tools/cmd/fyne@$fyne_version"
	[[ $("$fyne" version) == *"cli version: $fyne_version"* ]] || fail "$fyne is not $fyne_version"
	[[ $only == linux ]] || start windows build_windows
	start linux build_linux
	finish kithd linux
	start deb build_deb
	if [[ $only != linux ]]; then
		finish windows
		start zip build_zip
		finish zip
	fi
	finish deb
	(cd "$dist" && sha256sum -- * >SHA256SUMS)
	echo "dist: done in $SECONDS s:"
	(cd "$dist" && find . -maxdepth 1 -type f -printf '  %12s  %f\n' | sort -k2)
}

main "$@"; exit
