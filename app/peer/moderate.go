package peer

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// member finds a member of a community by the id `kithd members --json` prints, a unique prefix
// of it (8 hex digits or more), or its display name when only one active member has it.
func (p *Peer) member(id community.Hash, arg string) (app.MemberView, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return app.MemberView{}, usage("name the member by the id that `kithd members --json` prints")
	}
	ms, err := p.Svc.Members(id)
	if err != nil {
		return app.MemberView{}, err
	}
	var found []app.MemberView
	lower := strings.ToLower(arg)
	for _, m := range ms {
		key := hex.EncodeToString(m.Key)
		if key == lower || len(lower) >= 8 && strings.HasPrefix(key, lower) {
			found = append(found, m)
		}
	}
	if len(found) == 0 {
		for _, m := range ms {
			if m.Active && strings.EqualFold(m.Name, arg) {
				found = append(found, m)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return app.MemberView{}, fmt.Errorf("no member matches %q: use the id that `kithd members --json` prints", arg)
	}
	return app.MemberView{}, usage("%q matches %d members: use the id that `kithd members --json` prints", arg, len(found))
}

// doMemberAct is remove, promote and demote.
func (p *Peer) doMemberAct(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	m, err := p.member(id, req.Member)
	if err != nil {
		return Result{}, err
	}
	name := nameOr(m.Name)
	var text string
	switch req.Cmd {
	case "remove":
		var use app.InviteUse
		var joined bool
		if req.RevokeInvite {
			if use, joined, err = p.Svc.InviteOf(id, m.Key); err != nil {
				return Result{}, err
			}
		}
		err = p.Svc.RemoveMember(ctx, id, m.Key, app.RemoveOptions{Reason: req.Reason, RevokeInvite: req.RevokeInvite})
		text = fmt.Sprintf("removed %s: every member that has the removal refuses it, and the key rotated to the others", name)
		if err == nil && req.RevokeInvite {
			extra := map[string]any{"id": hex.EncodeToString(m.Key), "name": m.Name, "done": req.Cmd}
			switch {
			case !joined:
				text += "; it joined with no invite (it was the owner), so none was revoked"
			case use.Revoked:
				text += fmt.Sprintf("; the invite it joined with (%s) was revoked already", use.ID)
				extra["invite"] = use.ID.String()
			default:
				text += fmt.Sprintf("; the invite it joined with (%s) is revoked: nobody joins with it any more", use.ID)
				extra["invite"], extra["invite_revoked"] = use.ID.String(), true
			}
			return jsonResult(text, extra)
		}
	case "promote":
		err = p.Svc.SetRole(ctx, id, m.Key, community.RoleModerator)
		text = name + " is a moderator"
	case "demote":
		err = p.Svc.SetRole(ctx, id, m.Key, community.RoleMember)
		text = name + " is a member (no longer a moderator)"
	}
	if err != nil {
		return Result{}, err
	}
	return jsonResult(text, map[string]any{"id": hex.EncodeToString(m.Key), "name": m.Name, "done": req.Cmd})
}

func (p *Peer) doDelete(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	msg, err := community.ParseHash(strings.TrimSpace(req.Message))
	if err != nil {
		return Result{}, usage("delete takes a message id, as `kithd messages --json` prints it: %v", err)
	}
	if err := p.Svc.DeleteMessage(ctx, id, msg); err != nil {
		return Result{}, err
	}
	return jsonResult("deleted: its text is gone from this device, and from every member's once they have the deletion", map[string]any{"id": msg.String(), "deleted": true})
}

func (p *Peer) doLeave(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if err := p.Svc.Leave(ctx, id); err != nil {
		return Result{}, err
	}
	return jsonResult("you left; the history you had stays on this device", map[string]any{"community": id.String(), "left": true})
}

// OwnerActJSON is one act of the owner key, as `kithd recover --list --json` prints it.
type OwnerActJSON struct {
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
	Time   string `json:"time"`
	Void   bool   `json:"void"`
}

func (p *Peer) doRecover(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	acts, err := p.Svc.OwnerActs(id)
	if err != nil {
		return Result{}, err
	}
	if req.List {
		out := make([]OwnerActJSON, 0, len(acts))
		var text strings.Builder
		for _, a := range acts {
			j := OwnerActJSON{Seq: a.Seq, Kind: a.Kind.String(), Target: a.Target, Time: a.Time.UTC().Format(time.RFC3339), Void: a.Void}
			out = append(out, j)
			fmt.Fprintf(&text, "%5d  %s  %s %s\n", a.Seq, a.Time.Local().Format("2006-01-02 15:04"), j.Kind, a.Target)
		}
		if len(out) == 0 {
			text.WriteString("the owner key has done nothing here since it created the community\n")
		}
		return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
	}
	cutoff := req.Cutoff
	if req.KeepAll {
		if cutoff, err = p.Svc.OwnerLatest(id); err != nil {
			return Result{}, err
		}
	} else if cutoff == 0 && len(acts) > 0 {
		return Result{}, usage("recover needs --cutoff SEQ (the owner key's last act to keep; see `kithd recover --list`) or --keep-all (a lost device, not a stolen one)")
	}
	got, err := p.Svc.Recover(ctx, id, req.Words, cutoff)
	if err != nil && got.RecoveryWords == "" {
		return Result{}, err
	}
	text := "this device owns the community now; the old owner key's acts after " + fmt.Sprint(cutoff) +
		" are void. Write down the NEW recovery words (the old ones are spent):\n" + got.RecoveryWords
	res, jerr := jsonResult(text, map[string]any{"community": id.String(), "cutoff": cutoff, "recovery_words": got.RecoveryWords})
	if err != nil { // ownership moved and the words changed: they must be shown whatever else failed
		res.Warning = err.Error()
	}
	return res, jerr
}
