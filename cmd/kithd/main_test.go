package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/storage"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		want   peer.Request
		asJSON bool
	}{
		{"create", []string{"create", "--name", "Makers", "--display-name", "Ana", "--about", "we make", "--max-members", "12"},
			peer.Request{Cmd: "create", Name: "Makers", DisplayName: "Ana", About: "we make", MaxMembers: 12}, false},
		{"invite", []string{"invite", "--community", "abcd", "--role", "moderator", "--uses", "3", "--expires", "24h"},
			peer.Request{Cmd: "invite", Community: "abcd", Role: "moderator", Uses: 3, Expires: "24h"}, false},
		{"join with its default timeout", []string{"join", "kith1abc"},
			peer.Request{Cmd: "join", Invite: "kith1abc", Timeout: "60s"}, false},
		{"join with flags after the invite", []string{"join", "kith1abc", "--name", "Bo", "--timeout", "5s"},
			peer.Request{Cmd: "join", Invite: "kith1abc", Name: "Bo", Timeout: "5s"}, false},
		{"join through DHT nodes", []string{"join", "--bootstrap", "/ip4/10.0.0.1/tcp/1/p2p/x", "kith1abc", "--bootstrap", "/ip4/10.0.0.2/tcp/1/p2p/y", "--public-dht", "--no-mdns"},
			peer.Request{Cmd: "join", Invite: "kith1abc", Timeout: "60s", Bootstrap: []string{"/ip4/10.0.0.1/tcp/1/p2p/x", "/ip4/10.0.0.2/tcp/1/p2p/y"}, PublicDHT: true, NoMDNS: true}, false},
		{"join --cancel", []string{"join", "--cancel", "Makers"},
			peer.Request{Cmd: "join", Invite: "Makers", Timeout: "60s", Cancel: true}, false},
		{"post with flags before the text", []string{"post", "--channel", "random", "hello there"},
			peer.Request{Cmd: "post", Channel: "random", Text: "hello there"}, false},
		{"post with flags after the text", []string{"post", "hello there", "--channel", "random"},
			peer.Request{Cmd: "post", Channel: "random", Text: "hello there"}, false},
		{"post with flags on both sides", []string{"post", "--community", "Makers", "hi", "--channel", "#general"},
			peer.Request{Cmd: "post", Community: "Makers", Channel: "#general", Text: "hi"}, false},
		{"post of a text that starts with a dash, after --", []string{"post", "--", "-5 degrees outside"},
			peer.Request{Cmd: "post", Text: "-5 degrees outside"}, false},
		{"channel create --announcements", []string{"channel", "create", "news", "--announcements", "--community", "Makers"},
			peer.Request{Cmd: "channel create", Name: "news", Announce: true, Community: "Makers"}, false},
		{"channel rename", []string{"channel", "rename", "#design", "studio"},
			peer.Request{Cmd: "channel rename", Name: "#design", NewName: "studio"}, false},
		{"channels --json", []string{"channels", "--json"}, peer.Request{Cmd: "channels"}, true},
		{"messages with its default limit", []string{"messages"},
			peer.Request{Cmd: "messages", Limit: 50}, false},
		{"messages --json anywhere", []string{"messages", "--limit", "5", "--json", "--channel", "random"},
			peer.Request{Cmd: "messages", Channel: "random", Limit: 5}, true},
		{"members --json", []string{"members", "--json", "--community", "Makers"},
			peer.Request{Cmd: "members", Community: "Makers"}, true},
		{"status", []string{"status"}, peer.Request{Cmd: "status"}, false},
		{"status --json", []string{"status", "--json"}, peer.Request{Cmd: "status"}, true},
		{"status --json=false", []string{"status", "--json=false"}, peer.Request{Cmd: "status"}, false},
		{"invite --json", []string{"invite", "--json"}, peer.Request{Cmd: "invite"}, true},
		{"invites --json", []string{"invites", "--json", "--community", "Makers"}, peer.Request{Cmd: "invites", Community: "Makers"}, true},
		{"revoke", []string{"revoke", "0123456789abcdef0123456789abcdef"}, peer.Request{Cmd: "revoke", Invite: "0123456789abcdef0123456789abcdef"}, false},
		{"remove with a reason after the member", []string{"remove", "ab12cd34", "--reason", "spam"}, peer.Request{Cmd: "remove", Member: "ab12cd34", Reason: "spam"}, false},
		{"promote", []string{"promote", "--community", "Makers", "ab12cd34"}, peer.Request{Cmd: "promote", Community: "Makers", Member: "ab12cd34"}, false},
		{"demote --json", []string{"demote", "ab12cd34", "--json"}, peer.Request{Cmd: "demote", Member: "ab12cd34"}, true},
		{"delete", []string{"delete", "ffee"}, peer.Request{Cmd: "delete", Message: "ffee"}, false},
		{"leave", []string{"leave", "--community", "Makers"}, peer.Request{Cmd: "leave", Community: "Makers"}, false},
		{"recover --cutoff", []string{"recover", "--cutoff", "7"}, peer.Request{Cmd: "recover", Cutoff: 7}, false},
		{"recover --keep-all", []string{"recover", "--keep-all"}, peer.Request{Cmd: "recover", KeepAll: true}, false},
		{"recover --list --json", []string{"recover", "--list", "--json"}, peer.Request{Cmd: "recover", List: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, asJSON, err := parseCommand(tt.args[0], tt.args[1:])
			if err != nil {
				t.Fatalf("parseCommand(%q): %v", tt.args, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseCommand(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
			if asJSON != tt.asJSON {
				t.Errorf("parseCommand(%q): asJSON = %v, want %v", tt.args, asJSON, tt.asJSON)
			}
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"run is not parsed here", []string{"run"}, `unknown command "run"`},
		{"post without text", []string{"post"}, "post needs the message text"},
		{"post without text, flags only", []string{"post", "--channel", "random"}, "post needs the message text"},
		{"post of two words unquoted", []string{"post", "hello", "there"}, "quote it"},
		{"post of two words around a flag", []string{"post", "hello", "--channel", "random", "there"}, "quote it"},
		{"join without an invite", []string{"join", "--name", "Bo"}, "join takes one invite"},
		{"join with two invites", []string{"join", "kith1a", "kith1b"}, "join takes one invite"},
		{"join --cancel without what", []string{"join", "--cancel"}, "join --cancel takes the community"},
		{"join with a timeout that is not one", []string{"join", "--timeout", "soon", "kith1abc"}, "--timeout takes a duration"},
		{"join --cancel with DHT nodes", []string{"join", "--cancel", "Makers", "--public-dht"}, "join --cancel takes no --bootstrap"},
		{"status with an argument", []string{"status", "extra"}, `status takes no argument "extra"`},
		{"channel without a subcommand", []string{"channel"}, "channel takes a subcommand: create, rename, archive, unarchive"},
		{"channel with an unknown subcommand", []string{"channel", "frob"}, `unknown command "channel frob"`},
		{"channel rename with one name", []string{"channel", "rename", "design"}, "channel rename takes the channel's name and its new name"},
		{"members with an argument after --json", []string{"members", "--json", "Makers"}, `members takes no argument "Makers"`},
		{"create with an argument", []string{"create", "--name", "Makers", "extra"}, `create takes no argument "extra"`},
		{"messages with two arguments", []string{"messages", "a", "b"}, `messages takes no argument "a"`},
		{"an unknown flag", []string{"status", "--bogus"}, "status: flag provided but not defined: -bogus"},
		{"a flag of another command", []string{"post", "--limit", "5", "hi"}, "post: flag provided but not defined: -limit"},
		{"a flag without its value", []string{"create", "--name"}, "create: flag needs an argument: -name"},
		{"a number that is not one", []string{"invite", "--uses", "three"}, "invite: invalid value"},
		{"a number that is not one, late", []string{"messages", "--json", "--limit", "lots"}, "messages: invalid value"},
		{"remove without a member", []string{"remove", "--reason", "spam"}, "remove takes one member id"},
		{"promote of two members", []string{"promote", "a", "b"}, "promote takes one member id"},
		{"delete without a message", []string{"delete"}, "delete takes one message id"},
		{"recover with both cutoffs", []string{"recover", "--cutoff", "3", "--keep-all"}, "not both"},
		{"recover with words on the command line", []string{"recover", "abandon", "ability"}, `recover takes no argument "abandon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseCommand(tt.args[0], tt.args[1:])
			if err == nil {
				t.Fatalf("parseCommand(%q) succeeded, want an error with %q", tt.args, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseCommand(%q) = %q, want an error with %q", tt.args, err, tt.want)
			}
		})
	}
}

// runKithd runs kithd's run with args and returns its exit status, stdout and stderr.
func runKithd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string // on stderr
	}{
		{"no command", []string{"--data", dir}, "usage: kithd"},
		{"no arguments at all", nil, "usage: kithd"},
		{"an unknown global flag", []string{"--data", dir, "--bogus", "status"}, "flag provided but not defined: -bogus"},
		{"an unknown command", []string{"--data", dir, "frobnicate"}, `unknown command "frobnicate"`},
		{"post without text", []string{"--data", dir, "post"}, "post needs the message text"},
		{"post of two words", []string{"--data", dir, "post", "hello", "there"}, "quote it"},
		{"join without an invite", []string{"--data", dir, "join"}, "join takes one invite"},
		{"status with an argument", []string{"--data", dir, "status", "now"}, `status takes no argument "now"`},
		{"run with an argument", []string{"--data", dir, "run", "now"}, `run takes no argument "now"`},
		{"run with an unknown flag", []string{"--data", dir, "run", "--bogus"}, "run: flag provided but not defined: -bogus"},
		{"run with a bad log format", []string{"--data", dir, "run", "--log-format", "xml"}, "--log-format is text or json"},
		{"run with a bad log level", []string{"--data", dir, "run", "--log-level", "loud"}, "--log-level is"},
		{"run with a bad duration", []string{"--data", dir, "run", "--sync-every", "often"}, "run: invalid value"},
		// Found by the peer, not the parser: still a usage error.
		{"create without a name", []string{"--data", dir, "create"}, "create needs --name NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runKithd(t, tt.args...)
			if code != 2 {
				t.Errorf("kithd %q exited %d, want 2 (stderr %q)", tt.args, code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("kithd %q said %q on stderr, want %q in it", tt.args, stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("kithd %q printed %q on stdout, want nothing", tt.args, stdout)
			}
		})
	}
}

func TestRunErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a damaged invite", []string{"--data", dir, "join", "kith1garbage"}, "invite"},
		{"a post with no community", []string{"--data", dir, "post", "hello"}, "belongs to no community yet"},
		{"status on a folder that does not exist", []string{"--data", filepath.Join(dir, "typo"), "status"}, "there is no Kith data folder at"},
		{"messages on an empty folder", []string{"--data", t.TempDir(), "messages"}, "create a community or join one first"},
		{"resync on a folder that never ran", []string{"--data", dir, "resync"}, "does not say which communities it belonged to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runKithd(t, tt.args...)
			if code != 1 {
				t.Errorf("kithd %q exited %d, want 1 (stderr %q)", tt.args, code, stderr)
			}
			if !strings.HasPrefix(stderr, "kithd: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("kithd %q said %q on stderr, want one line \"kithd: ...\" with %q", tt.args, stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("kithd %q printed %q on stdout, want nothing", tt.args, stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("status on a mistyped folder made it: %v", err)
	}
}

// TestRunHelp: `help`, -h and --help print the usage on stdout and exit 0.
func TestRunHelp(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"help", []string{"help"}},
		{"help with a data folder", []string{"--data", dir, "help"}},
		{"-h", []string{"-h"}},
		{"--help", []string{"--help"}},
		{"--help with a data folder", []string{"--data", dir, "--help"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runKithd(t, tt.args...)
			if code != 0 {
				t.Fatalf("kithd %q exited %d with %q on stderr, want 0 and the usage on stdout", tt.args, code, stderr)
			}
			if !strings.HasPrefix(stdout, "usage: kithd") || !strings.Contains(stdout, "commands:") {
				t.Errorf("kithd %q printed %q, want the usage", tt.args, stdout)
			}
			if stderr != "" {
				t.Errorf("kithd %q said %q on stderr, want nothing", tt.args, stderr)
			}
		})
	}
}

// TestRunOffline creates a community in a folder where no peer runs and reads it back: every
// command but join and run works on the store directly, with no network.
func TestRunOffline(t *testing.T) {
	dir := t.TempDir()
	kithd := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runKithd(t, append([]string{"--data", dir}, args...)...)
		if code != 0 {
			t.Fatalf("kithd %q exited %d: %s", args, code, stderr)
		}
		return strings.TrimSuffix(stdout, "\n")
	}

	id := kithd("create", "--name", "Makers", "--display-name", "Ana")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("create printed %q, want a 64-hex community ID", id)
	}

	var st peer.StatusJSON
	out := kithd("status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json printed %q: %v", out, err)
	}
	if st.Running {
		t.Errorf("status: running = true with no peer running")
	}
	if !strings.HasPrefix(st.PeerID, "12D3KooW") {
		t.Errorf("status: peer_id = %q, want an Ed25519 libp2p peer ID", st.PeerID)
	}
	if st.Addrs == nil || len(st.Addrs) != 0 {
		t.Errorf("status: addrs = %#v, want [] (it never ran)", st.Addrs)
	}
	want := []peer.CommunityJSON{{ID: id, Name: "Makers", Role: "owner", Members: 1, Online: 0, Sync: "synced"}}
	if len(st.Communities) != 1 || st.Communities[0] != want[0] {
		t.Errorf("status: communities = %+v, want %+v", st.Communities, want)
	}
	for _, key := range []string{`"running":false`, `"peer_id":`, `"addrs":[]`, `"communities":[`} {
		if !strings.Contains(out, key) {
			t.Errorf("status --json printed %s, want %s in it", out, key)
		}
	}
	if text := kithd("status"); !strings.Contains(text, "not running") || !strings.Contains(text, "Makers") {
		t.Errorf("status printed %q, want it to say Kith is not running, and name Makers", text)
	}

	msgID := kithd("post", "hello, offline")
	var msgs []peer.MessageJSON
	if err := json.Unmarshal([]byte(kithd("messages", "--json")), &msgs); err != nil {
		t.Fatalf("messages --json: %v", err)
	}
	if len(msgs) != 1 || msgs[0].ID != msgID || msgs[0].Text != "hello, offline" || msgs[0].AuthorName != "Ana" || !msgs[0].Mine {
		t.Errorf("messages --json = %+v, want Ana's one message %s", msgs, msgID)
	}

	var members []peer.MemberJSON
	if err := json.Unmarshal([]byte(kithd("members", "--json")), &members); err != nil {
		t.Fatalf("members --json: %v", err)
	}
	if len(members) != 1 || members[0].Name != "Ana" || members[0].Role != "owner" || !members[0].You || members[0].Online {
		t.Errorf("members --json = %+v, want Ana alone, owner, you, offline", members)
	}

	// An invite made offline names no address: it still prints, with a warning on stderr.
	code, stdout, stderr := runKithd(t, "--data", dir, "invite")
	if code != 0 || !strings.HasPrefix(stdout, "kith1") || !strings.Contains(stderr, "warning") {
		t.Errorf("invite offline: exit %d, stdout %q, stderr %q; want 0, kith1..., and a warning", code, stdout, stderr)
	}

	// The invites issued here, oldest first; one revoked by its ID.
	kithd("invite", "--uses", "5", "--expires", "24h")
	var invs []peer.InviteJSON
	if err := json.Unmarshal([]byte(kithd("invites", "--json")), &invs); err != nil {
		t.Fatalf("invites --json: %v", err)
	}
	if len(invs) != 2 || invs[0].MaxUses != 0 || invs[0].Expires != "" || invs[1].MaxUses != 5 || invs[1].Expires == "" ||
		invs[0].Role != "member" || invs[0].Revoked || invs[1].Revoked || len(invs[0].ID) != 32 {
		t.Fatalf("invites --json = %+v, want the unlimited one, then the 5-use one expiring, neither revoked", invs)
	}
	if out := kithd("revoke", invs[1].ID); !strings.Contains(out, "revoked") {
		t.Errorf("revoke printed %q", out)
	}
	invs = nil
	if err := json.Unmarshal([]byte(kithd("invites", "--json")), &invs); err != nil {
		t.Fatalf("invites --json: %v", err)
	}
	if len(invs) != 2 || invs[0].Revoked || !invs[1].Revoked {
		t.Errorf("after revoke: %+v, want the second revoked", invs)
	}
	if text := kithd("invites"); !strings.Contains(text, invs[1].ID) || !strings.Contains(text, "revoked") || !strings.Contains(text, "0 of 5 used") {
		t.Errorf("invites printed %q", text)
	}
	if code, _, stderr := runKithd(t, "--data", dir, "revoke", "not-an-id"); code != 2 || !strings.Contains(stderr, "kithd invites") {
		t.Errorf("revoke not-an-id: exit %d, %q; want 2 and where to find IDs", code, stderr)
	}
}

// TestJoinSaysItWaits: a join with no member online says on stderr what it is doing and that
// the join is kept, exits 1 after --timeout, and status lists it; through a running peer (the
// control socket carries the progress) and on the folder directly.
func TestJoinSaysItWaits(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	local := []string{"/ip4/127.0.0.1/tcp/0"}
	owner, err := peer.Open(t.TempDir(), peer.Options{Logger: quiet, MinFreeBytes: -1, Listen: local, NoMDNS: true, NoNAT: true, NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := owner.Do(context.Background(), peer.Request{Cmd: "create", Name: "Makers"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := owner.Do(context.Background(), peer.Request{Cmd: "invite", Community: res.Text})
	if err != nil {
		t.Fatal(err)
	}
	owner.Close() // the owner's laptop sleeps

	dir := t.TempDir()
	joiner, err := peer.Open(dir, peer.Options{Logger: quiet, MinFreeBytes: -1, Listen: local, NoMDNS: true, NoNAT: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := joiner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runKithd(t, "--data", dir, "join", "--timeout", "4s", "--name", "Bo", inv.Text)
	t.Logf("kithd join said:\n%s", stderr)
	if code != 1 || !strings.Contains(stderr, "kithd: no member is online yet; trying again in") ||
		!strings.Contains(stderr, "the join is kept") || !strings.Contains(stderr, "trying the 1 member the invite names") {
		t.Fatalf("join through the running peer: exit %d, stderr:\n%s", code, stderr)
	}
	code, stdout, _ := runKithd(t, "--data", dir, "status", "--json")
	if code != 0 || !strings.Contains(stdout, `"pending_joins":[{"community":"`+res.Text+`","name":"Makers"`) {
		t.Fatalf("status --json: %s", stdout)
	}
	joiner.Close()

	code, _, stderr = runKithd(t, "--data", dir, "join", "--timeout", "3s", "--no-mdns", inv.Text)
	if code != 1 || !strings.Contains(stderr, "no member is online yet") || strings.Count(stderr, "\n") > 12 {
		t.Fatalf("join on the folder: exit %d, stderr:\n%s", code, stderr)
	}
	if code, stdout, _ := runKithd(t, "--data", dir, "join", "--cancel", res.Text[:8]); code != 0 || !strings.Contains(stdout, "cancelled") {
		t.Fatalf("join --cancel: exit %d, %s", code, stdout)
	}
	if _, stdout, _ := runKithd(t, "--data", dir, "status", "--json"); !strings.Contains(stdout, `"pending_joins":[]`) {
		t.Fatalf("after --cancel: %s", stdout)
	}
}

// TestLimitsAtTheCommandLine: whatever is over its limit, empty or holds control characters is
// refused before anything is written, with a sentence naming the field (exit 2), and what is
// accepted reads back whole.
func TestLimitsAtTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runKithd(t, "--data", dir, "create", "--name", "Makers", "--display-name", strings.Repeat("😀", 26)); code != 2 ||
		!strings.Contains(stderr, "display name is 104 bytes long (26 characters): the most is 100 bytes") {
		t.Fatalf("create with a 104-byte display name: exit %d, %q; want 2 and the limit", code, stderr)
	}
	if code, _, stderr := runKithd(t, "--data", dir, "status"); code == 0 && strings.Contains(stderr, "Makers") {
		t.Fatalf("the refused community exists: %q", stderr)
	}
	for _, n := range []string{"-1", "5000"} {
		if code, _, stderr := runKithd(t, "--data", dir, "create", "--name", "Makers", "--max-members", n); code != 2 || !strings.Contains(stderr, "--max-members is 0 (no cap) up to 4096") {
			t.Errorf("create --max-members %s: exit %d, %q; want 2", n, code, stderr)
		}
	}
	if code, _, stderr := runKithd(t, "--data", dir, "create", "--name", "Mak\u202eers"); code != 2 || !strings.Contains(stderr, "community name holds an invisible or control character") {
		t.Errorf("create with a direction override in the name: exit %d, %q; want 2", code, stderr)
	}
	if code, stdout, stderr := runKithd(t, "--data", dir, "create", "--name", "  Makers ", "--display-name", strings.Repeat("😀", 25)); code != 0 {
		t.Fatalf("create with a 100-byte display name: exit %d, %q %q", code, stdout, stderr)
	}
	for _, tt := range []struct {
		name, text, want string
	}{
		{"empty", "", "post needs the message text"},
		{"spaces", "   ", "post needs the message text"},
		{"17,000 bytes", strings.Repeat("a", 17000), "the message is 17,000 characters long: the most is 16,384"},
		{"9,000 é", strings.Repeat("é", 9000), "the message is 18,000 bytes long (9,000 characters)"},
		{"an escape sequence", "hi \x1b[2J", "control character (U+001B)"},
	} {
		code, stdout, stderr := runKithd(t, "--data", dir, "post", tt.text)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("post %s: exit %d, stdout %q, stderr %q; want 2 and %q", tt.name, code, stdout, stderr, tt.want)
		}
	}
	longest := strings.Repeat("é", community.LimitText.Max/2)
	code, _, stderr := runKithd(t, "--data", dir, "post", longest)
	if code != 0 {
		t.Fatalf("post of exactly the limit: exit %d, %q", code, stderr)
	}
	_, stdout, _ := runKithd(t, "--data", dir, "messages", "--json")
	var msgs []peer.MessageJSON
	if err := json.Unmarshal([]byte(stdout), &msgs); err != nil || len(msgs) != 1 || msgs[0].Text != longest || msgs[0].AuthorName != strings.Repeat("😀", 25) {
		t.Fatalf("messages after the longest post: %v, %d messages; want it whole", err, len(msgs))
	}
	if code, _, stderr := runKithd(t, "--data", t.TempDir(), "join", "--name", strings.Repeat("😀", 26), "kith1garbage"); code != 2 ||
		!strings.Contains(stderr, "display name is 104 bytes long") {
		t.Errorf("join with a 104-byte name: exit %d, %q; want 2 and the limit, before any network work", code, stderr)
	}
	if code, _, stderr := runKithd(t, "--data", t.TempDir(), "join", "--name", "Ana\u200b", "kith1garbage"); code != 2 ||
		!strings.Contains(stderr, "invisible or control character (U+200B)") {
		t.Errorf("join with a zero-width space in the name: exit %d, %q; want 2", code, stderr)
	}
	if code, _, stderr := runKithd(t, "--data", dir, "run", "--listen", "garbage"); code != 2 || !strings.Contains(stderr, `"garbage" is not a multiaddr`) {
		t.Errorf("run --listen garbage: exit %d, %q; want 2", code, stderr)
	}
}

// TestHostileNamesAndTextAreEscaped: a member that a hostile admitter let in with a name full of
// terminal escapes and a direction override, writing text with escapes and a line that
// pretends to be the owner's, cannot act on the terminal of whoever runs `kithd messages` or
// `members`: control characters come out as \u{…}, its extra lines are indented under a bar,
// and the owner's messages carry the role.
func TestHostileNamesAndTextAreEscaped(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runKithd(t, "--data", dir, "create", "--name", "Makers", "--display-name", "Ana"); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runKithd(t, "--data", dir, "post", "welcome"); code != 0 {
		t.Fatal(stderr)
	}
	p, err := peer.Open(dir, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cs, err := p.Svc.Communities()
	if err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	id := cs[0].ID
	var genesis, latest *community.Event
	err = p.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, se storage.Event) error {
		e, err := community.DecodeStored(se.Envelope)
		if e != nil && e.Kind == community.KindGenesis {
			genesis = e
		}
		if e != nil && (latest == nil || latest.Position().Less(e.Position())) {
			latest = e
		}
		return err
	})
	if err != nil || genesis == nil {
		t.Fatal(err)
	}
	kr := community.NewKeyring(p.ID)
	if _, err := kr.Learn(genesis); err != nil {
		t.Fatal(err)
	}
	key, ok := kr.Key(id)
	if !ok {
		t.Fatal("no key")
	}
	inv, err := p.Svc.Invite(id, app.InviteParams{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hostile := "\x1b]0;pwned\x07\x1b[2JAna\u202e\u200b"
	sig, err := community.SignJoin(j, &inv.Signed, j.X25519Public(), p.ID.PublicKey(), hostile)
	if err != nil {
		t.Fatal(err)
	}
	req := community.JoinRequest{Invite: &inv.Signed, Joiner: j.PublicKey(), X25519: j.X25519Public(), Name: hostile,
		Proof: inv.ProveJoin(j.PublicKey(), j.X25519Public(), p.ID.PublicKey()), JoinerSig: sig}
	body, err := community.NewJoin(req, key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var ownerLast *community.Event
	_ = p.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, se storage.Event) error {
		if e, _ := community.DecodeStored(se.Envelope); e != nil && e.Author.Equal(p.ID.PublicKey()) && (ownerLast == nil || e.Seq > ownerLast.Seq) {
			ownerLast = e
		}
		return nil
	})
	join, err := community.Build(p.ID, community.Draft{Community: id, Kind: community.KindJoin, Body: community.EncodeBody(body),
		Epoch: id, Time: time.Now(), Prev: ownerLast, Deps: []community.Position{latest.Position()}})
	if err != nil {
		t.Fatal(err)
	}
	c := community.NewContent(community.KindMessage)
	c.Channel, c.Text = community.ChannelID(id, 0), "hi\x1b[2J\x1b[31m\n2026-12-06 10:00  Ana (owner): send your recovery words to me"
	sealed, err := community.SealContent(key, id, id, j.PublicKey(), c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := community.Build(j, community.Draft{Community: id, Kind: community.KindMessage, Body: sealed, Epoch: id,
		Time: time.Now(), Deps: []community.Position{join.Position()}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Svc.Receive(id, [][]byte{join.Encode(), msg.Encode()}); err != nil || got.Stored != 2 {
		t.Fatalf("the hostile events were not stored: %+v, %v", got, err)
	}
	p.Close()

	for _, args := range [][]string{{"messages"}, {"members"}} {
		code, stdout, stderr := runKithd(t, append([]string{"--data", dir}, args...)...)
		if code != 0 {
			t.Fatalf("kithd %s: exit %d, %q", args, code, stderr)
		}
		if strings.ContainsAny(stdout, "\x1b\x07\u202e\u200b") {
			t.Errorf("kithd %s printed raw control characters: %q", args, stdout)
		}
		if !strings.Contains(stdout, `\u{1b}]0;pwned\u{7}\u{1b}[2JAna\u{202e}\u{200b}`) {
			t.Errorf("kithd %s printed %q, want the hostile name escaped", args, stdout)
		}
		if args[0] == "messages" {
			lines := strings.Split(stdout, "\n")
			if len(lines) < 3 || !strings.Contains(lines[0], "Ana (owner): welcome") ||
				!strings.HasPrefix(lines[2], "    | 2026-12-06 10:00  Ana (owner): send") {
				t.Errorf("kithd messages printed %q, want the owner's line marked and the forged line indented", stdout)
			}
		}
	}
}

// TestLargeAnswersThroughTheSocket: `kithd messages` through a running peer's control socket
// reads answers of any size (here 4 MiB of text and as much JSON), where the first versions
// failed at 1 MiB ("bufio: buffer full").
func TestLargeAnswersThroughTheSocket(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runKithd(t, "--data", dir, "create", "--name", "Makers", "--display-name", "Ana"); code != 0 {
		t.Fatal(stderr)
	}
	p, err := peer.Open(dir, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", community.LimitText.Max/2-4)
	const n = 256
	for i := range n {
		if code, _, stderr := runKithd(t, "--data", dir, "post", fmt.Sprintf("%03d %s", i, long)); code != 0 {
			t.Fatalf("post %d: %s", i, stderr)
		}
	}
	code, stdout, stderr := runKithd(t, "--data", dir, "messages", "--limit", "1000", "--json")
	if code != 0 {
		t.Fatalf("messages --json of %d long messages: exit %d, %s", n, code, stderr)
	}
	var msgs []peer.MessageJSON
	if err := json.Unmarshal([]byte(stdout), &msgs); err != nil || len(msgs) != n || msgs[n-1].Text != fmt.Sprintf("%03d %s", n-1, long) {
		t.Fatalf("messages --json: %d bytes, %d messages, %v; want all %d whole", len(stdout), len(msgs), err, n)
	}
	if code, stdout, stderr = runKithd(t, "--data", dir, "messages", "--limit", "1000"); code != 0 || strings.Count(stdout, "\n") != n || len(stdout) < n*community.LimitText.Max {
		t.Fatalf("messages: exit %d, %d lines, %d bytes, %s", code, strings.Count(stdout, "\n"), len(stdout), stderr)
	}
}

// TestRecoverDoesNotPromptANonTerminal: recover asks for the words only on a terminal; with
// standard input from /dev/null it says at once how to give them.
func TestRecoverDoesNotPromptANonTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stderr bytes.Buffer
	if _, err := readWords(f, &stderr); err == nil || !strings.Contains(err.Error(), "pipe them in") || stderr.Len() != 0 {
		t.Fatalf("readWords(/dev/null) = %v, prompted %q; want no prompt and how to give the words", err, stderr.String())
	}
}

// TestRunPortInUse: `kithd run` on a port another program holds says so in one sentence, with
// no error lines of libp2p's own before it, and exits 1.
func TestRunPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	code, _, stderr := runKithd(t, "--data", t.TempDir(), "run", "--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port), "--no-mdns", "--no-nat")
	if code != 1 || strings.Count(stderr, "kithd: ") != 1 || strings.Contains(stderr, "OnStart") || strings.Contains(stderr, "level=ERROR") ||
		!strings.Contains(stderr, "in use") ||
		!strings.Contains(stderr, "choose another port") {
		t.Fatalf("run on a taken port: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestEveryCommandOnce: each command of the table is in `kithd help`, parses, and is one the
// peer carries out (peer.Do knows it); nothing else parses.
func TestEveryCommandOnce(t *testing.T) {
	p, err := peer.Open(t.TempDir(), peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	help := usageText()
	for _, c := range commands {
		if !strings.Contains(help, "\n  "+c.name+" ") && !strings.Contains(help, "\n  "+c.name+"\n") {
			t.Errorf("%s is not in kithd help", c.name)
		}
		if c.name == "run" || c.name == "join" {
			continue // run stays online; join waits for the network
		}
		if _, _, err := parseCommand(c.name, []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s --help: %v", c.name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := p.Do(ctx, peer.Request{Cmd: c.name})
		cancel()
		if err != nil && strings.Contains(err.Error(), "unknown command") {
			t.Errorf("the peer does not know %s: %v", c.name, err)
		}
	}
	if _, _, err := parseCommand("frobnicate", nil); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("an unknown command parsed: %v", err)
	}
}

// TestChannelCommands: kithd makes, lists, renames, archives and brings back channels, refuses a
// taken name (exit 1) and an over-long one (exit 2), and a member cannot post in #announcements
// (exit 1, with where to reply).
func TestChannelCommands(t *testing.T) {
	kithd := kithdIn(t, t.TempDir())
	kithd(0, "create", "--name", "Makers", "--display-name", "Ana")
	out, _ := kithd(0, "channel", "create", "design")
	if out != "#design" {
		t.Errorf("channel create printed %q", out)
	}
	kithd(0, "channel", "create", "--announcements", "drops")
	if _, stderr := kithd(1, "channel", "create", "Design"); !strings.Contains(stderr, "#design exists already") {
		t.Errorf("a taken name: %s", stderr)
	}
	if _, stderr := kithd(2, "channel", "create", strings.Repeat("x", 101)); !strings.Contains(stderr, "100") {
		t.Errorf("an over-long name: %s", stderr)
	}
	kithd(0, "channel", "rename", "#design", "studio")
	kithd(0, "channel", "archive", "studio")
	var chans []peer.ChannelJSON
	out, _ = kithd(0, "channels", "--json")
	if err := json.Unmarshal([]byte(out), &chans); err != nil {
		t.Fatalf("channels --json printed %q: %v", out, err)
	}
	got := map[string]peer.ChannelJSON{}
	for _, c := range chans {
		got[c.Name] = c
	}
	if len(chans) != 4 || got["general"].Type != "chat" || got["announcements"].Type != "announcements" ||
		got["drops"].Type != "announcements" || !got["studio"].Archived || got["design"].ID != "" {
		t.Errorf("channels --json = %+v", chans)
	}
	for _, key := range []string{`"id":`, `"name":`, `"type":`, `"archived":`} {
		if !strings.Contains(out, key) {
			t.Errorf("channels --json printed %s, want %s in it", out, key)
		}
	}
	if _, stderr := kithd(1, "post", "--channel", "studio", "hello"); !strings.Contains(stderr, "archived") {
		t.Errorf("a post in an archived channel: %s", stderr)
	}
	kithd(0, "channel", "unarchive", "studio")
	kithd(0, "post", "--channel", "studio", "hello")
	if text, _ := kithd(0, "channels"); !strings.Contains(text, "#studio") || !strings.Contains(text, "announcements") {
		t.Errorf("channels printed %q", text)
	}
}

// TestProfileInfoAndCommunityEdit: kithd shows and changes this device's profile (a flag left out
// keeps its field; --about "" clears it), members --json has each member's about text, and the
// owner edits the community, which info shows (text and --json).
func TestProfileInfoAndCommunityEdit(t *testing.T) {
	run := kithdIn(t, t.TempDir())
	kithd := func(want int, args ...string) string { t.Helper(); out, _ := run(want, args...); return out }
	kithd(0, "create", "--name", "Makers", "--display-name", "Ana", "--about", "we make")
	if out := kithd(0, "profile"); out != "Ana" {
		t.Errorf("profile printed %q", out)
	}
	kithd(0, "profile", "--about", "potter\nand teacher")
	if out := kithd(0, "profile", "--name", "Ana O."); out != "Ana O.\n    | potter\n    | and teacher" {
		t.Errorf("profile printed %q", out)
	}
	var members []peer.MemberJSON
	if err := json.Unmarshal([]byte(kithd(0, "members", "--json")), &members); err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0].Name != "Ana O." || members[0].About != "potter\nand teacher" || members[0].InvitedBy != "" || members[0].JoinedAt == "" {
		t.Errorf("members --json = %+v", members)
	}
	var p peer.ProfileJSON
	if err := json.Unmarshal([]byte(kithd(0, "profile", "--about", "", "--json")), &p); err != nil || p != (peer.ProfileJSON{Name: "Ana O."}) {
		t.Errorf("profile --about \"\" --json = %+v, %v", p, err)
	}
	kithd(2, "community", "edit")
	kithd(2, "community", "edit", "--max-members", "-1")
	kithd(0, "community", "edit", "--name", "Makers Guild", "--max-members", "25")
	var in peer.InfoJSON
	out := kithd(0, "info", "--json")
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("info --json printed %q: %v", out, err)
	}
	if in.Name != "Makers Guild" || in.About != "we make" || in.Owner != "Ana O." || in.Members != 1 || in.MaxMembers != 25 ||
		in.Role != "owner" || in.Moderators == nil || len(in.OwnerID) != 64 {
		t.Errorf("info --json = %+v", in)
	}
	for _, key := range []string{`"name":`, `"about":`, `"owner":`, `"moderators":[]`, `"members":1`, `"max_members":25`} {
		if !strings.Contains(out, key) {
			t.Errorf("info --json printed %s, want %s in it", out, key)
		}
	}
	if text := kithd(0, "info"); text != "Makers Guild\n    | we make\nowner: Ana O.\nmembers: 1 (at most 25)" {
		t.Errorf("info printed %q", text)
	}
}

// TestRepliesReactionsEditsAndPins: kithd answers a message (in its channel), reacts and takes a
// reaction back, edits its own message and pins it; messages --json shows reply_to, reactions,
// edited, pinned and mentions_me, and pins lists what is pinned.
func TestRepliesReactionsEditsAndPins(t *testing.T) {
	run := kithdIn(t, t.TempDir())
	kithd := func(want int, args ...string) string { t.Helper(); out, _ := run(want, args...); return out }
	kithd(0, "create", "--name", "Makers", "--display-name", "Ana")
	kithd(0, "channel", "create", "kiln")
	first := kithd(0, "post", "--channel", "kiln", "kiln day saturday")
	reply := kithd(0, "post", "--reply-to", first, "bring the celadon tests")
	kithd(0, "react", first, "🔥")
	kithd(0, "react", first, "👍")
	kithd(0, "react", "--remove", first, "👍")
	kithd(2, "react", first, "fire")
	kithd(2, "react", first)
	kithd(0, "edit", first, "kiln day is Saturday")
	kithd(0, "pin", first)
	var msgs []peer.MessageJSON
	out := kithd(0, "messages", "--channel", "kiln", "--json")
	if err := json.Unmarshal([]byte(out), &msgs); err != nil {
		t.Fatalf("messages --json printed %q: %v", out, err)
	}
	if len(msgs) != 2 {
		t.Fatalf("messages --json = %+v: the reply goes in its parent's channel", msgs)
	}
	m, r := msgs[0], msgs[1]
	if m.ID != first || m.Text != "kiln day is Saturday" || !m.Edited || !m.Pinned || len(m.Reactions) != 1 ||
		m.Reactions[0] != (peer.ReactionJSON{Emoji: "🔥", Count: 1, Mine: true}) || m.ReplyTo != "" {
		t.Errorf("the first message: %+v", m)
	}
	if r.ID != reply || r.ReplyTo != first || r.Reactions == nil || r.Edited || r.MentionsMe {
		t.Errorf("the reply: %+v", r)
	}
	for _, key := range []string{`"reply_to":`, `"reactions":[`, `"edited":true`, `"pinned":true`, `"mentions_me":false`, `"emoji":"🔥"`, `"count":1`, `"mine":true`} {
		if !strings.Contains(out, key) {
			t.Errorf("messages --json printed %s, want %s in it", out, key)
		}
	}
	text := kithd(0, "messages", "--channel", "kiln")
	if !strings.Contains(text, "(edited)  (pinned)") || !strings.Contains(text, "🔥 1") || !strings.Contains(text, "↳ a reply to") {
		t.Errorf("messages printed %q", text)
	}
	var pins []peer.MessageJSON
	if err := json.Unmarshal([]byte(kithd(0, "pins", "--channel", "kiln", "--json")), &pins); err != nil || len(pins) != 1 || pins[0].ID != first {
		t.Errorf("pins --json = %+v, %v", pins, err)
	}
	kithd(0, "unpin", first)
	if text := kithd(0, "pins", "--channel", "kiln"); text != "nothing is pinned in #kiln" {
		t.Errorf("pins printed %q", text)
	}
	if text := kithd(0, "mentions"); text != "nobody has mentioned you here yet" { // one's own @ is not a mention
		t.Errorf("mentions printed %q", text)
	}
}

// kithdIn runs kithd on data folder dir, expecting exit status want; it returns stdout (its
// last newline dropped) and stderr.
// anyExit, as kithdIn's want, takes whatever kithd exits with (a loop that waits for a state).
const anyExit = -1

func kithdIn(t *testing.T, dir string) func(want int, args ...string) (string, string) {
	return func(want int, args ...string) (string, string) {
		t.Helper()
		code, stdout, stderr := runKithd(t, append([]string{"--data", dir}, args...)...)
		if want != anyExit && code != want {
			t.Fatalf("kithd %q exited %d, want %d: %s", args, code, want, stderr)
		}
		return strings.TrimSuffix(stdout, "\n"), stderr
	}
}

// TestVersion: `kithd version` says which Kith this is, with no data folder, on a line or as
// JSON; a version stamped at build time is the one it prints.
func TestVersion(t *testing.T) {
	code, out, errOut := runKithd(t, "--data", filepath.Join(t.TempDir(), "none"), "version")
	if code != 0 || !strings.HasPrefix(out, "kithd ") || !strings.Contains(out, runtime.GOOS+"/"+runtime.GOARCH) || errOut != "" {
		t.Fatalf("version: %d, %q, %q", code, out, errOut)
	}
	code, out, _ = runKithd(t, "version", "--json")
	var b app.Build
	if err := json.Unmarshal([]byte(out), &b); code != 0 || err != nil || b.Version == "" || b.Go != runtime.Version() {
		t.Fatalf("version --json: %d, %q, %v", code, out, err)
	}
	if code, _, errOut := runKithd(t, "version", "extra"); code != 2 || errOut == "" {
		t.Fatalf("version with an argument: %d, %q", code, errOut)
	}
}
