package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app/backup"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/peer"
)

// passIn makes standard input one line: the passphrase, as a script pipes it in.
func passIn(t *testing.T, line string) {
	was := stdin
	stdin = strings.NewReader(line + "\n")
	t.Cleanup(func() { stdin = was })
}

// TestBackupAndRestoreAtTheCommandLine: `kithd backup` through the running peer writes a file
// only its user reads, never over another; `kithd restore` says what is wrong with a wrong
// passphrase, a cut, foreign, damaged or newer file, a folder Kith runs on and a folder of
// another identity, changing nothing; into a new folder it brings the identity, the history
// (from a member online), and the invites issued back.
func TestBackupAndRestoreAtTheCommandLine(t *testing.T) {
	was := peer.BackupParams
	peer.BackupParams = backup.Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}
	t.Cleanup(func() { peer.BackupParams = was })
	anaDir, boDir := t.TempDir(), t.TempDir()
	runningPeer(t, anaDir)
	runningPeer(t, boDir)
	ana, bo := kithdIn(t, anaDir), kithdIn(t, boDir)
	ana(0, "create", "--name", "Makers", "--display-name", "Ana")
	inv, _ := ana(0, "invite", "--uses", "3")
	bo(0, "join", "--name", "Bo", inv)
	ana(0, "post", "hello from Ana")
	within(t, 30*time.Second, "Bo to read Ana's message", func() bool {
		out, _ := bo(0, "messages")
		return strings.Contains(out, "hello from Ana")
	})
	tmp := t.TempDir()
	file := filepath.Join(tmp, "ana.kithbackup")

	passIn(t, "short")
	if _, stderr := ana(2, "backup", "--out", file); !strings.Contains(stderr, "8 characters") {
		t.Fatalf("a short passphrase: %s", stderr)
	}
	passIn(t, "correct horse battery")
	out, _ := ana(0, "backup", "--out", file, "--json")
	var got struct {
		File        string                `json:"file"`
		PeerID      string                `json:"peer_id"`
		Communities []peer.NamedCommunity `json:"communities"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.File != file || len(got.Communities) != 1 || got.Communities[0].Name != "Makers" {
		t.Fatalf("backup --json: %v\n%s", err, out)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the backup file: %v, %v", st, err)
	}
	passIn(t, "correct horse battery")
	if _, stderr := ana(1, "backup", "--out", file); !strings.Contains(stderr, "exists already") {
		t.Fatalf("a backup over a file: %s", stderr)
	}

	good, _ := os.ReadFile(file)
	bad := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newer := bytes.Clone(good)
	newer[12] = 9
	flipped := bytes.Clone(good)
	flipped[100] ^= 1
	fresh := filepath.Join(tmp, "fresh")
	for _, c := range []struct {
		name, file, pass, want string
	}{
		{"a wrong passphrase", file, "wrong horse battery", "passphrase does not open"},
		{"a cut file", bad("cut", good[:len(good)/2]), "correct horse battery", "cut short"},
		{"another file", bad("notes.txt", []byte("shopping list")), "correct horse battery", "not a Kith backup"},
		{"a damaged file", bad("flipped", flipped), "correct horse battery", "damaged"},
		{"a newer file", bad("newer", newer), "correct horse battery", "newer Kith"},
		{"a missing file", filepath.Join(tmp, "nowhere"), "correct horse battery", "cannot read the backup"},
	} {
		passIn(t, c.pass)
		code, _, stderr := runKithd(t, "--data", fresh, "restore", c.file)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("restore of %s: exit %d, %q (want %q)", c.name, code, stderr, c.want)
		}
		if _, err := os.Stat(filepath.Join(fresh, identity.FileName)); err == nil {
			t.Fatalf("restore of %s made an identity", c.name)
		}
	}
	passIn(t, "correct horse battery")
	if _, stderr := ana(1, "restore", file); !strings.Contains(stderr, "stop it first") {
		t.Fatalf("a restore into the running folder: %s", stderr)
	}
	// Another identity's folder.
	otherDir := t.TempDir()
	kithdIn(t, otherDir)(0, "create", "--name", "Theirs")
	boKey := filepath.Join(otherDir, identity.FileName)
	before, _ := os.ReadFile(boKey)
	passIn(t, "correct horse battery")
	if code, _, stderr := runKithd(t, "--data", filepath.Dir(boKey), "restore", file); code != 1 || !strings.Contains(stderr, "--replace") {
		t.Fatalf("a restore over another identity: %d, %s", code, stderr)
	}
	if after, _ := os.ReadFile(boKey); !bytes.Equal(before, after) {
		t.Fatal("the refused restore changed the other's key")
	}

	passIn(t, "correct horse battery")
	code, out, stderr := runKithd(t, "--data", fresh, "restore", "--timeout", "20s", "--json", file)
	if code != 0 {
		t.Fatalf("restore: %d, %s", code, stderr)
	}
	var res struct {
		PeerID      string `json:"peer_id"`
		Synced      bool   `json:"synced"`
		Communities []struct {
			Name   string   `json:"name"`
			From   []string `json:"from"`
			Events int      `json:"events"`
		} `json:"communities"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.PeerID != got.PeerID || !res.Synced || len(res.Communities) != 1 || len(res.Communities[0].From) != 1 {
		t.Fatalf("restore --json: %v\n%s\n%s", err, out, stderr)
	}
	again := kithdIn(t, fresh)
	if msgs, _ := again(0, "messages"); !strings.Contains(msgs, "hello from Ana") {
		t.Fatalf("after the restore: %s", msgs)
	}
	if listed, _ := again(0, "invites", "--json"); !strings.Contains(listed, `"uses":1,"max_uses":3`) {
		t.Fatalf("the invites after the restore: %s, want the one Bo joined with", listed)
	}
}
