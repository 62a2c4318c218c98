package probe

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	c, other := [32]byte{1}, [32]byte{2}
	nonce := [NonceSize]byte{9}
	responder, asker := bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32)
	r := Request{Nonce: nonce, Tag: Tag(c, nonce, responder)}
	got, err := DecodeRequest(r.Encode())
	if err != nil || got != r {
		t.Fatalf("request: %+v, %v", got, err)
	}
	if !Equal(got.Tag, Tag(c, nonce, responder)) || Equal(got.Tag, Tag(other, nonce, responder)) ||
		Equal(got.Tag, Tag(c, nonce, asker)) || Equal(got.Tag, Tag(c, [NonceSize]byte{8}, responder)) {
		t.Fatal("a tag names one community, one nonce and one responder")
	}
	proof := Proof(c, nonce, asker)
	if p, err := DecodeAnswer(EncodeAnswer(proof)); err != nil || !Equal(p, proof) || Equal(p, got.Tag) {
		t.Fatalf("answer: %v", err)
	}
	for _, b := range [][]byte{nil, {1}, append(r.Encode(), 0), append([]byte{2}, r.Encode()[1:]...)} {
		if _, err := DecodeRequest(b); err == nil {
			t.Fatalf("request %x decoded", b)
		}
		if _, err := DecodeAnswer(b); err == nil {
			t.Fatalf("answer %x decoded", b)
		}
	}
}

func FuzzDecode(f *testing.F) {
	nonce := [NonceSize]byte{9}
	req := Request{Nonce: nonce, Tag: Tag([32]byte{1}, nonce, make([]byte, 32))}.Encode()
	f.Add(req)
	f.Add(EncodeAnswer(Proof([32]byte{1}, nonce, make([]byte, 32))))
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(append(req, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeRequest(b); err == nil && !bytes.Equal(r.Encode(), b) {
			t.Fatal("a request decodes to another encoding")
		}
		if p, err := DecodeAnswer(b); err == nil && !bytes.Equal(EncodeAnswer(p), b) {
			t.Fatal("an answer decodes to another encoding")
		}
	})
}
