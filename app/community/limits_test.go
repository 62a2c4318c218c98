package community

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// TestWhatWritersAcceptReadersDecode: for every field of the limits table, any text a writer
// accepts (Limit.CleanText, Limit.CleanName) encodes into a body that the readers decode to the
// same text, and anything over the limit is refused by the writer with a sentence naming the
// field. Runes of 1 to 4 bytes, around the limit.
func TestWhatWritersAcceptReadersDecode(t *testing.T) {
	runes := []rune{'a', 'Z', ' ', '\n', 'é', 'ß', '中', '日', '😀', '\u0301', 'ﬁ'}
	bodies := map[string]func(s string) Body{
		LimitCommunityName.Field: func(s string) Body { return &CommunityEdit{Name: s} },
		LimitDisplayName.Field:   func(s string) Body { return &TransferOwner{NewOwnerName: s, NewOwner: make([]byte, 32)} },
		LimitChannelName.Field:   func(s string) Body { return &ChannelCreate{Name: s, Type: ChannelChat} },
		LimitAbout.Field:         func(s string) Body { return &CommunityEdit{Name: "x", About: s} },
		LimitText.Field:          func(s string) Body { c := NewContent(KindMessage); c.Text = s; return c },
		LimitReason.Field:        func(s string) Body { return &Remove{Target: make([]byte, 32), Reason: s} },
		LimitOption.Field:        func(s string) Body { c := NewContent(KindPoll); c.Options = []string{s}; return c },
		LimitWelcome.Field:       func(s string) Body { return &Settings{Welcome: s, Rules: s} },
		LimitQuestion.Field:      func(s string) Body { return &Settings{Questions: []string{s}} },
	}
	// Answers travel sealed, not in a body: TestAnswers takes them to the limit.
	if len(bodies) != len(Limits)-1 {
		t.Fatalf("%d fields in the table, %d tested", len(Limits), len(bodies))
	}
	rapid.Check(t, func(rt *rapid.T) {
		l := rapid.SampledFrom(Limits).Draw(rt, "field")
		if l == LimitAnswer {
			return
		}
		n := rapid.IntRange(0, l.Max/utf8.UTFMax*utf8.UTFMax/2+l.Max/2+8).Draw(rt, "runes")
		var b strings.Builder
		for range n {
			b.WriteRune(rapid.SampledFrom(runes).Draw(rt, "rune"))
		}
		s := b.String()
		clean := l.CleanText
		if strings.Contains(l.Field, "name") || l == LimitOption || l == LimitQuestion {
			clean = l.CleanName
		}
		got, err := clean(s)
		if err != nil {
			var f *FieldError
			if !errors.As(err, &f) || !strings.Contains(f.Msg, l.Field) {
				rt.Fatalf("%s: refused with %v, want a FieldError naming the field", l.Field, err)
			}
			if errors.Is(err, ErrTooLong) && len(got) == 0 && len(strings.TrimSpace(s)) <= l.Max && utf8.ValidString(s) {
				// Normal form C can only shorten these runes or keep them: nothing within the
				// limit may be refused as too long.
				rt.Fatalf("%s: %d bytes refused as too long", l.Field, len(strings.TrimSpace(s)))
			}
			return
		}
		if len(got) > l.Max {
			rt.Fatalf("%s: accepted %d bytes, over %d", l.Field, len(got), l.Max)
		}
		body := bodies[l.Field](got)
		enc, err := Encode(body)
		if err != nil {
			rt.Fatalf("%s: Encode refused what the writer accepted: %v", l.Field, err)
		}
		dec := newBody(body.Kind())
		if _, err := decodeBodyInto(dec, enc); err != nil {
			rt.Fatalf("%s: the reader refused %d bytes the writer accepted: %v", l.Field, len(got), err)
		}
		if string(EncodeBody(dec)) != string(enc) {
			rt.Fatalf("%s: the body did not decode to the same bytes", l.Field)
		}
	})
}

