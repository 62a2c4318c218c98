#!/usr/bin/env bash
# .ci/dist-test.sh — check what `make dist` wrote in dist/ (run by make test, after it).
#
# SHA256SUMS covers every file, exactly; each archive unpacks and holds what it should; the
# Linux programs run and say FyneApp.toml's version: kithd-VERSION-linux-amd64, the .deb's
# /usr/bin/kithd (`kithd version --json`) and the tarball's kith (`kith --version`, which
# prints before any window opens: no display needed). The tarball's Makefile installs into a
# scratch folder; the .deb's control fields, maintainer scripts and unit are checked, and
# `apt-get --simulate` says whether its Depends can be met (skipped without package lists).
# The Windows and macOS binaries are only checked with file(1). DIST_ONLY=linux: only the Linux
# half is expected (as dist.sh). Prints one line per check; the first failure stops it. About
# 10 seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
dist=dist
version=${VERSION:-$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)}
app_id=$(sed -n 's/^ *ID *= *"\(.*\)"/\1/p' FyneApp.toml)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kith-dist-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL dist: $*" >&2
	exit 1
}
ok() { echo "ok   $*"; }

[[ -d $dist ]] || fail "no dist/: run make dist first"
tarball=kith-$version-linux-amd64.tar.xz
deb=kith_${version}_amd64.deb
zip=kith-$version-windows-amd64.zip
kithds=("kithd-$version-linux-amd64" "kithd-$version-linux-arm64" "kithd-$version-darwin-amd64"
	"kithd-$version-darwin-arm64" "kithd-$version-windows-amd64.exe")
# DIST_ONLY=linux (make test): dist.sh made the Linux half only.
only=${DIST_ONLY:-}
if [[ $only == linux ]]; then
	kithds=("kithd-$version-linux-amd64")
	want=$(printf '%s\n' "$tarball" "$deb" "${kithds[@]}" SHA256SUMS | sort)
else
	want=$(printf '%s\n' "$tarball" "$deb" "$zip" "${kithds[@]}" SHA256SUMS | sort)
