package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestChannelsByRole: the owner makes, renames and archives channels, and the member learns each
// by a sync; the member may do none of it (KindNotAllowed), cannot post in #announcements (a
// sentence that says where to reply) nor in an archived channel, and the last open chat channel
// cannot be archived.
func TestChannelsByRole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, a, "Ana", map[*apptest.Peer]string{b: "Bo"})
	design, err := a.Svc.CreateChannel(ctx, id, "  design ", community.ChannelChat)
	if err != nil || design.Name != "design" {
		t.Fatalf("create: %+v, %v", design, err)
	}
	if _, err := a.Svc.UpdateChannel(ctx, id, design.ID, "studio", false); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, b, a, id)
	chans, _ := b.Svc.Channels(id)
	if len(chans) != 3 || chans[2].Name != "studio" || chans[2].ID != design.ID {
		t.Fatalf("the member's channels: %+v", chans)
	}
	if _, err := b.Svc.CreateChannel(ctx, id, "mine", community.ChannelChat); app.KindOf(err) != app.KindNotAllowed {
		t.Errorf("a member makes a channel: %v (%v)", err, app.KindOf(err))
	}
	if _, err := b.Svc.UpdateChannel(ctx, id, design.ID, "ours", false); app.KindOf(err) != app.KindNotAllowed {
		t.Errorf("a member renames a channel: %v", err)
	}
	var news community.Hash
	for _, c := range chans {
		if c.Type == community.ChannelAnnouncements {
			news = c.ID
		}
	}
	_, err = b.Svc.Post(ctx, id, news, "hi all", community.Hash{})
	if app.KindOf(err) != app.KindNotAllowed || app.Sentence(err) != "Only the owner and moderators post in #announcements; reply in #general" {
		t.Errorf("a member posts in #announcements: %q (%v)", app.Sentence(err), app.KindOf(err))
	}
	if note := b.Svc.PostingNote(id, news); !strings.Contains(note, "reply in #general") {
		t.Errorf("the member's note in #announcements: %q", note)
	}
	if note := a.Svc.PostingNote(id, news); note != "" {
		t.Errorf("the owner's note in #announcements: %q", note)
	}
	if _, err := a.Svc.UpdateChannel(ctx, id, design.ID, "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Post(ctx, id, design.ID, "anyone?", community.Hash{}); err == nil || !strings.Contains(err.Error(), "archived") {
		t.Errorf("a post in an archived channel: %v", err)
	}
	general := chans[0].ID
	if _, err := a.Svc.UpdateChannel(ctx, id, general, "", true); err == nil || !strings.Contains(err.Error(), "last chat channel") {
		t.Errorf("archiving the last open chat channel: %v", err)
	}
	if _, err := a.Svc.CreateChannel(ctx, id, "Studio", community.ChannelChat); err == nil || !strings.Contains(err.Error(), "archived channel is called #studio") {
		t.Errorf("a name an archived channel has: %v", err)
	}
}
