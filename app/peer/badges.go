package peer

// kithd's badge commands: badge (the owner signs one), badges, badge-card (a member's card).

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// BadgeJSON is one badge in `kithd badges --json`.
type BadgeJSON struct {
	ID       string `json:"id"`
	MemberID string `json:"member_id"`
	Name     string `json:"name"`
	Title    string `json:"title"`
	Note     string `json:"note"`
	Issued   string `json:"issued"`
	Mine     bool   `json:"mine"`
}

func badgeJSON(b app.BadgeView) BadgeJSON {
	return BadgeJSON{ID: b.ID.String(), MemberID: fmt.Sprintf("%x", b.Member), Name: nameOr(b.MemberName),
		Title: community.Printable(b.Title, false), Note: community.Printable(b.Note, true), Issued: b.At.UTC().Format(time.RFC3339), Mine: b.Mine}
}

func (p *Peer) doBadges(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	switch req.Cmd {
	case "badge":
		m, err := p.member(id, req.Member)
		if err != nil {
			return Result{}, err
		}
		b, err := p.Svc.GiveBadge(ctx, id, m.Key, req.Title, req.Note)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(b.ID.String(), badgeJSON(b))
	case "badge-card":
		ref, err := p.Svc.ParseBadgeRef(id, req.Badge)
		if err != nil {
			return Result{}, asUsage(err)
		}
		card, b, err := p.Svc.BadgeCard(id, ref)
		if err != nil {
			return Result{}, asUsage(err)
		}
		if !b.Mine {
			return Result{}, fmt.Errorf("that badge is %s's: only its member exports its card", nameOr(b.MemberName))
		}
		j := struct {
			BadgeJSON
			Card string `json:"card"`
		}{badgeJSON(b), card}
		return jsonResult(app.CardHTML(card, b.Badge()), j)
	}
	bs, err := p.Svc.Badges(id)
	if err != nil {
		return Result{}, err
	}
	out := make([]BadgeJSON, 0, len(bs))
	var text strings.Builder
	for _, b := range bs {
		j := badgeJSON(b)
		out = append(out, j)
		mine := ""
		if b.Mine {
			mine = "  (yours: `kithd badge-card " + b.ID.String()[:12] + " --out card.html`)"
		}
		fmt.Fprintf(&text, "%s  %s: %q, %s%s\n", b.ID.String()[:12], j.Name, j.Title, b.At.Local().Format("2 Jan 2006"), mine)
	}
	if len(out) == 0 {
		text.WriteString("no badges yet: the owner signs them with `kithd badge MEMBER_ID --title TITLE`")
	}
	return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
}
