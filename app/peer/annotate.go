package peer

import (
	"context"
	"fmt"
	"strings"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// doAnnotate runs `react`, `edit`, `pin`, `unpin`, `pins` and `mentions`.
func (p *Peer) doAnnotate(ctx context.Context, req Request) (Result, error) {
	if req.Cmd == "pins" {
		id, ch, err := p.place(req)
		if err != nil {
			return Result{}, err
		}
		pins, err := p.Svc.Pins(id, ch.ID)
		if err != nil {
			return Result{}, err
		}
		out := make([]MessageJSON, 0, len(pins))
		var text strings.Builder
		for _, m := range pins {
			out = append(out, p.messageJSON(m, ch.Name))
			fmt.Fprintf(&text, "%s  %s%s: %s\n", m.Time.Local().Format("2006-01-02 15:04"), nameOr(m.Name), roleMark(m.Role), indented(m.Text))
		}
		if len(pins) == 0 {
			text.WriteString("nothing is pinned in #" + community.Printable(ch.Name, false))
		}
		return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
	}
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Cmd == "mentions" || req.Cmd == "search" {
		var ms []app.Message
		if req.Cmd == "search" {
			ms, err = p.Svc.Search(id, req.Text, req.Limit)
		} else {
			ms, err = p.Svc.Mentions(id, 100)
		}
		if err != nil {
			return Result{}, asUsage(err)
		}
		out := make([]MessageJSON, 0, len(ms))
		var text strings.Builder
		for _, m := range ms {
			ch, err := p.channelByID(id, m.Channel)
			if err != nil {
				continue
			}
			out = append(out, p.messageJSON(m, ch.Name))
			fmt.Fprintf(&text, "%s  #%s  %s%s: %s\n", m.Time.Local().Format("2006-01-02 15:04"), community.Printable(ch.Name, false), nameOr(m.Name), roleMark(m.Role), indented(m.Text))
		}
		switch {
		case len(ms) > 0:
		case req.Cmd == "search":
			text.WriteString("no message here holds every word of that")
		default:
			text.WriteString("nobody has mentioned you here yet")
		}
		return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
	}
	msg, err := community.ParseHash(strings.TrimSpace(req.Message))
	if err != nil {
		return Result{}, usage("%s takes a message id, as `kithd messages --json` prints it: %v", req.Cmd, err)
	}
	var m app.Message
	switch req.Cmd {
	case "react":
		m, err = p.Svc.React(ctx, id, msg, req.Emoji, req.Remove)
	case "edit":
		m, err = p.Svc.EditMessage(ctx, id, msg, req.Text)
	case "pin", "unpin":
		m, err = p.Svc.Pin(ctx, id, msg, req.Cmd == "pin")
	}
	if err != nil {
		return Result{}, asUsage(err)
	}
	ch, err := p.channelByID(id, m.Channel)
	if err != nil {
		return Result{}, err
	}
	return jsonResult(indented(m.Text)+marks(m), p.messageJSON(m, ch.Name))
}
