package peer

import (
	"cmp"
	"crypto/ed25519"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/p2p"
)

// Limits of what an invite names: a few members, a few addresses each, one line short enough
// for a chat message and a QR code that a phone reads from a screen.
const (
	maxInviteAddrs = 4   // direct addresses of one member
	maxInviteText  = 700 // characters of an invite's text
)

// Invite issues an invite naming the members a joiner should try (this install among them),
// the most reachable first. The warning, when not empty, says why joiners may not reach anyone
// with it.
func (p *Peer) Invite(id community.Hash, ip app.InviteParams) (inv *invite.Invite, warning string, err error) {
	members, mine, err := p.inviteMembers(id, ip)
	if err != nil {
		return nil, "", err
	}
	ip.Members = members
	inv, err = p.Svc.Invite(id, ip)
	if err != nil {
		return nil, "", err
	}
	switch {
	case len(members) == 0:
		warning = "this invite names no member to reach: start `kithd run` (or the desktop app) once, then make a new invite"
	case !p.Running() && mine:
		warning = "Kith is not running here, so this invite names the addresses it last ran with: keep `kithd run` (or the desktop app) running so that people can join"
	}
	return inv, warning, nil
}

// inviteCandidate is a member an invite may name, with what this install knows of it.
type inviteCandidate struct {
	key    ed25519.PublicKey
	peerID string
	addrs  []string // full multiaddrs, as the node and the address book give them
	relay  bool     // it serves a relay (kithd run --relay)
	online bool     // connected to this install now
	self   bool
	seen   time.Time
}

// inviteMembers chooses the members an invite names (invite.MaxMembers at most), the most
// reachable first: those that serve a relay, then those online now, then this install, then
// the others by when they were last seen. Each has its direct addresses (public ones first,
// then the LAN's; loopback only when there is neither; maxInviteAddrs at most), the chosen
// members that relay for it, or else one relay that is not chosen. Addresses are dropped, the least useful first, until the text fits maxInviteText. mine
// reports whether this install is among them.
func (p *Peer) inviteMembers(id community.Hash, ip app.InviteParams) (out []invite.Member, mine bool, err error) {
	ms, err := p.Svc.Members(id)
	if err != nil {
		return nil, false, err
	}
	var cands []inviteCandidate
	book := map[string]int{}
	saved, _ := p.Store.Peers()
	for i, e := range saved {
		book[e.ID] = i
	}
	node := p.Node()
	for _, m := range ms {
		if !m.Active {
			continue
		}
		pid, err := PeerID(m.Key)
		if err != nil {
			continue
		}
		c := inviteCandidate{key: m.Key, peerID: pid, self: m.You}
		switch {
		case m.You:
			c.addrs, _ = p.Addrs()
			c.relay, c.online = p.opts.Relay, p.Running()
			c.seen = time.Now()
		default:
			if i, ok := book[pid]; ok {
				c.addrs, c.relay, c.seen = saved[i].Addrs, saved[i].Relay, saved[i].LastSeen
			}
			if node != nil {
				if _, ok := node.PathTo(pid); ok {
					c.online, c.seen = true, time.Now()
					c.relay = c.relay || node.IsRelay(pid)
					c.addrs = append(node.AddrsOf(pid), c.addrs...)
				}
			}
		}
		if slices.ContainsFunc(c.addrs, isCircuit) || len(directAddrs(c.peerID, c.addrs, 1)) > 0 {
			cands = append(cands, c) // a joiner can reach it: directly, or through a relay
		}
	}
	slices.SortStableFunc(cands, func(a, b inviteCandidate) int {
		if a.relay != b.relay {
			return boolFirst(a.relay)
		}
		if a.online != b.online {
			return boolFirst(a.online)
		}
		if a.self != b.self {
			return boolFirst(a.self)
		}
		return b.seen.Compare(a.seen)
	})
	cands = cands[:min(len(cands), invite.MaxMembers)]
	for _, c := range cands {
		mine = mine || c.self
		out = append(out, invite.Member{Key: c.key, Addrs: directAddrs(c.peerID, c.addrs, maxInviteAddrs)})
	}
	// Relayed addresses: through the members chosen, else through one relay that is not (it
	// relays for members of another community this install shares with it, say).
	for i, c := range cands {
		for _, a := range c.addrs {
			relay, raddr, ok := relayOf(a, c.peerID)
			if !ok {
				continue
			}
			j := slices.IndexFunc(cands, func(r inviteCandidate) bool { return r.peerID == relay })
			switch {
			case j == i:
			case j >= 0:
				if !slices.Contains(out[i].Via, j) {
					out[i].Via = append(out[i].Via, j)
				}
			case invite.CanCarry(raddr):
				key, err := p2p.KeyOfID(relay)
				if err != nil {
					continue
				}
				k := slices.IndexFunc(out[i].Relays, func(r invite.Relay) bool { return r.Key.Equal(key) })
				switch {
				case k < 0 && len(out[i].Relays) == 0:
					out[i].Relays = append(out[i].Relays, invite.Relay{Key: key, Addrs: []string{raddr}})
				case k >= 0 && len(out[i].Relays[k].Addrs) < 2 && !slices.Contains(out[i].Relays[k].Addrs, raddr):
					out[i].Relays[k].Addrs = append(out[i].Relays[k].Addrs, raddr)
				}
			}
		}
	}
	// Keep the line short: drop the last (least useful) address of the member with the most.
	params := invite.Params{Community: id, CommunityName: "x", Role: community.RoleMember, MaxUses: uint32(ip.Uses), Members: out}
	if cs, err := p.Svc.Communities(); err == nil {
		for _, c := range cs {
			if c.ID == id {
				params.CommunityName = c.Name
			}
		}
	}
	if ip.Expires > 0 {
		params.Expires = time.Now().Add(ip.Expires)
	}
	for {
		n, err := invite.TextLen(p.ID.PublicKey(), params)
		if err != nil || n <= maxInviteText {
			break
		}
		most := 0
		for i, m := range out {
			if len(m.Addrs) > len(out[most].Addrs) {
				most = i
			}
		}
		if len(out[most].Addrs) <= 1 {
			break
		}
		out[most].Addrs = out[most].Addrs[:len(out[most].Addrs)-1]
	}
	return out, mine, nil
}

