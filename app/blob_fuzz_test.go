package app

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/kith-app/kith/app/community"
)

// encodeBlobAnswer is a whole answer, as serveBlob writes it.
func encodeBlobAnswer(chunks [][]byte) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		_ = writeBlobChunk(&b, c)
	}
	return b.Bytes()
}

// FuzzDecodeBlob: the blob protocol's decoders (a request from any member, an answer from any
// member) never panic nor read past their input, and what they accept encodes back the same.
func FuzzDecodeBlob(f *testing.F) {
	f.Add(encodeBlobRequest(community.Hash{1}, community.Hash{2}, []int{0, 300, 8191}), uint8(2))
	f.Add(encodeBlobAnswer([][]byte{nil, []byte("chunk"), {}}), uint8(3))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		if id, blob, places, err := decodeBlobRequest(b); err == nil && !bytes.Equal(encodeBlobRequest(id, blob, places), b) {
			t.Fatal("a request does not encode back to its bytes")
		}
		var chunks [][]byte
		err := readBlobAnswer(bufio.NewReader(bytes.NewReader(b)), int(n%32), nil, func(_ int, c []byte) error {
			if c != nil {
				c = bytes.Clone(c)
			}
			chunks = append(chunks, c)
			return nil
		})
		if err == nil && !bytes.Equal(encodeBlobAnswer(chunks), b) {
			t.Fatal("an answer does not encode back to its bytes")
		}
	})
}
