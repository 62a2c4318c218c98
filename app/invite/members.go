package invite

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// Member is a member of the community that an invite names as one to try: its key (its peer's
// identity), the addresses it was last seen on, and the members of the same invite whose relay
// reaches it. Members are hints for finding the community, not part of what the issuer signs:
// the text's checksum guards them, and a joiner that reaches none looks further (the LAN, the
// rendezvous), so they never make an invite unusable.
type Member struct {
	// Key is the member's Ed25519 public key.
	Key ed25519.PublicKey
	// Addrs are direct addresses, multiaddrs without /p2p/<ID>: "/ip4/203.0.113.7/tcp/4001",
	// "/ip6/2001:db8::7/udp/4001/quic-v1". See [CanCarry].
	Addrs []string
	// Via lists the positions, in Invite.Members, of members that relay for this one: it is
	// reached at /<their address>/p2p/<their ID>/p2p-circuit/p2p/<its ID>.
	Via []int
	// Relays are relays the invite does not name as members that reach this one: an always-on
	// host that relays for members of another community of the same person, say.
	Relays []Relay
}

// Relay is a relay through which a member is reached: the relay's key and direct addresses
// (as Member.Addrs).
type Relay struct {
	Key   ed25519.PublicKey
	Addrs []string
}

// Limits of the members an invite names.
const (
	// MaxMembers is how many members an invite names at most.
	MaxMembers = 3
	// MaxMemberAddrs is how many address entries one member may have; an entry is an IP and a
	// port over TCP, QUIC or both (so up to 16 addresses), or a relaying member.
	MaxMemberAddrs = 8
)

// Address entry kinds: the low two bits say what follows, the next two the transports.
const (
	kindIP4     = 1 // ip4[4] | port[2]
	kindIP6     = 2 // ip6[16] | port[2]
	kindRelayed = 3 // index[1] of the relaying member
	kindRelay   = 4 // key[32] | an IPv4 or IPv6 entry: a relay the list does not name
	kindTCP     = 1 << 2
	kindQUIC    = 1 << 3
	memberFlag  = 1 << 0 // member flags: the member is the issuer (its key is left out)
)

// addrEntry is one IP and port with the transports it serves, or a relaying member.
type addrEntry struct {
	ip        netip.Addr
	port      uint16
	tcp, quic bool
	via       int               // kindRelayed: the relaying member's position; -1 otherwise
	relay     ed25519.PublicKey // kindRelay: the relay's key (ip, port and transports: its address)
}

// parseAddr reads a direct address an invite can carry: /ip4 or /ip6, then /tcp/PORT or
// /udp/PORT/quic-v1, in canonical text (no zone, no leading zeros).
func parseAddr(s string) (addrEntry, bool) {
	e := addrEntry{via: -1}
	parts := strings.Split(s, "/")
	if len(parts) < 5 || parts[0] != "" {
		return e, false
	}
	ip, err := netip.ParseAddr(parts[2])
	if err != nil || ip.Zone() != "" || ip.String() != parts[2] {
		return e, false
	}
	switch parts[1] {
	case "ip4":
		if !ip.Is4() {
			return e, false
		}
	case "ip6":
		if !ip.Is6() {
			return e, false
		}
	default:
		return e, false
	}
	port, err := strconv.Atoi(parts[4])
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != parts[4] {
		return e, false
	}
	e.ip, e.port = ip, uint16(port)
	switch {
	case len(parts) == 5 && parts[3] == "tcp":
		e.tcp = true
	case len(parts) == 6 && parts[3] == "udp" && parts[5] == "quic-v1":
		e.quic = true
	default:
		return e, false
	}
	return e, true
}

// CanCarry reports whether an invite can carry addr as a member's direct address: an IPv4 or
// IPv6 address with a TCP port or a QUIC (quic-v1) port, without /p2p/<ID>. DNS names, other
// transports and relayed addresses are left out (a relay is named as a member of its own, see
// Member.Via).
func CanCarry(addr string) bool {
	_, ok := parseAddr(addr)
	return ok
}

// ipEntries groups addresses: one entry per IP and port, in the order of their first address.
func ipEntries(addrs []string) ([]addrEntry, error) {
	var out []addrEntry
	for _, a := range addrs {
		e, ok := parseAddr(a)
		if !ok {
			return nil, errors.New("the address " + strconv.Quote(a) + " is not one an invite can carry (IPv4 or IPv6 with a TCP or QUIC port)")
		}
		merged := false
		for i := range out {
			if out[i].ip == e.ip && out[i].port == e.port {
				out[i].tcp = out[i].tcp || e.tcp
				out[i].quic = out[i].quic || e.quic
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, e)
		}
	}
	return out, nil
}

// entries groups a member's addresses: one entry per IP and port, in the order of their first
// address, then one per relaying member, then one per address of each relay not named.
func (m *Member) entries() ([]addrEntry, error) {
	out, err := ipEntries(m.Addrs)
	if err != nil {
		return nil, err
	}
	for _, v := range m.Via {
		if v < 0 || v > 255 {
			return nil, errors.New("a member is relayed through a member the invite does not name")
		}
		out = append(out, addrEntry{via: v})
	}
	for _, r := range m.Relays {
		if len(r.Key) != ed25519.PublicKeySize || len(r.Addrs) == 0 {
			return nil, errors.New("a relay has no key or no address")
		}
		es, err := ipEntries(r.Addrs)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			e.relay = r.Key
			out = append(out, e)
		}
	}
	if len(out) > MaxMemberAddrs {
		return nil, errors.New("a member has more than " + strconv.Itoa(MaxMemberAddrs) + " addresses")
	}
	return out, nil
}

