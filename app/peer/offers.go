package peer

// kithd's offer commands: offer, claim, offers.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// OfferJSON is an offer as `kithd offers --json` prints it.
type OfferJSON struct {
	ID        string         `json:"id"`
	Channel   string         `json:"channel"`
	Author    string         `json:"author"`
	Title     string         `json:"title"`
	Text      string         `json:"text"`
	Quantity  int            `json:"quantity"`
	Claimed   int            `json:"claimed"`
	Expires   string         `json:"expires"` // RFC 3339
	Expired   bool           `json:"expired"`
	Mine      bool           `json:"mine"`
	Granted   bool           `json:"granted"`
	Code      string         `json:"code,omitempty"` // where granted and sealed to this member
	Claimants []ClaimantJSON `json:"claimants,omitempty"`
	// OverBudget: past the week's promotion budget, listed to the owner and moderators only.
	OverBudget bool `json:"over_budget,omitempty"`
}

// ClaimantJSON is one claim, for the owner and moderators.
type ClaimantJSON struct {
	Member  string `json:"member_id"`
	Name    string `json:"name"`
	At      string `json:"at"`
	Granted bool   `json:"granted"`
}

func offerJSON(channel string, o app.Offer) OfferJSON {
	j := OfferJSON{ID: o.ID.String(), Channel: channel, Author: nameOr(o.Name), Title: community.Printable(o.Title, false),
		Text: community.Printable(o.Text, true), Quantity: o.Quantity, Claimed: min(o.Claimed, o.Quantity),
		Expires: o.Expires.UTC().Format(time.RFC3339), Expired: o.Expired, Mine: o.Mine, Granted: o.Granted,
		Code: community.Printable(o.Code, false), OverBudget: o.OverBudget}
	for _, c := range o.Claimants {
		j.Claimants = append(j.Claimants, ClaimantJSON{Member: fmt.Sprintf("%x", c.Key), Name: nameOr(c.Name), At: c.At.UTC().Format(time.RFC3339), Granted: c.Granted})
	}
	return j
}

func offerText(j OfferJSON) string {
	state := fmt.Sprintf("%d of %d claimed, until %s", j.Claimed, j.Quantity, j.Expires)
	if j.Expired {
		state = fmt.Sprintf("%d of %d claimed, expired", j.Claimed, j.Quantity)
	}
	s := fmt.Sprintf("%s  %s  (%s, by %s)", j.ID[:12], j.Title, state, j.Author)
	if j.Text != "" {
		s += "\n  " + indented(j.Text)
	}
	switch {
	case j.Granted && j.Code != "":
		s += "\n  granted: your code is " + j.Code
	case j.Granted:
		s += "\n  granted"
	case j.Mine:
		s += "\n  claimed, not granted: others claimed first"
	}
	return s
}

func (p *Peer) doOffer(ctx context.Context, req Request) (Result, error) {
	if req.Cmd == "offer" {
		id, ch, err := p.place(req)
		if err != nil {
			return Result{}, err
		}
		d, err := time.ParseDuration(req.Expires)
		if err != nil || d <= 0 {
			return Result{}, usage("--expires takes a duration such as 72h, not %q", req.Expires)
		}
		o, err := p.Svc.CreateOffer(ctx, id, ch.ID, community.OfferSpec{Title: req.Title, Text: req.Text, Quantity: req.Quantity, Expires: time.Now().Add(d)}, req.Code)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(o.ID.String(), offerJSON(ch.Name, o))
	}
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Cmd == "offers" {
		all, err := p.Svc.Offers(id)
		if err != nil {
			return Result{}, err
		}
		out := make([]OfferJSON, 0, len(all))
		var texts []string
		for _, o := range all {
			ch, _ := p.channelByID(id, o.Channel)
			j := offerJSON(ch.Name, o)
			out = append(out, j)
			texts = append(texts, offerText(j))
		}
		if len(out) == 0 {
			texts = append(texts, "no offers yet")
		}
		return jsonResult(strings.Join(texts, "\n"), out)
	}
	offer, err := p.Svc.ParseOfferRef(id, req.Offer)
	if err != nil {
		return Result{}, asUsage(err)
	}
	o, err := p.Svc.Claim(ctx, id, offer)
	if err != nil {
		if app.KindOf(err) == app.KindBadInput {
			return Result{}, asUsage(err)
		}
		return Result{}, err
	}
	if !o.Granted {
		return Result{}, errors.New("all were claimed before your claim reached the others: it is not granted")
	}
	// The code comes from the owner's or a moderator's install: wait a little for it.
	for deadline := time.Now().Add(15 * time.Second); o.HasCode && o.Code == "" && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			deadline = time.Now()
		case <-time.After(300 * time.Millisecond):
		}
		if again, err := p.Svc.OfferOf(id, offer); err == nil {
			o = again
		}
	}
	ch, _ := p.channelByID(id, o.Channel)
	j := offerJSON(ch.Name, o)
	text := "granted"
	switch {
	case o.Code != "":
		text = "granted\n" + j.Code
	case o.HasCode:
		text = "granted; the code comes once the owner or a moderator is online: `kithd offers` shows it"
	}
	return jsonResult(text, j)
}
