package community

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// TestBlobRoundTrip: files of every shape around the chunk size come back whole from their
// chunks; the manifest reads back the same and names the blob; a changed chunk, a chunk in the
// wrong place and another community's key are each refused.
func TestBlobRoundTrip(t *testing.T) {
	var key, other Key
	rand.Read(key[:])
	rand.Read(other[:])
	for _, size := range []int{0, 1, BlobChunkSize - 1, BlobChunkSize, BlobChunkSize + 1, 3*BlobChunkSize + BlobChunkSize/2} {
		file := make([]byte, size)
		rand.Read(file)
		var salt [16]byte
		rand.Read(salt[:])
		m, chunks, err := SealBlob(key, salt, "glaze.jpg", "image/jpeg", uint64(size), bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) != ChunksFor(uint64(size)) {
			t.Fatalf("%d bytes: %d chunks", size, len(chunks))
		}
		var out bytes.Buffer
		if err := m.Reassemble(key, chunks, &out); err != nil || !bytes.Equal(out.Bytes(), file) {
			t.Fatalf("%d bytes: reassembled %d, %v", size, out.Len(), err)
		}
		back, err := DecodeManifest(m.Encode())
		if err != nil || back.ID() != m.ID() || back.Name != "glaze.jpg" || back.Size != uint64(size) {
			t.Fatalf("%d bytes: manifest back: %+v, %v", size, back, err)
		}
		if _, err := m.OpenChunk(other, 0, chunks[0]); !errors.Is(err, ErrBadChunk) {
			t.Fatalf("another key: %v", err)
		}
		bad := bytes.Clone(chunks[0])
		bad[len(bad)-1] ^= 1
		if err := m.CheckChunk(0, bad); !errors.Is(err, ErrBadChunk) {
			t.Fatalf("a changed chunk: %v", err)
		}
		if len(chunks) > 1 {
			if _, err := m.OpenChunk(key, 0, chunks[1]); !errors.Is(err, ErrBadChunk) {
				t.Fatalf("a chunk in the wrong place: %v", err)
			}
		}
	}
	if _, _, err := SealBlob(key, [16]byte{}, "a", "", 10, bytes.NewReader(make([]byte, 5))); err == nil {
		t.Fatal("a file shorter than its size was sealed")
	}
	if _, _, err := SealBlob(key, [16]byte{}, "a", "", 5, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("a file that grew was sealed")
	}
	m, _, _ := SealBlob(key, [16]byte{1}, "a", "", 5, bytes.NewReader(make([]byte, 5)))
	m2, _, _ := SealBlob(key, [16]byte{2}, "a", "", 5, bytes.NewReader(make([]byte, 5)))
	if m.ID() == m2.ID() {
		t.Fatal("two salts, one ID")
	}
	enc := m.Encode()
	m.Chunks = append(m.Chunks, Hash{})
	if _, err := DecodeManifest(m.Encode()); err == nil {
		t.Fatal("a manifest whose chunks do not add up to its size was read")
	}
	if _, err := DecodeManifest(enc[:len(enc)-1]); err == nil {
		t.Fatal("a cut manifest was read")
	}
	m.Chunks = m.Chunks[:1]
	m.Name = "../../.config/autostart/x.desktop"
	if _, err := DecodeManifest(m.Encode()); err == nil {
		t.Fatal("a manifest naming a path was read")
	}
}

func TestCleanFileName(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"glaze test.jpg", "glaze test.jpg", true},
		{"  Café  menu.pdf ", "Café menu.pdf", true},
		{"../../.ssh/id_ed25519", "", false},
		{`C:\Users\bo\x.png`, "", false},
		{"evil\u202egnp.exe", "", false},
		{"bell\a.txt", "", false},
		{"..", "", false},
		{"", "", false},
	} {
		got, err := CleanFileName(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CleanFileName(%q) = %q, %v", c.in, got, err)
		}
	}
}
