package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestOffersAcrossAPartition: two members claim the last one apart; each is told granted by its
// own log; once the logs meet, the same one claim is granted at every member (the first in the
// log's order), the owner seals the code to that one only, and the other learns it was not.
func TestOffersAcrossAPartition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, bo, cy := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, owner, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy"})
	chans, _ := owner.Svc.Channels(id)
	o, err := owner.Svc.CreateOffer(ctx, id, chans[0].ID, community.OfferSpec{Title: "Early access", Quantity: 1, Expires: time.Now().Add(time.Hour)}, "SPRING-20")
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, owner, id)
	syncFrom(t, ctx, cy, owner, id)
	b, err := bo.Svc.Claim(ctx, id, o.ID)
	if err != nil || !b.Granted {
		t.Fatalf("Bo's claim: %+v, %v", b, err)
	}
	c, err := cy.Svc.Claim(ctx, id, o.ID)
	if err != nil || !c.Granted {
		t.Fatalf("Cy's claim: %+v, %v", c, err)
	}
	// The logs meet.
	syncFrom(t, ctx, owner, bo, id)
	syncFrom(t, ctx, owner, cy, id)
	owner.Svc.GrantOffers(ctx, id)
	syncFrom(t, ctx, bo, owner, id)
	syncFrom(t, ctx, cy, owner, id)
	views := map[string]app.Offer{}
	for name, p := range map[string]*apptest.Peer{"owner": owner, "Bo": bo, "Cy": cy} {
		v, err := p.Svc.OfferOf(id, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		views[name] = v
	}
	if views["owner"].Claimed != 2 || views["Bo"].Claimed != 2 || views["Cy"].Claimed != 2 {
		t.Fatalf("claims counted: %d, %d, %d", views["owner"].Claimed, views["Bo"].Claimed, views["Cy"].Claimed)
	}
	if views["Bo"].Granted == views["Cy"].Granted {
		t.Fatalf("Bo granted %v, Cy granted %v: want exactly one", views["Bo"].Granted, views["Cy"].Granted)
	}
	winner, loser := views["Bo"], views["Cy"]
	if !winner.Granted {
		winner, loser = loser, winner
	}
	if winner.Code != "SPRING-20" || loser.Code != "" {
		t.Fatalf("codes: granted %q, not granted %q", winner.Code, loser.Code)
	}
	granted := 0
	for _, c := range views["owner"].Claimants {
		if c.Granted {
			granted++
		}
	}
	if granted != 1 {
		t.Fatalf("the owner sees %d granted", granted)
	}
	if _, err := bo.Svc.Claim(ctx, id, o.ID); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("claiming twice: %v", err)
	}
}