// TestWritersRefuseOverTheLimit: one byte over each limit is refused by the writer with a
// sentence that names the field and the limit, and SealContent and Encode refuse it too.
func TestWritersRefuseOverTheLimit(t *testing.T) {
	for _, l := range Limits {
		s := strings.Repeat("a", l.Max+1)
		err := l.Check(s)
		var f *FieldError
		if !errors.As(err, &f) || !errors.Is(err, ErrTooLong) || !strings.Contains(f.Msg, l.Field) || !strings.Contains(f.Msg, thousands(l.Max)) {
			t.Errorf("%s: %v, want ErrTooLong naming the field and %d", l.Field, err, l.Max)
		}
		if err := l.Check(s[1:]); err != nil {
			t.Errorf("%s: exactly the limit refused: %v", l.Field, err)
		}
	}
	c := NewContent(KindMessage)
	c.Text = strings.Repeat("a", LimitText.Max+1)
	var key Key
	if _, err := SealContent(key, Hash{}, Hash{}, make([]byte, 32), c, rand.Reader); !errors.Is(err, ErrTooLong) {
		t.Errorf("SealContent of a message over the limit: %v, want ErrTooLong", err)
	}
	c = NewContent(KindPoll)
	c.Options = []string{strings.Repeat("o", LimitOption.Max+1)}
	if _, err := Encode(c); !errors.Is(err, ErrTooLong) {
		t.Errorf("Encode of a poll option over the limit: %v, want ErrTooLong", err)
	}
	c.Options = make([]string, maxOptions+1)
	if _, err := Encode(c); !errors.Is(err, ErrTooLong) {
		t.Errorf("Encode of %d poll options: %v, want ErrTooLong", maxOptions+1, err)
	}
}

