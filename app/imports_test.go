package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the import direction of docs/ARCHITECTURE.md true: the domain imports
// neither Fyne, libp2p nor Badger; p2p and storage import neither app/... nor each other; the UI
// talks to app only; the core never imports Fyne.
func TestImportRules(t *testing.T) {
	const mod = "github.com/kith-app/kith"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], mod) {
			deps[f[0]] = f[1:]
		}
	}
	rules := []struct {
		pkg       string // the package and everything under it (unless exact)
		exact     bool
		forbidden []string
		why       string
	}{
		{"app", true, []string{mod + "/storage", mod + "/p2p"}, "app declares ports; app/localstore and cmd/* adapt storage and p2p to them"},
		{"app/community", false, []string{"fyne.io/", "github.com/libp2p/", "github.com/dgraph-io/"}, "the domain stays pure"},
		{"app/invite", false, []string{"fyne.io/", "github.com/libp2p/", "github.com/dgraph-io/", mod + "/"}, "the domain stays pure; invite is a leaf"},
		{"app/identity", false, []string{"fyne.io/", "github.com/libp2p/", "github.com/dgraph-io/"}, "the domain stays pure"},
		{"app/backup", false, []string{"fyne.io/", "github.com/libp2p/", "github.com/dgraph-io/", mod + "/"}, "the backup file is a leaf: what goes in it is the caller's"},
		{"p2p", false, []string{mod + "/app", mod + "/storage"}, "p2p declares the interfaces it calls"},
		{"storage", false, []string{mod + "/app", mod + "/p2p"}, "storage stores records it defines"},
		{"app/ui", false, []string{mod + "/p2p", mod + "/storage"}, "the UI talks to app.Service only"},
	}
	checked := 0
	for pkg, ds := range deps {
		for _, r := range rules {
			if pkg != mod+"/"+r.pkg && (r.exact || !strings.HasPrefix(pkg, mod+"/"+r.pkg+"/")) {
				continue
			}
			checked++
			for _, d := range ds {
				for _, f := range r.forbidden {
					if strings.HasPrefix(d, f) && d != pkg {
						t.Errorf("%s imports %s: %s", pkg, d, r.why)
					}
				}
			}
		}
		// No package but cmd/* and app/ui may import Fyne.
		if !strings.HasPrefix(pkg, mod+"/cmd/") && !strings.HasPrefix(pkg, mod+"/app/ui") {
			for _, d := range ds {
				if strings.HasPrefix(d, "fyne.io/") {
					t.Errorf("%s imports %s: only cmd/* and app/ui may use Fyne", pkg, d)
					break
				}
			}
		}
	}
	if checked < 3 {
		t.Fatalf("only %d packages matched the rules: did the module path change?", checked)
	}
}
