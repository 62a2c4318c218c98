package peer

import (
	"context"
	"crypto/ed25519"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/peer/book"
)

// The address book stream: a member asks another for the addresses of the members of a
// community it knows, so members find each other with no server and no invite at hand. Only
// members of that community are answered; an outsider's stream is reset.
//
//	request = version[1]=1 | community[32]
//	answer  = version[1]=1 | uvarint n | n × (str peerID | uvarint k | k × str addr)
//	str     = uvarint len | bytes
const (
	ProtoAddrs      = "/kith/addrs/1"
	maxAddrsRequest = 33
)

// serveAddrs answers a member with the addresses of the community's members this install knows:
// those connected now (their current addresses) and those in its address book.
func (p *Peer) serveAddrs(_ context.Context, from ed25519.PublicKey, req []byte) ([]byte, error) {
	if len(req) != maxAddrsRequest || req[0] != book.Version {
		return nil, app.Refuse("this address book request is damaged: update Kith")
	}
	id := community.Hash(req[1:33])
	if member, _ := p.Svc.IsMember(id, from); !member {
		return nil, app.ErrOutsider
	}
	return book.Encode(p.membersBook(id, from)), nil
}

// membersBook lists the addresses this install knows of a community's members, but the asker's.
func (p *Peer) membersBook(id community.Hash, asker ed25519.PublicKey) []book.Entry {
	node := p.Node()
	members, err := p.Svc.Members(id)
	if node == nil || err != nil {
		return nil
	}
	known := map[string][]string{}
	if saved, err := p.Store.Peers(); err == nil {
		for _, e := range saved {
			known[e.ID] = e.Addrs
		}
	}
	var out []book.Entry
	for _, m := range members {
		if !m.Active || asker.Equal(m.Key) {
			continue
		}
		pid, err := PeerID(m.Key)
		if err != nil {
			continue
		}
		var addrs []string
		if m.You {
			addrs = node.Addrs()
		} else if addrs = node.AddrsOf(pid); len(addrs) == 0 {
			addrs = known[pid]
		}
		if len(addrs) > book.MaxEntryAddrs {
			addrs = addrs[:book.MaxEntryAddrs]
		}
		var keep []string
		for _, a := range addrs {
			if len(a) <= book.MaxAddrLen {
				keep = append(keep, a)
			}
		}
		if len(keep) > 0 && len(out) < book.MaxEntries {
			out = append(out, book.Entry{PeerID: pid, Addrs: keep})
		}
	}
	return out
}

// exchangeAddrs asks a member for the addresses of the members of communities shared with it,
// saves them, and dials the members not connected yet.
func (p *Peer) exchangeAddrs(ctx context.Context, peerID string, shared []community.Hash) {
	node := p.Node()
	if node == nil {
		return
	}
	for _, id := range shared {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		b, err := node.Request(rctx, peerID, ProtoAddrs, append([]byte{book.Version}, id[:]...), book.MaxAnswer)
		cancel()
		if err != nil {
			p.log.Debug("address book", "peer", peerID, "err", err)
			continue
		}
		entries, err := book.Decode(b)
		if err != nil {
			p.log.Debug("address book", "peer", peerID, "err", err)
			continue
		}
		for _, e := range entries {
			key, err := node.KeyOf(e.PeerID)
			if err != nil || e.PeerID == node.ID() {
				continue
			}
			if member, _ := p.Svc.IsMember(id, key); !member {
				continue // only members' addresses, whatever the answer says
			}
			var full []string
			for _, a := range e.Addrs {
				if strings.HasSuffix(a, "/p2p/"+e.PeerID) {
					full = append(full, a)
				}
			}
			if len(full) == 0 {
				continue
			}
			_ = node.AddAddrs(full...)
			p.remember(e.PeerID, full, []community.Hash{id}, false)
		}
	}
	p.dialMembers(ctx)
}