// encodeMembers is the members part of a version-2 text:
//
//	uvarint n (0..3) | n × (flags[1] | key[32] unless flags&1 | uvarint k (0..8) | k × entry)
//	entry = kind[1] | ip4[4] or ip6[16] | port[2]     kind = 1 or 2, | 4 for TCP, | 8 for QUIC
//	      | kind[1]=3 | index[1]                       relayed through member #index
//	      | kind[1]=4 | key[32] | entry of kind 1 or 2  relayed through a relay not named
func encodeMembers(issuer ed25519.PublicKey, ms []Member) ([]byte, error) {
	if len(ms) > MaxMembers {
		return nil, errors.New("it names more than " + strconv.Itoa(MaxMembers) + " members")
	}
	b := binary.AppendUvarint(nil, uint64(len(ms)))
	for i, m := range ms {
		if len(m.Key) != ed25519.PublicKeySize {
			return nil, errors.New("a member's key is not 32 bytes")
		}
		for _, o := range ms[:i] {
			if bytes.Equal(o.Key, m.Key) {
				return nil, errors.New("it names a member twice")
			}
		}
		es, err := m.entries()
		if err != nil {
			return nil, err
		}
		if bytes.Equal(m.Key, issuer) {
			b = append(b, memberFlag)
		} else {
			b = append(b, 0)
			b = append(b, m.Key...)
		}
		b = binary.AppendUvarint(b, uint64(len(es)))
		for _, e := range es {
			if e.via >= 0 {
				if e.via == i || e.via >= len(ms) {
					return nil, errors.New("a member is relayed through a member the invite does not name")
				}
				b = append(b, kindRelayed, byte(e.via))
				continue
			}
			if e.relay != nil {
				b = append(b, kindRelay)
				b = append(b, e.relay...)
			}
			kind := byte(kindIP6)
			if e.ip.Is4() {
				kind = kindIP4
			}
			if e.tcp {
				kind |= kindTCP
			}
			if e.quic {
				kind |= kindQUIC
			}
			b = append(b, kind)
			b = append(b, e.ip.AsSlice()...)
			b = binary.BigEndian.AppendUint16(b, e.port)
		}
	}
	return b, nil
}

// decodeMembers reads the members part of a version-2 text strictly: it must be exactly one
// canonical encoding (re-encoding gives the same bytes).
func decodeMembers(issuer ed25519.PublicKey, b []byte) ([]Member, error) {
	r := reader{b: b, ok: true}
	n := r.uvarint(MaxMembers)
	var ms []Member
	for i := uint64(0); i < n && r.ok; i++ {
		var m Member
		switch flags := r.u8(); flags {
		case memberFlag:
			m.Key = bytes.Clone(issuer)
		case 0:
			m.Key = bytes.Clone(r.take(ed25519.PublicKeySize))
		default:
			r.ok = false
		}
		k := r.uvarint(MaxMemberAddrs)
		for j := uint64(0); j < k && r.ok; j++ {
			kind := r.u8()
			var relay ed25519.PublicKey
			switch {
			case kind == kindRelayed:
				m.Via = append(m.Via, int(r.u8()))
				continue
			case kind == kindRelay:
				relay = bytes.Clone(r.take(ed25519.PublicKeySize))
				kind = r.u8()
			}
			if kind&^(kindTCP|kindQUIC|3) != 0 || kind&(kindTCP|kindQUIC) == 0 {
				r.ok = false
				continue
			}
			var ip netip.Addr
			switch kind & 3 {
			case kindIP4:
				ip = netip.AddrFrom4([4]byte(pad(r.take(4), 4)))
			case kindIP6:
				ip = netip.AddrFrom16([16]byte(pad(r.take(16), 16)))
			default:
				r.ok = false
				continue
			}
			port := binary.BigEndian.Uint16(pad(r.take(2), 2))
			proto := "/ip6/"
			if ip.Is4() {
				proto = "/ip4/"
			}
			base := proto + ip.String()
			p := strconv.Itoa(int(port))
			addrs := &m.Addrs
			if relay != nil { // consecutive entries of one relay make one Relay
				if n := len(m.Relays); n == 0 || !bytes.Equal(m.Relays[n-1].Key, relay) {
					m.Relays = append(m.Relays, Relay{Key: relay})
				}
				addrs = &m.Relays[len(m.Relays)-1].Addrs
			}
			if kind&kindTCP != 0 {
				*addrs = append(*addrs, base+"/tcp/"+p)
			}
			if kind&kindQUIC != 0 {
				*addrs = append(*addrs, base+"/udp/"+p+"/quic-v1")
			}
		}
		ms = append(ms, m)
	}
	if !r.ok {
		return nil, malformed("its list of members is cut short or wrong")
	}
	if len(r.b) != 0 {
		return nil, malformed("it has extra bytes at the end")
	}
	again, err := encodeMembers(issuer, ms)
	if err != nil {
		return nil, malformed(err.Error())
	}
	if !bytes.Equal(again, b) {
		return nil, malformed("its list of members is not in canonical form")
	}
	return ms, nil
}

// pad returns b, or n zero bytes when b is nil (a short read: the reader has failed already).
func pad(b []byte, n int) []byte {
	if len(b) == n {
		return b
	}
	return make([]byte, n)
}
