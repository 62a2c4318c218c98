package peer

// kithd's recognition commands: kudos, helpful, recognition.

import (
	"context"
	"fmt"
	"strings"

	"github.com/kith-app/kith/app/community"
)

// RecognitionJSON is one member on `kithd recognition --json`.
type RecognitionJSON struct {
	Member      string   `json:"member_id"`
	Name        string   `json:"name"`
	Score       float64  `json:"score"`
	Kudos       int      `json:"kudos"`
	HelpfulFrom int      `json:"helpful_from"`
	Notes       []string `json:"notes"`
	Badges      []string `json:"badges"` // the titles of the badges the owner signed for it
}

func (p *Peer) doRecognition(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	switch req.Cmd {
	case "kudos":
		m, err := p.member(id, req.Member)
		if err != nil {
			return Result{}, err
		}
		if err := p.Svc.Kudos(ctx, id, m.Key, req.Text); err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(fmt.Sprintf("kudos to %s", nameOr(m.Name)), map[string]any{"member_id": fmt.Sprintf("%x", m.Key), "kudos": true})
	case "helpful":
		msg, err := community.ParseHash(strings.TrimSpace(req.Message))
		if err != nil {
			return Result{}, usage("helpful takes a message id (see `kithd messages --json`), not %q", req.Message)
		}
		if err := p.Svc.Helpful(ctx, id, msg); err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult("marked helpful", map[string]any{"message": msg.String(), "helpful": true})
	}
	board, err := p.Svc.RecognitionBoard(id)
	if err != nil {
		return Result{}, err
	}
	out := make([]RecognitionJSON, 0, len(board))
	var text strings.Builder
	for i, r := range board {
		j := RecognitionJSON{Member: fmt.Sprintf("%x", r.Key), Name: nameOr(r.Name), Score: r.Score, Kudos: r.Kudos, HelpfulFrom: r.HelpfulFrom, Notes: []string{}, Badges: []string{}}
		for _, b := range r.Badges {
			j.Badges = append(j.Badges, community.Printable(b, false))
		}
		for _, n := range r.Notes {
			j.Notes = append(j.Notes, community.Printable(n, true))
		}
		out = append(out, j)
		fmt.Fprintf(&text, "%2d. %-24s %6.2f  helpful to %d, %d kudos", i+1, j.Name, j.Score, j.HelpfulFrom, j.Kudos)
		if len(j.Badges) > 0 {
			fmt.Fprintf(&text, "; badges: %s", strings.Join(j.Badges, ", "))
		}
		text.WriteString("\n")
	}
	if len(out) == 0 {
		text.WriteString("nobody is on the board yet: mark helpful messages, give kudos")
	}
	return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
}
