package peer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/peer"
)

// TestKeepEveryFile: while the owner asks members to keep only what they open, a member's
// install fetches nothing by itself; once the owner asks them to keep every file, it fetches the
// files it lacks (those from before too) with no one opening them; past its disk budget it
// stops, and a fetch asked for says so in a sentence; a larger budget lets the rest come.
func TestKeepEveryFile(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	bo := n.start("", 0)
	join(t, bo, inviteOf(t, owner, id, 1), "Bo")
	connected(t, id, owner, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch := general(t, owner, id)
	postFile := func(name string, size int) app.Message {
		data := make([]byte, size)
		rand.Read(data)
		m, err := owner.Svc.PostFiles(ctx, id, ch, "", community.Hash{}, []app.File{{Name: name, Size: int64(size),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "Bo to get the message with "+name, func() bool { _, ok, _ := bo.Svc.Message(id, m.ID); return ok })
		return m
	}
	has := func(m app.Message) bool {
		v, ok, _ := bo.Svc.Message(id, m.ID)
		return ok && len(v.Attachments) == 1 && v.Attachments[0].Have
	}
	first := postFile("before.bin", 300<<10) // at Bo's: its arrival tells the keeper to look
	looked := peer.KeepLooks(bo)
	eventually(t, 20*time.Second, "Bo's keeper to look at the new file", func() bool { return peer.KeepLooks(bo) > looked })
	if has(first) {
		t.Fatal("Bo's install fetched a file nobody opened, in a community that keeps only what is opened")
	}
	if _, err := owner.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.KeepFiles = true }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "Bo's install to keep the file from before", func() bool { return has(first) })
	second := postFile("after.bin", 200<<10)
	eventually(t, 20*time.Second, "Bo's install to keep a new file", func() bool { return has(second) })

	// A budget of 1 MiB: a 2 MiB file does not come, and asking for it says why.
	if err := bo.Svc.SetFilesBudget(id, 1); err != nil {
		t.Fatal(err)
	}
	big := postFile("big.bin", 2<<20)
	looked = peer.KeepLooks(bo)
	eventually(t, 20*time.Second, "Bo's keeper to look at the big file", func() bool { return peer.KeepLooks(bo) > looked })
	if has(big) {
		t.Fatal("a file past the budget was kept")
	}
	err := bo.FetchFile(ctx, id, big.ID, big.Attachments[0].Blob)
	if !errors.Is(err, app.ErrOverBudget) || !strings.Contains(app.Sentence(err), "keeps at most 1 MiB") {
		t.Fatalf("fetching past the budget: %v", err)
	}
	k, err := bo.Svc.Keeping(id)
	if err != nil || !k.KeepAll || k.BudgetMiB != 1 || k.Used < 500<<10 || k.Used > 1<<20 {
		t.Fatalf("Bo's keeping: %+v, %v", k, err)
	}
	if err := bo.Svc.SetFilesBudget(id, 0); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("a budget of 0: %v", err)
	}
	if err := bo.Svc.SetFilesBudget(id, 10); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "Bo's install to keep the big file once the budget allows it", func() bool { return has(big) })
}
