package peer

import (
	"context"
	"fmt"
	"strings"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// InfoJSON is what `kithd info --json` prints.
type InfoJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	About      string   `json:"about"`
	Owner      string   `json:"owner"` // the owner's name as shown
	OwnerID    string   `json:"owner_id"`
	Moderators []string `json:"moderators"`
	Members    int      `json:"members"`
	MaxMembers int      `json:"max_members"` // 0: no cap
	Role       string   `json:"role"`        // this device's
}

// ProfileJSON is what `kithd profile --json` prints: this device's profile in the community.
type ProfileJSON struct {
	Name    string `json:"name"`
	About   string `json:"about"`
	Picture string `json:"picture"` // the blob ID of your picture ("" for none)
}

// doCommunity runs `info`, `profile` and `community edit`.
func (p *Peer) doCommunity(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	switch req.Cmd {
	case "profile":
		name, about, err := p.Svc.MyProfile(id)
		if err != nil {
			return Result{}, err
		}
		if req.Picture != "" || req.NoPicture {
			var f *app.File
			if req.Picture != "" {
				files, err := localFiles([]string{req.Picture})
				if err != nil {
					return Result{}, err
				}
				f = &files[0]
			}
			if err := p.Svc.SetProfilePicture(ctx, id, f); err != nil {
				return Result{}, asUsage(err)
			}
		}
		if req.SetName || req.SetAbout {
			if req.SetName {
				name = req.Name
			}
			if req.SetAbout {
				about = req.About
			}
			if err := p.Svc.SetProfile(ctx, id, name, about); err != nil {
				return Result{}, asUsage(err)
			}
			if name, about, err = p.Svc.MyProfile(id); err != nil {
				return Result{}, err
			}
		}
		text := community.Printable(name, false)
		if about != "" {
			text += "\n    | " + indented(about)
		}
		out := ProfileJSON{Name: name, About: about}
		if ms, err := p.Svc.Members(id); err == nil {
			for _, m := range ms {
				if m.You && len(m.Picture) > 0 {
					out.Picture = m.PictureBlob.String()
					text += "\n    picture: " + out.Picture[:16] + " (kithd fetch saves it)"
				}
			}
		}
		return jsonResult(text, out)
	case "community edit":
		in, err := p.Svc.Info(id)
		if err != nil {
			return Result{}, err
		}
		if !req.SetName && !req.SetAbout && !req.SetMax {
			return Result{}, usage("community edit takes --name, --about or --max-members")
		}
		name, about, max := in.Name, in.About, in.MaxMembers
		if req.SetName {
			name = req.Name
		}
		if req.SetAbout {
			about = req.About
		}
		if req.SetMax {
			max = req.MaxMembers
		}
		if err := p.Svc.EditCommunity(ctx, id, name, about, max); err != nil {
			return Result{}, asUsage(err)
		}
	}
	in, err := p.Svc.Info(id)
	if err != nil {
		return Result{}, err
	}
	j := InfoJSON{ID: id.String(), Name: in.Name, About: in.About, Owner: in.Owner, OwnerID: fmt.Sprintf("%x", in.OwnerKey),
		Moderators: in.Moderators, Members: in.Members, MaxMembers: in.MaxMembers, Role: in.Role.String()}
	if j.Moderators == nil {
		j.Moderators = []string{}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", community.Printable(in.Name, false))
	if in.About != "" {
		fmt.Fprintf(&b, "    | %s\n", indented(in.About))
	}
	fmt.Fprintf(&b, "owner: %s\n", community.Printable(in.Owner, false))
	if len(in.Moderators) > 0 {
		var mods []string
		for _, m := range in.Moderators {
			mods = append(mods, community.Printable(m, false))
		}
		fmt.Fprintf(&b, "moderators: %s\n", strings.Join(mods, ", "))
	}
	cap := "no cap"
	if in.MaxMembers > 0 {
		cap = fmt.Sprintf("at most %d", in.MaxMembers)
	}
	fmt.Fprintf(&b, "members: %d (%s)", in.Members, cap)
	return jsonResult(b.String(), j)
}
