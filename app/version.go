package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is the release this build is, stamped by the Makefile from FyneApp.toml's Version
// (-ldflags "-X github.com/kith-app/kith/app.version=0.1.0"); empty in a build that was not
// stamped (go run, go build by hand).
var version string

// commit is the source's commit, stamped by the Makefile ("-modified" after it: built with
// changes not committed), for builds made with -buildvcs=false; else Go's build information
// says it.
var commit string

// A Build says which Kith this is: what `kith --version` and `kithd version` print.
type Build struct {
	Version  string `json:"version"`  // the release ("dev": not stamped)
	Commit   string `json:"commit"`   // the source's commit, when built from a checkout
	Modified bool   `json:"modified"` // built from a checkout with changes not committed
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

// ThisBuild describes this binary.
func ThisBuild() Build {
	b := Build{Version: version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	info, hasInfo := debug.ReadBuildInfo()
	if b.Version == "" && hasInfo && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version // go install github.com/kith-app/kith/cmd/kithd@v0.1.0
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if c, ok := strings.CutSuffix(commit, "-modified"); commit != "" {
		b.Commit, b.Modified = c, ok
	} else if hasInfo {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	return b
}

// String is the build on one line: "0.1.0 (commit 1a2b3c4d5e6f, go1.26.8, linux/amd64)".
func (b Build) String() string {
	commit := ""
	if b.Commit != "" {
		commit = "commit " + b.Commit[:min(12, len(b.Commit))]
		if b.Modified {
			commit += " with changes"
		}
		commit += ", "
	}
	return fmt.Sprintf("%s (%s%s, %s/%s)", b.Version, commit, b.Go, b.OS, b.Arch)
}
