package app

import (
	"bytes"
	"testing"

	"github.com/kith-app/kith/app/community"
)

// FuzzDecodeSync: the sync stream's decoders never panic nor allocate beyond their input, and
// what they accept encodes back to the same bytes.
func FuzzDecodeSync(f *testing.F) {
	f.Add(syncRequest{community: community.Hash{1}, mark: 42}.encode())
	f.Add(syncRequest{community: community.Hash{2}, heads: []syncHead{{author: [32]byte{3}, seq: 300, id: community.Hash{4}}, {seq: 1}}}.encode())
	f.Add(syncAnswer{next: 7, latest: 900, more: true, events: [][]byte{[]byte("one"), {}, []byte("three")}}.encode())
	f.Add(syncAnswer{}.encode())
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeSyncRequest(b); err == nil && !bytes.Equal(r.encode(), b) {
			t.Fatal("request does not re-encode to its bytes")
		}
		if a, err := decodeSyncAnswer(b); err == nil && !bytes.Equal(a.encode(), b) {
			t.Fatal("answer does not re-encode to its bytes")
		}
	})
}
