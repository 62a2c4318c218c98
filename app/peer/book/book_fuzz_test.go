package book

import (
	"bytes"
	"testing"
)

// FuzzDecodeBook: the address book decoder (which reads other members' answers) never panics,
// and whatever it accepts is canonical: it encodes back to exactly the bytes it came from, so
// one answer has one meaning.
func FuzzDecodeBook(f *testing.F) {
	const pid = "12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE"
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Add(Encode(nil))
	f.Add(Encode([]Entry{{PeerID: pid}}))
	f.Add(Encode([]Entry{{PeerID: pid, Addrs: []string{"/ip4/127.0.0.1/tcp/4001/p2p/" + pid}}}))
	f.Add(Encode([]Entry{
		{PeerID: pid, Addrs: []string{"/ip4/192.168.1.7/tcp/4001/p2p/" + pid, "/ip4/192.168.1.7/udp/4001/quic-v1/p2p/" + pid}},
		{PeerID: "x", Addrs: []string{"/", "/ip6/::1/tcp/1"}},
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := Decode(b)
		if err != nil {
			return
		}
		if len(entries) > MaxEntries {
			t.Fatalf("accepted %d entries (limit %d)", len(entries), MaxEntries)
		}
		for _, e := range entries {
			if e.PeerID == "" || len(e.PeerID) > MaxPeerIDLen || len(e.Addrs) > MaxEntryAddrs {
				t.Fatalf("accepted an entry out of bounds: %q with %d addresses", e.PeerID, len(e.Addrs))
			}
			for _, a := range e.Addrs {
				if a == "" || a[0] != '/' || len(a) > MaxAddrLen {
					t.Fatalf("accepted an address that is not one: %q", a)
				}
			}
		}
		if out := Encode(entries); !bytes.Equal(out, b) {
			t.Fatalf("accepted a non-canonical answer:\n in  %x\n out %x", b, out)
		}
	})
}
