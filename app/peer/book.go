package peer

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/kith-app/kith/app/community"
)

// The address book stream: a member asks another for the addresses of the members of a
// community it knows, so members find each other with no server and no invite at hand. Only
// members of that community are answered; an outsider's stream is reset.
//
//	request = version[1]=1 | community[32]
//	answer  = version[1]=1 | uvarint n | n × (str peerID | uvarint k | k × str addr)
//	str     = uvarint len | bytes
const (
	ProtoAddrs       = "/kith/addrs/1"
	maxAddrsRequest  = 33
	maxAddrsAnswer   = 256 << 10
	maxBookEntries   = 1024 // entries per answer
	maxEntryAddrs    = 8    // addresses per entry
	maxAddrLen       = 256
	maxPeerIDLen     = 128
	bookVersion      = 1
	bookEntryMinSize = 2
)

type bookEntry struct {
	peerID string
	addrs  []string
}

func encodeBook(entries []bookEntry) []byte {
	b := []byte{bookVersion}
	b = binary.AppendUvarint(b, uint64(len(entries)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, e := range entries {
		str(e.peerID)
		b = binary.AppendUvarint(b, uint64(len(e.addrs)))
		for _, a := range e.addrs {
			str(a)
		}
	}
	return b
}

var errBookDamaged = errors.New("peer: damaged address book answer")

// decodeBook reads an address book answer with bounded allocation.
func decodeBook(b []byte) ([]bookEntry, error) {
	if len(b) < 2 || len(b) > maxAddrsAnswer || b[0] != bookVersion {
		return nil, fmt.Errorf("%w: %d bytes", errBookDamaged, len(b))
	}
	p := 1
	uv := func(max uint64) (uint64, bool) {
		v, n := binary.Uvarint(b[p:])
		if n <= 0 || n != len(binary.AppendUvarint(nil, v)) || v > max {
			return 0, false
		}
		p += n
		return v, true
	}
	str := func(max int) (string, bool) {
		l, ok := uv(uint64(max))
		if !ok || l == 0 || l > uint64(len(b)-p) {
			return "", false
		}
		s := string(b[p : p+int(l)])
		p += int(l)
		return s, true
	}
	n, ok := uv(maxBookEntries)
	if !ok || n > uint64(len(b)-p)/bookEntryMinSize {
		return nil, fmt.Errorf("%w: bad count", errBookDamaged)
	}
	out := make([]bookEntry, 0, n)
	for range n {
		var e bookEntry
		if e.peerID, ok = str(maxPeerIDLen); !ok {
			return nil, fmt.Errorf("%w: bad peer ID", errBookDamaged)
		}
		k, ok := uv(maxEntryAddrs)
		if !ok {
			return nil, fmt.Errorf("%w: bad address count", errBookDamaged)
		}
		for range k {
			a, ok := str(maxAddrLen)
			if !ok || a[0] != '/' {
				return nil, fmt.Errorf("%w: bad address", errBookDamaged)
			}
			e.addrs = append(e.addrs, a)
		}
		out = append(out, e)
	}
	if p != len(b) {
		return nil, fmt.Errorf("%w: trailing bytes", errBookDamaged)
	}
	return out, nil
}

type resetError struct{}

func (resetError) Error() string     { return "not a member" }
func (resetError) ResetStream() bool { return true }

// serveAddrs answers a member with the addresses of the community's members this install knows:
// those connected now (their current addresses) and those in its address book.
func (p *Peer) serveAddrs(_ context.Context, from ed25519.PublicKey, req []byte) ([]byte, error) {
	if len(req) != maxAddrsRequest || req[0] != bookVersion {
		return nil, errors.New("this address book request is damaged: update Kith")
	}
	id := community.Hash(req[1:33])
	if member, _ := p.Svc.IsMember(id, from); !member {
		return nil, resetError{}
	}
	return encodeBook(p.membersBook(id, from)), nil
}

// membersBook lists the addresses this install knows of a community's members, but the asker's.
func (p *Peer) membersBook(id community.Hash, asker ed25519.PublicKey) []bookEntry {
	node := p.Node()
	members, err := p.Svc.Members(id)
	if node == nil || err != nil {
		return nil
	}
	book := map[string][]string{}
	if saved, err := p.Store.Peers(); err == nil {
		for _, e := range saved {
			book[e.ID] = e.Addrs
		}
	}
	var out []bookEntry
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
			addrs = book[pid]
		}
		if len(addrs) > maxEntryAddrs {
			addrs = addrs[:maxEntryAddrs]
		}
		var keep []string
		for _, a := range addrs {
			if len(a) <= maxAddrLen {
				keep = append(keep, a)
			}
		}
		if len(keep) > 0 && len(out) < maxBookEntries {
			out = append(out, bookEntry{peerID: pid, addrs: keep})
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
		b, err := node.Request(rctx, peerID, ProtoAddrs, append([]byte{bookVersion}, id[:]...), maxAddrsAnswer)
		cancel()
		if err != nil {
			p.log.Debug("address book", "peer", peerID, "err", err)
			continue
		}
		entries, err := decodeBook(b)
		if err != nil {
			p.log.Debug("address book", "peer", peerID, "err", err)
			continue
		}
		for _, e := range entries {
			key, err := node.KeyOf(e.peerID)
			if err != nil || e.peerID == node.ID() {
				continue
			}
			if member, _ := p.Svc.IsMember(id, key); !member {
				continue // only members' addresses, whatever the answer says
			}
			var full []string
			for _, a := range e.addrs {
				if hasPeerSuffix(a, e.peerID) {
					full = append(full, a)
				}
			}
			if len(full) == 0 {
				continue
			}
			_ = node.AddAddrs(full...)
			p.remember(e.peerID, full, []community.Hash{id})
		}
	}
	p.dialMembers(ctx)
}

func hasPeerSuffix(addr, peerID string) bool {
	suffix := "/p2p/" + peerID
	return len(addr) > len(suffix) && addr[len(addr)-len(suffix):] == suffix
}