// boolFirst orders true before false.
func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

// directAddrs are the direct addresses of peerID among full addrs that an invite can carry,
// without /p2p/<ID>, best first (public, then LAN; loopback only when there is neither), at
// most max of them.
func directAddrs(peerID string, addrs []string, max int) []string {
	type ranked struct {
		addr string
		rank int
	}
	var out []ranked
	for _, a := range addrs {
		bare, ok := strings.CutSuffix(a, "/p2p/"+peerID)
		if !ok && strings.Contains(a, "/p2p/") || !invite.CanCarry(bare) {
			continue
		}
		if slices.ContainsFunc(out, func(r ranked) bool { return r.addr == bare }) {
			continue
		}
		ip, err := netip.ParseAddr(strings.Split(bare, "/")[2])
		switch {
		case err != nil || ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsMulticast():
			continue // no use to anyone else
		case ip.IsLoopback():
			out = append(out, ranked{bare, 2})
		case ip.IsPrivate():
			out = append(out, ranked{bare, 1})
		default:
			out = append(out, ranked{bare, 0})
		}
	}
	slices.SortStableFunc(out, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
	if len(out) > 0 && out[0].rank < 2 {
		// Loopback reaches only this machine, where the LAN address works as well: it is for
		// installs that have nothing else (tests, a machine with no network).
		out = slices.DeleteFunc(out, func(r ranked) bool { return r.rank == 2 })
	}
	var keep []string
	for _, r := range out[:min(len(out), max)] {
		keep = append(keep, r.addr)
	}
	return keep
}

// relayOf returns the relay's peer ID and address of a circuit address of peerID
// (/<relay address>/p2p/<relay>/p2p-circuit/p2p/<peerID>).
func relayOf(addr, peerID string) (relay, relayAddr string, ok bool) {
	before, ok := strings.CutSuffix(addr, "/p2p-circuit/p2p/"+peerID)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(before, "/p2p/")
	if i < 0 {
		return "", "", false
	}
	return before[i+len("/p2p/"):], before[:i], true
}

// InviteMember is a member as an invite names it: its key and those of its addresses (full
// multiaddrs ending in /p2p/<ID>, as p2p.Node.Addrs gives them, or bare) that an invite can
// carry. Tests and benchmarks that wire installs by hand use it.
func InviteMember(key ed25519.PublicKey, addrs []string) invite.Member {
	pid, _ := PeerID(key)
	m := invite.Member{Key: key}
	for _, a := range addrs {
		if bare, _ := strings.CutSuffix(a, "/p2p/"+pid); invite.CanCarry(bare) {
			m.Addrs = append(m.Addrs, bare)
		}
	}
	return m
}

// memberJSON is a member an invite names, as `kithd invite --json` prints it.
type memberJSON struct {
	ID    string   `json:"id"`    // its key, as members --json prints it
	Addrs []string `json:"addrs"` // full multiaddrs, relayed ones included
}

// membersJSON lists the members an invite names with their full addresses.
func membersJSON(inv *invite.Invite) []memberJSON {
	out := []memberJSON{}
	for _, c := range app.Candidates(inv, PeerID) {
		j := memberJSON{ID: c.PeerID, Addrs: c.Addrs}
		for _, m := range inv.Members {
			if pid, _ := PeerID(m.Key); pid == c.PeerID {
				j.ID = fmt.Sprintf("%x", m.Key)
			}
		}
		out = append(out, j)
	}
	return out
}
