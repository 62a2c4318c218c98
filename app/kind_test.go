package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// TestKindOf: each kind of error an edge meets is told apart by KindOf, wrapped as it travels
// up (fmt.Errorf with %w), whichever layer made it — the store and the network included, which
// app does not import.
func TestKindOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("app: joining: %w", fmt.Errorf("peer: %w", err)) }
	cases := []struct {
		err  error
		want app.Kind
	}{
		{nil, app.KindUnknown},
		{errors.New("something else"), app.KindUnknown},
		{app.ErrClosed, app.KindClosed},
		{app.Refuse("this invite has expired: ask for a new one"), app.KindRefused},
		{&p2p.RefusedError{Reason: "this invite was revoked"}, app.KindRefused},
		{invite.ErrExpired, app.KindRefused},
		{invite.ErrUsedUp, app.KindRefused},
		{&p2p.UnavailableError{Reason: "this member cannot admit you right now"}, app.KindTryAgain},
		{app.ErrNoMemberReachable, app.KindTryAgain},
		{context.DeadlineExceeded, app.KindTryAgain},
		{storage.ErrDiskFull, app.KindTryAgain},
		{storage.ErrDamaged, app.KindDamaged},
		{identity.ErrDamaged, app.KindDamaged},
		{invite.ErrDamaged, app.KindDamaged},
		{community.ErrSignature, app.KindDamaged},
		{community.ErrRole, app.KindNotAllowed},
		{app.ErrUnknownCommunity, app.KindNotAllowed},
		{app.ErrEmptyMessage, app.KindBadInput},
		{&community.FieldError{Err: community.ErrTooLong, Msg: "the message is too long"}, app.KindBadInput},
	}
	for _, c := range cases {
		for _, err := range []error{c.err, wrap(c.err)} {
			if c.err == nil && err != nil {
				continue
			}
			if got := app.KindOf(err); got != c.want {
				t.Errorf("KindOf(%v) = %v, want %v", err, got, c.want)
			}
		}
	}
	if !app.Refused(wrap(invite.ErrRevoked)) || app.Refused(wrap(storage.ErrDiskFull)) {
		t.Error("Refused does not agree with KindOf")
	}
}