func TestCleanName(t *testing.T) {
	ok := []struct{ in, want string }{
		{"  Ana  ", "Ana"},
		{"Ana   Lopez", "Ana Lopez"},
		{"Ana\tLopez", "Ana Lopez"},
		{"Jose\u0301", "José"}, // normal form C
		{"中村 さくら", "中村 さくら"},
		{"Sam 👨\u200d👩\u200d👧", "Sam 👨\u200d👩\u200d👧"}, // joiners inside an emoji stay
		{strings.Repeat("😀", 25), strings.Repeat("😀", 25)},
		{"Ana\u2028Bob\u0085", "Ana Bob"}, // line separators are spaces
	}
	for _, tt := range ok {
		got, err := LimitDisplayName.CleanName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []struct {
		in   string
		kind error
	}{
		{"", ErrEmpty},
		{"   ", ErrEmpty},
		{"\u200b", ErrBadText},
		{strings.Repeat("😀", 26), ErrTooLong},
		{"Ana\u202e", ErrBadText},               // right-to-left override
		{"An\u200ba", ErrBadText},               // zero-width space
		{"Ana\u200d", ErrBadText},               // a joiner after a letter
		{"A\u2066na", ErrBadText},               // a direction isolate
		{"\x1b[2JAna", ErrBadText},              // an escape sequence
		{"Ana\x00", ErrBadText},                 // NUL
		{"Ana\ufeff", ErrBadText},               // byte-order mark
		{"Ana\ue000", ErrBadText},               // private use
		{"\u3164", ErrBadText},                  // Hangul filler: looks blank
		{"Ana\u0080", ErrBadText},               // a C1 control
		{string([]byte{0xff, 'A'}), ErrBadText}, // not UTF-8
	}
	for _, tt := range bad {
		got, err := LimitDisplayName.CleanName(tt.in)
		var f *FieldError
		if !errors.Is(err, tt.kind) || !errors.As(err, &f) || !strings.Contains(f.Msg, "display name") {
			t.Errorf("CleanName(%q) = %q, %v; want %v with a sentence naming the field", tt.in, got, err, tt.kind)
		}
	}
}

func TestCleanText(t *testing.T) {
	got, err := LimitText.CleanText("  line one\n\tline two \u200f!  ")
	if err != nil || got != "line one\n\tline two \u200f!" {
		t.Errorf("CleanText kept %q, %v", got, err)
	}
	for _, in := range []string{"hi \x1b[2J", "a\x07", "evil \u202egnp.exe", "\u202dx", "a\rb"} {
		if _, err := LimitText.CleanText(in); !errors.Is(err, ErrBadText) {
			t.Errorf("CleanText(%q): %v, want ErrBadText", in, err)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tt := range []struct {
		in    string
		lines bool
		want  string
	}{
		{"plain 中文 😀", false, "plain 中文 😀"},
		{"\x1b]0;title\x07", false, `\u{1b}]0;title\u{7}`},
		{"a\nb\tc", true, "a\nb\tc"},
		{"a\nb", false, `a\u{a}b`},
		{"gnp\u202e.exe", true, `gnp\u{202e}.exe`},
		{"zero\u200bwidth", true, `zero\u{200b}width`},
		{"c1\u009b31m", true, `c1\u{9b}31m`},
		{string([]byte{'a', 0xff}), true, "a\ufffd"},
	} {
		if got := Printable(tt.in, tt.lines); got != tt.want {
			t.Errorf("Printable(%q, %v) = %q, want %q", tt.in, tt.lines, got, tt.want)
		}
	}
}

func TestNameKey(t *testing.T) {
	same := [][2]string{
		{"Owner", "owner"},
		{"Owner", "OWNER"},
		{"Owner", "0wner"},
		{"Owner", "Оwner"}, // Cyrillic O
		{"Paypal", "PayPaI"},
		{"Ana Lopez", "ana_lopez"},
		{"Mia", "Mía"},
		{"Emma", "Ernma"},
		{"Ｏｗｎｅｒ", "Owner"}, // full width
		{"Alice", "Αlice"}, // Greek capital alpha
	}
	for _, p := range same {
		if NameKey(p[0]) != NameKey(p[1]) {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q: want the same", p[0], NameKey(p[0]), p[1], NameKey(p[1]))
		}
	}
	differ := [][2]string{{"Ana", "Anna"}, {"Sam", "Pam"}, {"中村", "木村"}, {"Bob", "Rob"}}
	for _, p := range differ {
		if NameKey(p[0]) == NameKey(p[1]) {
			t.Errorf("NameKey(%q) = NameKey(%q) = %q: want them apart", p[0], p[1], NameKey(p[0]))
		}
	}
}

// TestLookAlikeNames: an admitter refuses a joiner whose name is too close to an active
// member's (the owner's included), with a sentence that says to pick another; a name freed by
// a member who left can be taken. Two look-alike joins admitted on either side of a partition
// both stand, and every peer marks the later one in the log's order the same way.
func TestLookAlikeNames(t *testing.T) {
	c, v := newCommunity(t, 0)
	ana := newPerson(t, "0WNER")
	inv := c.invite(c.owner, RoleMember, 0)
	err := v.state(t).CheckJoin(joinRequest(t, inv, ana, c.owner), c.owner.PublicKey(), t0)
	if !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), "join again with another name") {
		t.Fatalf("a joiner named like the owner: %v, want ErrNameTaken", err)
	}
	ana.name = "Ana"
	if err := v.state(t).CheckJoin(joinRequest(t, inv, ana, c.owner), c.owner.PublicKey(), t0); err != nil {
		t.Fatalf("Ana: %v", err)
	}
	rlo := newPerson(t, "Ana\u202e")
	if err := v.state(t).CheckJoin(joinRequest(t, inv, rlo, c.owner), c.owner.PublicKey(), t0); !errors.Is(err, ErrBadText) && !errors.Is(err, ErrInvalid) {
		t.Errorf("a name with a direction override: %v, want it refused", err)
	}

	mod := newPerson(t, "mod")
	c.admit(v, c.owner, mod, RoleModerator)
	// A partition: the owner admits Ana on one side, the moderator "ANA" on the other.
	left, right := v.clone(), v.clone()
	first := c.write(left, c.owner, KindJoin, c.joinBody(c.invite(c.owner, RoleMember, 1), ana, c.owner))
	twin := newPerson(t, "ANA")
	second := c.write(right, mod, KindJoin, c.joinBody(c.invite(c.owner, RoleMember, 1), twin, mod))
	left.merge(right)
	right.merge(left)
	for _, s := range []*State{left.state(t), right.state(t)} {
		a, _ := s.Member(ana.PublicKey())
		b, _ := s.Member(twin.PublicKey())
		later, earlier := b, a
		if second.Position().Less(first.Position()) {
			later, earlier = a, b
		}
		if !a.Active || !b.Active || !later.Twin || earlier.Twin {
			t.Errorf("after the merge: %+v / %+v; want both active and only the later marked", a.Twin, b.Twin)
		}
		if !strings.HasSuffix(later.Shown(), "]") || earlier.Shown() != earlier.Name {
			t.Errorf("shown as %q and %q", earlier.Shown(), later.Shown())
		}
	}
}

// TestJoinsStopAtMaxMembers: an admitter refuses a join once the community holds MaxMembers
// active members (a key rotation could not reach more), with a sentence that says so.
func TestJoinsStopAtMaxMembers(t *testing.T) {
	c, v := newCommunity(t, 0)
	st := v.state(t)
	full := st.clone()
	for i := full.ActiveCount(); i < MaxMembers; i++ {
		k := make([]byte, 32)
		k[0], k[1], k[2] = 0xfe, byte(i>>8), byte(i)
		full.members[string(k)] = &Member{Key: k, Role: RoleMember, Active: true}
	}
	bo := newPerson(t, "Bo")
	req := joinRequest(t, c.invite(c.owner, RoleMember, 0), bo, c.owner)
	if err := full.CheckJoin(req, c.owner.PublicKey(), t0); err == nil || !strings.Contains(err.Error(), "the most a community can hold") {
		t.Fatalf("a join into a community of %d: %v", full.ActiveCount(), err)
	}
	if err := st.CheckJoin(req, c.owner.PublicKey(), t0); err != nil {
		t.Fatalf("the same join into the community as it is: %v", err)
	}
}