fi
have=$(cd "$dist" && find . -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
[[ $have == "$want" ]] || fail "dist/ holds ${have//$'\n'/ }, not ${want//$'\n'/ }"
ok "dist/ holds ${want//$'\n'/ }"

# SHA256SUMS: every other file once, and they match.
listed=$(awk '{ sub(/^\*/, "", $2); print $2 }' "$dist/SHA256SUMS" | sort)
[[ $listed == "$(grep -vx SHA256SUMS <<<"$want")" ]] || fail "SHA256SUMS lists ${listed//$'\n'/ }"
(cd "$dist" && sha256sum --check --strict --quiet SHA256SUMS) || fail "sha256sum --check SHA256SUMS"
ok "sha256sum --check SHA256SUMS (every artifact, and only those)"

# version_of FILE: the "version" field of `FILE version --json`.
version_of() {
	"$1" version --json | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p'
}
# file_says FILE PATTERN: file(1)'s description of FILE matches the extended regex PATTERN.
file_says() {
	local what
	what=$(file -b "$1")
	grep -qE "$2" <<<"$what" || fail "${1#"$tmp"/}: file says \"$what\", expected /$2/"
}

# --- kithd, five platforms.
chmod +x "$dist/kithd-$version-linux-amd64"
got=$(version_of "$dist/kithd-$version-linux-amd64") || fail "kithd-$version-linux-amd64 version --json failed"
[[ $got == "$version" ]] || fail "kithd-$version-linux-amd64 says version \"$got\", FyneApp.toml \"$version\""
ok "kithd-$version-linux-amd64 version --json: $got"
got=$("$dist/kithd-$version-linux-amd64" version 2>&1) || fail "kithd-$version-linux-amd64 version: $got"
[[ $got == "kithd $version (commit "* ]] || fail "kithd-$version-linux-amd64 version says \"$got\""
ok "kithd-$version-linux-amd64 version: $got"
file_says "$dist/kithd-$version-linux-amd64" '^ELF 64-bit LSB executable, x86-64, .*statically linked'
if [[ $only != linux ]]; then
	file_says "$dist/kithd-$version-linux-arm64" '^ELF 64-bit LSB executable, ARM aarch64, .*statically linked'
	file_says "$dist/kithd-$version-darwin-amd64" '^Mach-O 64-bit x86_64 executable'
	file_says "$dist/kithd-$version-darwin-arm64" '^Mach-O 64-bit arm64 executable'
	file_says "$dist/kithd-$version-windows-amd64.exe" '^PE32\+ executable \(console\) x86-64.*MS Windows'
	ok "kithd for linux/arm64, darwin/amd64, darwin/arm64, windows/amd64: file(1) says the right format"
fi

# --- The Linux tarball.
top=kith-$version-linux-amd64
tar -tJf "$dist/$tarball" >"$tmp/tarball.list" || fail "tar -tJf $tarball"
grep -qv "^$top/" "$tmp/tarball.list" && fail "$tarball: not everything is under $top/"
mkdir "$tmp/tar"
tar -xJf "$dist/$tarball" -C "$tmp/tar"
prefix=$tmp/tar/$top/usr/local
[[ -d $prefix ]] || prefix=$tmp/tar/$top/usr
for f in bin/kith "share/applications/$app_id.desktop" "share/pixmaps/$app_id.png" "share/metainfo/$app_id.metainfo.xml"; do
	[[ -f $prefix/$f ]] || fail "$tarball has no ${prefix#"$tmp/tar/"}/$f"
done
[[ -f $tmp/tar/$top/Makefile ]] || fail "$tarball has no Makefile"
file_says "$prefix/bin/kith" '^ELF 64-bit LSB pie executable, x86-64, .*dynamically linked'
got=$("$prefix/bin/kith" --version 2>&1) || fail "the tarball's kith --version: $got"
[[ $got == "kith $version ("* ]] || fail "the tarball's kith --version says \"$got\", FyneApp.toml \"$version\""
ok "the tarball's kith --version: $got"
desktop=$prefix/share/applications/$app_id.desktop
desktop-file-validate "$desktop" || fail "$tarball: desktop-file-validate $app_id.desktop"
grep -qx 'MimeType=x-scheme-handler/kith;' "$desktop" || fail "$tarball: $app_id.desktop has no MimeType=x-scheme-handler/kith;"
grep -qx 'Exec=kith %u' "$desktop" || fail "$tarball: $app_id.desktop: $(grep ^Exec= "$desktop")"
grep -qx "Icon=$app_id" "$desktop" || fail "$tarball: $app_id.desktop: $(grep ^Icon= "$desktop")"
appstreamcli validate --no-net --pedantic "$prefix/share/metainfo/$app_id.metainfo.xml" >/dev/null ||
	fail "$tarball: appstreamcli validate $app_id.metainfo.xml"
ok "the tarball: kith, $app_id.desktop (kith: links, Exec=kith %u; valid), icon, metainfo (valid)"
# Its Makefile installs everything, and a user install points the desktop entry at its kith.
make -s -C "$tmp/tar/$top" install DESTDIR="$tmp/sys" PREFIX=/usr >"$tmp/make.log" 2>&1 ||
	{ cat "$tmp/make.log" >&2; fail "$tarball: make install DESTDIR=... failed"; }
for f in bin/kith "share/applications/$app_id.desktop" "share/pixmaps/$app_id.png" "share/metainfo/$app_id.metainfo.xml"; do
	[[ -f $tmp/sys/usr/$f ]] || fail "$tarball: make install did not install /usr/$f"
done
make -s -C "$tmp/tar/$top" user-install HOME="$tmp/home" >"$tmp/make.log" 2>&1 ||
	{ cat "$tmp/make.log" >&2; fail "$tarball: make user-install failed"; }
grep -qx "Exec=$tmp/home/.local/bin/kith %u" "$tmp/home/.local/share/applications/$app_id.desktop" ||
	fail "$tarball: after make user-install: $(grep ^Exec= "$tmp/home/.local/share/applications/$app_id.desktop")"
[[ -f $tmp/home/.local/share/metainfo/$app_id.metainfo.xml ]] || fail "$tarball: make user-install left out the metainfo"
ok "the tarball's Makefile: make install DESTDIR=… and make user-install put every file in place"

# --- The .deb.
dpkg-deb --info "$dist/$deb" >"$tmp/deb.info" || fail "dpkg-deb --info $deb"
field() { dpkg-deb --field "$dist/$deb" "$1"; }
[[ $(field Package) == kith && $(field Version) == "$version" && $(field Architecture) == amd64 ]] ||
	fail "$deb: Package/Version/Architecture: $(field Package) $(field Version) $(field Architecture)"
depends=$(field Depends)
for d in libc6 libgl1 libx11-6 adduser; do
	grep -qE "(^|, )$d( |,|$)" <<<"$depends" || fail "$deb: Depends lacks $d: $depends"
done
dpkg-deb --contents "$dist/$deb" | awk '{ print $2 " " $NF }' >"$tmp/deb.contents"
grep -v ' \./$' "$tmp/deb.contents" | grep -v '^root/root ' && fail "$deb: files not owned by root (above)"
mkdir "$tmp/deb"
dpkg-deb --raw-extract "$dist/$deb" "$tmp/deb"
for f in usr/bin/kith usr/bin/kithd "usr/share/applications/$app_id.desktop" \
	"usr/share/icons/hicolor/512x512/apps/$app_id.png" "usr/share/metainfo/$app_id.metainfo.xml" \
	lib/systemd/system/kithd.service usr/share/doc/kith/copyright usr/share/doc/kith/changelog.gz; do
	[[ -f $tmp/deb/$f ]] || fail "$deb has no /$f"
done
for s in postinst prerm postrm; do
	[[ -x $tmp/deb/DEBIAN/$s ]] || fail "$deb: DEBIAN/$s missing or not executable"
	sh -n "$tmp/deb/DEBIAN/$s" || fail "$deb: DEBIAN/$s: sh -n"
done
grep -v '^[[:space:]]*#' "$tmp/deb/DEBIAN/postinst" | grep -Eq 'systemctl( --[a-z-]+)* (enable|start|restart|reload-or-restart) |deb-systemd-invoke start' &&
	fail "$deb: postinst enables or starts kithd"
ok "$deb: control fields, Depends ($(wc -w <<<"${depends//,/}") words), files owned by root, maintainer scripts"
cmp -s "$tmp/deb/usr/bin/kith" "$prefix/bin/kith" || fail "$deb: /usr/bin/kith is not the tarball's kith"
cmp -s "$tmp/deb/usr/bin/kithd" "$dist/kithd-$version-linux-amd64" || fail "$deb: /usr/bin/kithd is not kithd-$version-linux-amd64"
got=$(version_of "$tmp/deb/usr/bin/kithd") || fail "the .deb's kithd version --json failed"
[[ $got == "$version" ]] || fail "the .deb's /usr/bin/kithd says version \"$got\", FyneApp.toml \"$version\""
ok "$deb: /usr/bin/kithd version --json: $got; /usr/bin/kith is the tarball's"
unit=$tmp/deb/lib/systemd/system/kithd.service
grep -q '^ExecStart=/usr/bin/kithd --data /var/lib/kith run ' "$unit" || fail "$deb: kithd.service: $(grep ^ExecStart "$unit")"
grep -qx 'User=kith' "$unit" || fail "$deb: kithd.service does not run as the kith user"
if command -v systemd-analyze >/dev/null 2>&1; then
	# systemd-analyze looks for the binary at its real path: check a copy pointing at ours.
	sed "s|^ExecStart=/usr/bin/kithd |ExecStart=$tmp/deb/usr/bin/kithd |" "$unit" >"$tmp/kithd.service"
	systemd-analyze verify --man=no "$tmp/kithd.service" 2>"$tmp/verify.log" ||
		{ cat "$tmp/verify.log" >&2; fail "$deb: systemd-analyze verify kithd.service"; }
fi
desktop-file-validate "$tmp/deb/usr/share/applications/$app_id.desktop" || fail "$deb: desktop-file-validate"
grep -qx 'MimeType=x-scheme-handler/kith;' "$tmp/deb/usr/share/applications/$app_id.desktop" || fail "$deb: no kith: scheme"
ok "$deb: kithd.service runs /usr/bin/kithd as kith; the desktop entry registers kith: links"
if [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null) ]]; then
	apt-get --simulate -qq install "./$dist/$deb" >"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; fail "$deb: apt-get --simulate install: its Depends cannot be met"; }
	ok "$deb: apt-get --simulate install ./$deb (its Depends can be met)"
