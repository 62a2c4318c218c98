package peer

// kithd's promotions command: the weekly budget, and muting promotions on this device.

import (
	"fmt"
	"time"
)

func (p *Peer) doPromotions(req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Mute || req.Unmute {
		if err := p.Svc.MutePromotions(id, req.Mute); err != nil {
			return Result{}, err
		}
	}
	b, err := p.Svc.PromotionBudget(id)
	if err != nil {
		return Result{}, err
	}
	text := fmt.Sprintf("%d of %d promotions this week (posts and offers by the owner and moderators)", b.Used, b.PerWeek)
	if b.Used >= b.PerWeek {
		text += "; the next can go out on " + b.NextFree.Local().Format("Mon 2 Jan at 15:04")
	}
	if b.Muted {
		text += "\nmuted here: promotions do not show and do not notify (`kithd promotions --unmute` shows them)"
	}
	return jsonResult(text, map[string]any{"per_week": b.PerWeek, "used": b.Used, "week": b.Week.Format(time.RFC3339),
		"next_free": b.NextFree.UTC().Format(time.RFC3339), "muted": b.Muted, "can_post": b.CanPost})
}
