package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app/peer"
)

// runningPeer starts a peer on dir with its control socket, as `kithd run` does, on loopback.
func runningPeer(t *testing.T, dir string) *peer.Peer {
	t.Helper()
	p, err := peer.Open(dir, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// statusOf reads `kithd status --json`.
func statusOf(t *testing.T, kithd func(int, ...string) (string, string)) peer.StatusJSON {
	t.Helper()
	out, _ := kithd(0, "status", "--json")
	var st peer.StatusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return st
}

func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestApprovalAtTheCommandLine: kithd's entry contract, end to end on three running peers. An
// invite with --approval and questions; `join --answer` exits 0 once the request is delivered
// and `status --json` lists it under "pending"; the owner sees it in `requests --json` (id,
// name, answers, invite_id, at) and approves it, and the joiner's running peer gets in by
// itself, with the welcome in its status. Another request is declined with a reason, which the
// joiner's status shows. Members who invite, `revoke --by`, and the bad input the issue names:
// each a sentence, nothing admitted twice.
func TestApprovalAtTheCommandLine(t *testing.T) {
	ownerDir, boDir, cyDir := t.TempDir(), t.TempDir(), t.TempDir()
	runningPeer(t, ownerDir)
	runningPeer(t, boDir)
	runningPeer(t, cyDir)
	owner, bo, cy := kithdIn(t, ownerDir), kithdIn(t, boDir), kithdIn(t, cyDir)

	id, _ := owner(0, "create", "--name", "Makers", "--display-name", "Ana")
	owner(0, "welcome", "--text", "Welcome to Makers!", "--rules", "Be kind.", "--channel", "general")
	out, _ := owner(0, "invite", "--approval", "--uses", "2", "--expires", "2h",
		"--question", "How did you find us?", "--question", "What do you make?", "--json")
	var inv struct {
		Invite    string   `json:"invite"`
		Link      string   `json:"link"`
		ID        string   `json:"id"`
		Approval  bool     `json:"approval"`
		Questions []string `json:"questions"`
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil || !inv.Approval || len(inv.Questions) != 2 || inv.Link != "kith://join/"+inv.Invite {
		t.Fatalf("invite --json: %v\n%s", err, out)
	}
	// Bad input, before any network work: exit 2 with a sentence.
	_, stderr := bo(2, "join", "--name", "Bo", "--answer", "only one", inv.Invite)
	if !strings.Contains(stderr, "asks 2 questions and got 1 answer") || !strings.Contains(stderr, "How did you find us?") {
		t.Fatalf("one answer for two questions: %s", stderr)
	}
	bo(2, "join", "--name", "Bo", "--answer", "a", "--answer", "b", "--answer", "c", inv.Invite)
	bo(2, "join", "--name", "Bo", "--answer", "a", "--answer", strings.Repeat("x", 2001), inv.Invite)
	plain, _ := owner(0, "invite")
	if _, stderr := bo(2, "join", "--answer", "hi", plain); !strings.Contains(stderr, "asks no questions") {
		t.Fatalf("an answer to an invite with no questions: %s", stderr)
	}
	owner(2, "invite", "--question", "Why?") // --question without --approval

	// Bo asks: exit 0 once delivered, and it is pending.
	out, _ = bo(0, "join", "--name", "Bo", "--answer", "A friend", "--answer", "Pots", inv.Invite)
	if !strings.Contains(out, "waits for approval") {
		t.Fatalf("join with an approval invite said: %s", out)
	}
	if st := statusOf(t, bo); len(st.Pending) != 1 || st.Pending[0].Community != id || st.Pending[0].Requested == "" || len(st.Communities) != 0 {
		t.Fatalf("Bo's status: %+v", st)
	}
	// The owner sees it with the answers.
	out, _ = owner(0, "requests", "--json")
	var reqs []map[string]any
	if err := json.Unmarshal([]byte(out), &reqs); err != nil || len(reqs) != 1 {
		t.Fatalf("requests --json: %v\n%s", err, out)
	}
	r := reqs[0]
	for _, k := range []string{"id", "name", "answers", "invite_id", "at"} {
		if _, ok := r[k]; !ok {
			t.Fatalf("requests --json lacks %q: %s", k, out)
		}
	}
	if r["name"] != "Bo" || r["invite_id"] != inv.ID || len(r["answers"].([]any)) != 2 || r["answers"].([]any)[1] != "Pots" {
		t.Fatalf("Bo's request: %s", out)
	}
	if st := statusOf(t, owner); st.Communities[0].Requests != 1 {
		t.Fatalf("the owner's status counts %d requests", st.Communities[0].Requests)
	}
	reqID := r["id"].(string)
	owner(2, "approve", "nothex")
	owner(0, "approve", reqID[:12])
	if _, stderr := owner(2, "approve", reqID); !strings.Contains(stderr, "approved already") {
		t.Fatalf("approving twice: %s", stderr)
	}
	// Bo's running peer gets in by itself, with the welcome.
	within(t, 40*time.Second, "Bo's peer joins once approved", func() bool {
		return len(statusOf(t, bo).Communities) == 1
	})
	st := statusOf(t, bo)
	if w := st.Communities[0].Welcome; w.Text != "Welcome to Makers!" || w.Rules != "Be kind." || w.Channel != "general" || len(st.Pending) != 0 {
		t.Fatalf("Bo's status after the approval: %+v", st)
	}
	out, _ = bo(0, "members", "--json")
	var seen []map[string]any
	if err := json.Unmarshal([]byte(out), &seen); err != nil || len(seen) != 2 {
		t.Fatalf("Bo's members: %v\n%s", err, out)
	}
	var ownerKey string
	for _, m := range seen {
		if m["role"] == "owner" {
			ownerKey = m["id"].(string)
		}
	}
	for _, m := range seen {
		if m["you"] == true && (m["invited_by"] != ownerKey || m["invite_id"] != inv.ID || m["joined_at"] == "") {
			t.Fatalf("Bo's provenance: %s", out)
		}
	}

	// Cy asks and is declined; its status says why.
	cy(0, "join", "--name", "Cy", "--answer", "Search", "--answer", "Songs", inv.Invite)
	out, _ = owner(0, "requests", "--json")
	reqs = nil
	if err := json.Unmarshal([]byte(out), &reqs); err != nil || len(reqs) != 1 {
		t.Fatalf("requests --json: %v\n%s", err, out)
	}
	owner(0, "decline", "--reason", "We are full this month", reqs[0]["id"].(string))
	within(t, 40*time.Second, "Cy learns the decline", func() bool { return len(statusOf(t, cy).Declined) == 1 })
	st = statusOf(t, cy)
	if d := st.Declined[0]; d.Reason != "We are full this month" || d.Community != id || len(st.Pending) != 0 || len(st.Communities) != 0 {
		t.Fatalf("Cy's status after the decline: %+v", st)
	}

	// Members who invite: the owner's setting, a member's invite, revoke --by.
	bo(1, "settings", "--member-invites", "2")
	owner(2, "settings", "--member-invites", "-1")
	owner(0, "settings", "--member-invites", "2")
	within(t, 20*time.Second, "Bo has the setting", func() bool {
		out, _ := bo(0, "settings", "--json")
		return strings.Contains(out, `"member_invites":2`)
	})
	bo(0, "invite")
	members, _ := owner(0, "members", "--json")
	var ms []map[string]any
	_ = json.Unmarshal([]byte(members), &ms)
	var boID string
	for _, m := range ms {
		if m["name"] == "Bo" {
			boID = m["id"].(string)
		}
	}
	within(t, 20*time.Second, "the owner revokes Bo's invite", func() bool {
		out, _ := owner(0, "revoke", "--by", boID, "--json")
		return strings.Contains(out, `"revoked":1`)
	})
	owner(2, "revoke") // neither an invite ID nor --by
}

// kithdFn runs kithd on one data folder and checks its exit status (see kithdIn).
type kithdFn = func(want int, args ...string) (string, string)

// makers starts running peers for Ana, who creates "Makers", and for each of names, who join it
// with one invite; it returns their kithd, Ana's first.
func makers(t *testing.T, names ...string) []kithdFn {
	t.Helper()
	out := make([]kithdFn, 0, 1+len(names))
	for range 1 + len(names) {
		dir := t.TempDir()
		runningPeer(t, dir)
		out = append(out, kithdIn(t, dir))
	}
	out[0](0, "create", "--name", "Makers", "--display-name", "Ana")
	inv, _ := out[0](0, "invite", "--uses", strconv.Itoa(max(1, len(names))))
	for i, name := range names {
		out[i+1](0, "join", "--name", name, inv)
	}
	return out
}

// memberIDs maps the members' names to their IDs, as `members --json` prints them.
func memberIDs(t *testing.T, kithd kithdFn) map[string]string {
	t.Helper()
	out, _ := kithd(0, "members", "--json")
	var ms []map[string]any
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("members --json: %v\n%s", err, out)
	}
	ids := map[string]string{}
	for _, m := range ms {
		name, _ := m["name"].(string)
		id, _ := m["id"].(string)
		ids[name] = id
	}
	return ids
}