else
	echo "skip $deb: apt-get --simulate (no package lists: apt-get update first)"
fi

if [[ $only == linux ]]; then
	echo "ok   dist/: every artifact checked (the Linux half: DIST_ONLY=linux)"
	exit 0
fi

# --- The Windows zip.
unzip -Z1 "$dist/$zip" >"$tmp/zip.list" || fail "unzip -Z1 $zip"
wtop=kith-$version-windows-amd64
for f in kith.exe kithd.exe README.txt; do
	grep -qx "$wtop/$f" "$tmp/zip.list" || fail "$zip has no $wtop/$f"
done
unzip -q "$dist/$zip" -d "$tmp/zip"
file_says "$tmp/zip/$wtop/kith.exe" '^PE32\+ executable \(GUI\) x86-64.*MS Windows'
file_says "$tmp/zip/$wtop/kithd.exe" '^PE32\+ executable \(console\) x86-64.*MS Windows'
cmp -s "$tmp/zip/$wtop/kithd.exe" "$dist/kithd-$version-windows-amd64.exe" || fail "$zip: kithd.exe is not kithd-$version-windows-amd64.exe"
grep -q "Kith $version for Windows" "$tmp/zip/$wtop/README.txt" || fail "$zip: README.txt does not name Kith $version"
# fyne's resources: the version in the .exe's version information (UTF-16).
LC_ALL=C grep -qaP "${version//./\\x00\\.\\x00}" "$tmp/zip/$wtop/kith.exe" || fail "$zip: kith.exe carries no version information for $version"
ok "$zip: kith.exe (PE32+ GUI, with its version information), kithd.exe (console), README.txt"

echo "ok   dist/: every artifact checked"
