package invite

import "testing"

func BenchmarkParse(b *testing.B) {
	text := issue(b, ownerKey, testParams()).String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDamaged(b *testing.B) {
	text := []byte(issue(b, ownerKey, testParams()).String())
	text[100] ^= 1
	s := string(text)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(s); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	inv := issue(b, ownerKey, testParams())
	l := newLedger()
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(&inv.Signed, community, t0, l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyJoin(b *testing.B) {
	inv := issue(b, ownerKey, testParams())
	x := make([]byte, 32)
	proof := inv.ProveJoin(pub(joinerKey), x, pub(admitterKey))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyJoin(&inv.Signed, pub(joinerKey), x, pub(admitterKey), proof); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueString(b *testing.B) {
	s := keySigner{ownerKey}
	p := testParams()
	b.ReportAllocs()
	for b.Loop() {
		inv, err := Issue(s, p, nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = inv.String()
	}
}
