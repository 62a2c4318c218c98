package storage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"testing"
)

// testLogger sends the store's warnings and errors to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openTest opens a store in dir and closes it when the test ends.
func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func hash32(parts ...any) [32]byte {
	var buf bytes.Buffer
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			buf.WriteString(v)
		case []byte:
			buf.Write(v)
		default:
			_ = binary.Write(&buf, binary.BigEndian, v)
		}
		buf.WriteByte(0)
	}
	return sha256.Sum256(buf.Bytes())
}

func community(n int) CommunityID { return CommunityID(hash32("community", int64(n))) }
func author(n int) AuthorKey      { return AuthorKey(hash32("author", int64(n))) }
func channel(n int) ChannelID     { return ChannelID(hash32("channel", int64(n))) }

// envelopeFor is the envelope stored for event id: deterministic, so a test
// can check bytes read back without keeping them.
func envelopeFor(id EventID, size int) []byte {
	env := make([]byte, 0, size)
	for len(env) < size {
		env = append(env, id[:]...)
	}
	return env[:size]
}

// noiseFor is an incompressible envelope for event id, deterministic.
func noiseFor(id EventID, size int) []byte {
	env := make([]byte, size)
	_, _ = rand.NewChaCha8(id).Read(env)
	return env
}

// ev builds an event; its ID is derived from all header fields and salt.
func ev(c CommunityID, a AuthorKey, seq, lamport uint64, ch ChannelID, authority bool, salt string) Event {
	id := EventID(hash32(c[:], a[:], seq, lamport, ch[:], authority, salt))
	return Event{
		Community: c, ID: id, Author: a, Seq: seq, Lamport: lamport,
		Channel: ch, Authority: authority, Envelope: envelopeFor(id, 100),
	}
}

func sameEvent(t testing.TB, got, want Event) {
	t.Helper()
	if got.Community != want.Community || got.ID != want.ID || got.Author != want.Author ||
		got.Seq != want.Seq || got.Lamport != want.Lamport || got.Channel != want.Channel ||
		got.Authority != want.Authority || !bytes.Equal(got.Envelope, want.Envelope) {
		t.Fatalf("event differs:\n got  %x seq %d lamport %d ch %x auth %v env %d bytes\n want %x seq %d lamport %d ch %x auth %v env %d bytes",
			got.ID[:6], got.Seq, got.Lamport, got.Channel[:4], got.Authority, len(got.Envelope),
			want.ID[:6], want.Seq, want.Lamport, want.Channel[:4], want.Authority, len(want.Envelope))
	}
}

func ids(evs []Event) []EventID {
	out := make([]EventID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}
