package community

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"
)

// benchFixture is a community with a member and one 300-byte message of theirs, as received.
func benchFixture(b *testing.B) (wire []byte, v *view, s *State, k *Keyring, msg *Event) {
	c, v := newCommunity(b, 0)
	a := newPerson(b, "a")
	c.admit(v, c.owner, a, RoleMember)
	c.say(v, a, "first")
	msg = c.say(v, a, string(make([]byte, 300)))
	k = NewKeyring(c.owner)
	for _, e := range v.authority() {
		k.Learn(e)
	}
	return msg.Encode(), v, v.state(b), k, msg
}

// validate is the full check of one received content event: bounded decode, signature and
// body hash, the Lamport and chain rules, membership at its point, and decryption.
func validate(wire []byte, v *view, s *State, k *Keyring) error {
	e, err := Decode(wire)
	if err != nil {
		return err
	}
	if err := CheckCausal(&e.Header, v.lookup); err != nil {
		return err
	}
	if err := s.CheckContent(e); err != nil {
		return err
	}
	_, err = k.Open(e)
	return err
}

func BenchmarkEd25519Sign(b *testing.B) {
	p := newPerson(b, "p")
	msg := make([]byte, 250)
	for b.Loop() {
		p.Sign(msg)
	}
}

func BenchmarkEd25519Verify(b *testing.B) {
	p := newPerson(b, "p")
	msg := make([]byte, 250)
	sig, _ := p.Sign(msg)
	for b.Loop() {
		ed25519.Verify(p.PublicKey(), msg, sig)
	}
}

func BenchmarkBuild(b *testing.B) {
	p := newPerson(b, "p")
	body := make([]byte, 300)
	prev, _ := Build(p, Draft{Community: Hash{1}, Kind: KindMessage, Body: body, Deps: []Position{{1, Hash{2}}}, Time: t0})
	for b.Loop() {
		Build(p, Draft{Community: Hash{1}, Kind: KindMessage, Body: body, Prev: prev, Time: t0})
	}
}

// BenchmarkDecode is the envelope decode alone, without the signature check's share: see
// BenchmarkValidate for the whole.
func BenchmarkDecodeHeader(b *testing.B) {
	_, _, _, _, msg := benchFixture(b)
	raw, _ := msg.RawHeader()
	for b.Loop() {
		if _, err := decodeHeader(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	wire, _, _, _, _ := benchFixture(b)
	for b.Loop() {
		if _, err := Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	wire, v, s, k, _ := benchFixture(b)
	for b.Loop() {
		if err := validate(wire, v, s, k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateVsVerify measures one Ed25519 verify and the full validation of one event in
// the same run, interleaved, and reports their ratio (the target is at most 1.2).
func BenchmarkValidateVsVerify(b *testing.B) {
	wire, v, s, k, msg := benchFixture(b)
	raw, sig := msg.RawHeader()
	signed := signingBytes(raw)
	var tv, tf time.Duration
	for b.Loop() {
		t := time.Now()
		ed25519.Verify(msg.Author, signed, sig)
		t2 := time.Now()
		if err := validate(wire, v, s, k); err != nil {
			b.Fatal(err)
		}
		tf += time.Since(t2)
		tv += t2.Sub(t)
	}
	b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "validate-ns/op")
	b.ReportMetric(float64(tf)/float64(tv), "ratio")
}

func BenchmarkFold100(b *testing.B) {
	c, v := newCommunity(b, 0)
	for range 50 {
		c.admit(v, c.owner, newPerson(b, "m"), RoleMember)
	}
	auth := v.authority()
	for b.Loop() {
		if _, err := Fold(auth); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBatch500: a sync answer of one author's 500 linked events, decoded with one
// signature check (DecodeBatch) versus one per event (Decode).
func BenchmarkDecodeBatch500(b *testing.B) {
	c, v := newCommunity(b, 0)
	var envs [][]byte
	for i := range 500 {
		envs = append(envs, c.say(v, c.owner, fmt.Sprintf("message %d", i)).Encode())
	}
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			if got, errs := DecodeBatch(envs); len(got) != 500 || len(errs) != 0 {
				b.Fatal("refused")
			}
		}
	})
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			for _, e := range envs {
				if _, err := Decode(e); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
