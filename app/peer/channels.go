package peer

import (
	"context"
	"fmt"
	"strings"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// ChannelJSON is one channel in `kithd channels --json`.
type ChannelJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"` // chat or announcements
	Archived bool   `json:"archived"`
	// Asked is the name it was made with when another channel had it first (made at the same
	// time elsewhere): Name is then Asked with a number.
	Asked string `json:"asked,omitempty"`
}

func channelJSON(c app.Channel) ChannelJSON {
	t := "chat"
	if c.Type == community.ChannelAnnouncements {
		t = "announcements"
	}
	return ChannelJSON{ID: c.ID.String(), Name: c.Name, Type: t, Archived: c.Archived, Asked: c.Asked}
}

// doChannel runs `channels` and `channel create|rename|archive|unarchive`.
func (p *Peer) doChannel(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Cmd == "channels" {
		chans, err := p.Svc.Channels(id)
		if err != nil {
			return Result{}, err
		}
		out := []ChannelJSON{}
		var text strings.Builder
		for _, c := range chans {
			j := channelJSON(c)
			out = append(out, j)
			note := ""
			if c.Archived {
				note += "  (archived)"
			}
			if c.Asked != "" {
				note += fmt.Sprintf("  (made as #%s at the same time as another)", community.Printable(c.Asked, false))
			}
			fmt.Fprintf(&text, "#%-24s %-13s%s\n", community.Printable(c.Name, false), j.Type, note)
		}
		return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
	}
	var c app.Channel
	switch req.Cmd {
	case "channel create":
		t := community.ChannelChat
		if req.Announce {
			t = community.ChannelAnnouncements
		}
		c, err = p.Svc.CreateChannel(ctx, id, req.Name, t)
	default:
		var cur app.Channel
		if cur, err = p.channel(id, req.Name); err != nil {
			return Result{}, err
		}
		switch req.Cmd {
		case "channel rename":
			c, err = p.Svc.UpdateChannel(ctx, id, cur.ID, req.NewName, cur.Archived)
		case "channel archive":
			c, err = p.Svc.UpdateChannel(ctx, id, cur.ID, cur.Name, true)
		case "channel unarchive":
			c, err = p.Svc.UpdateChannel(ctx, id, cur.ID, cur.Name, false)
		}
	}
	if err != nil {
		return Result{}, asUsage(err)
	}
	j := channelJSON(c)
	text := "#" + community.Printable(c.Name, false)
	if c.Archived {
		text += " (archived)"
	}
	return jsonResult(text, j)
}
