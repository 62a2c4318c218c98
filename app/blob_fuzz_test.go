package app

import (
	"bytes"
	"testing"

	"github.com/kith-app/kith/app/community"
)

// FuzzDecodeBlob: the blob protocol's decoders (a request from any member, an answer from any
// member) never panic nor read past their input, and what they accept encodes back the same.
func FuzzDecodeBlob(f *testing.F) {
	f.Add(encodeBlobRequest(community.Hash{1}, []community.Hash{{2}, {3}}), uint8(2))
	f.Add(encodeBlobAnswer([][]byte{nil, []byte("chunk"), {}}), uint8(3))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		if id, hs, err := decodeBlobRequest(b); err == nil && !bytes.Equal(encodeBlobRequest(id, hs), b) {
			t.Fatal("a request does not encode back to its bytes")
		}
		if chunks, err := decodeBlobAnswer(b, int(n%32)); err == nil && !bytes.Equal(encodeBlobAnswer(chunks), b) {
			t.Fatal("an answer does not encode back to its bytes")
		}
	})
}
