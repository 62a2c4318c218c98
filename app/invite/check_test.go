package invite

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	nb, ex := inv.NotBefore, inv.Expires
	other := community
	other[0] ^= 1
	tampered := inv.Signed
	tampered.MaxUses = 0 // Capability no longer matches Raw
	badSig := inv.Signed
	badSig.Sig = ed25519.Sign(strangerKey, signedMessage(inv.Raw))

	for _, tc := range []struct {
		name string
		s    *Signed
		c    [32]byte
		at   time.Time
		l    func(*ledger)
		want error
	}{
		{name: "valid", at: nb.Add(time.Hour)},
		{name: "valid at not-before", at: nb},
		{name: "valid within skew before not-before", at: nb.Add(-ClockSkew)},
		{name: "not yet valid", at: nb.Add(-ClockSkew - time.Second), want: ErrNotYetValid},
		{name: "valid at expiry", at: ex},
		{name: "valid within skew after expiry", at: ex.Add(ClockSkew)},
		{name: "expired", at: ex.Add(ClockSkew + time.Second), want: ErrExpired},
		{name: "wrong community", c: other, at: nb, want: ErrWrongCommunity},
		{name: "wrong community before forged", s: &badSig, c: other, at: nb, want: ErrWrongCommunity},
		{name: "forged signature", s: &badSig, at: nb, want: ErrForged},
		{name: "capability changed after decoding", s: &tampered, at: nb, want: ErrForged},
		{name: "revoked", at: nb, l: func(l *ledger) { l.revoked[inv.ID] = true }, want: ErrRevoked},
		{name: "uses left", at: nb, l: func(l *ledger) { l.uses[inv.ID] = 2 }},
		{name: "used up", at: nb, l: func(l *ledger) { l.uses[inv.ID] = 3 }, want: ErrUsedUp},
		{name: "room left", at: nb, l: func(l *ledger) { l.members, l.maxMembers = 9, 10 }},
		{name: "full", at: nb, l: func(l *ledger) { l.members, l.maxMembers = 10, 10 }, want: ErrFull},
		{name: "issuer removed", at: nb, l: func(l *ledger) { delete(l.roles, string(pub(ownerKey))) }, want: ErrNotAllowed},
		{name: "expired before revoked", at: ex.Add(time.Hour), l: func(l *ledger) { l.revoked[inv.ID] = true }, want: ErrExpired},
		{name: "revoked before used up", at: nb, l: func(l *ledger) { l.revoked[inv.ID] = true; l.uses[inv.ID] = 3 }, want: ErrRevoked},
		{name: "used up before full", at: nb, l: func(l *ledger) { l.uses[inv.ID] = 3; l.members, l.maxMembers = 10, 10 }, want: ErrUsedUp},
		{name: "not allowed before not yet valid", at: nb.Add(-time.Hour), l: func(l *ledger) { l.roles = nil }, want: ErrNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			if s == nil {
				s = &inv.Signed
			}
			c := tc.c
			if c == ([32]byte{}) {
				c = community
			}
			l := newLedger()
			if tc.l != nil {
				tc.l(l)
			}
			err := Check(s, c, tc.at, l)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check: %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

func TestCheckUnlimited(t *testing.T) {
	p := testParams()
	p.MaxUses, p.NotBefore, p.Expires = 0, time.Time{}, time.Time{}
	inv := issue(t, ownerKey, p)
	l := newLedger()
	l.uses[inv.ID] = 1 << 30
	for _, at := range []time.Time{{}, time.Unix(0, 0), t0, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if err := Check(&inv.Signed, community, at, l); err != nil {
			t.Errorf("at %v: %v", at, err)
		}
	}
}

func TestCheckIssuer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		issuer ed25519.PrivateKey
		role   Role
		ok     bool
	}{
		{"owner grants member", ownerKey, RoleMember, true},
		{"owner grants moderator", ownerKey, RoleModerator, true},
		{"moderator grants member", moderatorKey, RoleMember, true},
		{"moderator grants moderator", moderatorKey, RoleModerator, false},
		{"member grants member", memberKey, RoleMember, false},
		{"stranger grants member", strangerKey, RoleMember, false},
		{"owner grants owner", ownerKey, RoleOwner, false},
		{"owner grants none", ownerKey, RoleNone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := issue(t, tc.issuer, testParams())
			c := base.Capability
			c.Role = tc.role
			inv := resign(t, base, c, tc.issuer)
			// What was signed also parses: only Check refuses it.
			if _, err := Parse(inv.String()); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err := Check(&inv.Signed, community, t0, newLedger())
			if tc.ok {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNotAllowed) || !errors.Is(err, ErrForged) {
				t.Fatalf("Check: %v, want ErrNotAllowed in the ErrForged family", err)
			}
			t.Log(err)
		})
	}
}

func TestVerifyJoin(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	other := issue(t, moderatorKey, testParams())
	joiner, admitter := pub(joinerKey), pub(admitterKey)
	x := make([]byte, 32)
	x[0] = 9
	proof := inv.ProveJoin(joiner, x, admitter)
	if err := VerifyJoin(&inv.Signed, joiner, x, admitter, proof); err != nil {
		t.Fatalf("VerifyJoin: %v", err)
	}
	otherX := make([]byte, 32)
	otherCommunity := inv.Signed
	otherCommunity.Community[0] ^= 1
	wrongSecret := *inv
	wrongSecret.Secret = other.Secret
	for _, tc := range []struct {
		name     string
		s        *Signed
		joiner   ed25519.PublicKey
		x        []byte
		admitter ed25519.PublicKey
		proof    []byte
	}{
		{"wrong secret", &inv.Signed, joiner, x, admitter, wrongSecret.ProveJoin(joiner, x, admitter)},
		{"other invite", &other.Signed, joiner, x, admitter, proof},
		{"wrong joiner", &inv.Signed, pub(strangerKey), x, admitter, proof},
		{"wrong x25519", &inv.Signed, joiner, otherX, admitter, proof},
		{"wrong admitter", &inv.Signed, joiner, x, pub(strangerKey), proof},
		{"wrong community", &otherCommunity, joiner, x, admitter, proof},
		{"signed by joiner", &inv.Signed, joiner, x, admitter, ed25519.Sign(joinerKey, joinMessage(&inv.Signed, joiner, x, admitter))},
		{"short proof", &inv.Signed, joiner, x, admitter, proof[:63]},
		{"nil proof", &inv.Signed, joiner, x, admitter, nil},
		{"short x25519", &inv.Signed, joiner, x[:31], admitter, proof},
		{"short joiner", &inv.Signed, joiner[:31], x, admitter, proof},
		{"nil signed", nil, joiner, x, admitter, proof},
	} {
		if err := VerifyJoin(tc.s, tc.joiner, tc.x, tc.admitter, tc.proof); !errors.Is(err, ErrForged) {
			t.Errorf("%s: VerifyJoin = %v, want ErrForged", tc.name, err)
		}
	}
	if p := inv.ProveJoin(joiner[:31], x, admitter); p != nil {
		t.Error("ProveJoin signed a short key")
	}
}

// TestQuestions: an invite that needs approval carries its questions signed (version 3), reads
// back the same, and refuses questions the format cannot carry; a version-3 capability with
// unknown flags does not read.
func TestQuestions(t *testing.T) {
	inv := issue(t, ownerKey, approvalParams())
	if inv.Version != capVersion3 {
		t.Fatalf("version %d, want 3", inv.Version)
	}
	back, err := Parse(inv.String())
	if err != nil || !back.Approval || !slices.Equal(back.Questions, approvalParams().Questions) {
		t.Fatalf("Parse = %+v, %v", back, err)
	}
	if plain := issue(t, ownerKey, testParams()); plain.Version != capVersion2 || plain.Approval {
		t.Fatalf("an invite without approval is version %d (approval %v), want 2", plain.Version, plain.Approval)
	}
	// Questions alone make an invite that needs approval.
	p := testParams()
	p.Questions = []string{"Why?"}
	if q := issue(t, ownerKey, p); !q.Approval {
		t.Fatal("questions without Approval: the invite does not need approval")
	}
	for name, qs := range map[string][]string{
		"six questions": {"a", "b", "c", "d", "e", "f"},
		"201 bytes":     {strings.Repeat("q", MaxQuestionLen+1)},
		"empty":         {""},
		"control":       {"why\x00"},
		"override":      {"why\u202e"},
	} {
		p := approvalParams()
		p.Questions = qs
		if _, err := Issue(keySigner{ownerKey}, p, nil); err == nil {
			t.Errorf("%s: Issue accepted it", name)
		}
	}
	// Flags other than approval are reserved: a capability that sets them is malformed.
	raw := bytes.Clone(inv.Raw)
	at := len(raw) - ed25519.PublicKeySize - 1
	for _, q := range approvalParams().Questions {
		at -= 1 + len(q)
	}
	at-- // the flags come before the question count
	if raw[at] != flagApproval {
		t.Fatalf("the flags byte is not where the test looks (%d)", raw[at])
	}
	raw[at] = 3
	if _, err := unmarshalCapability(raw); !errors.Is(err, ErrDamaged) {
		t.Fatalf("unknown flags: %v, want ErrDamaged", err)
	}
}

// TestMemberIssuer: a member's invite counts only under the community's rule for them: on,
// granting member, registered by its issuer, needing approval when the rule says so, and its
// issuer under the number each member may bring in.
func TestMemberIssuer(t *testing.T) {
	member := pub(memberKey)
	for _, tc := range []struct {
		name   string
		params func() Params
		setup  func(l *ledger, inv *Invite)
		want   error
	}{
		{"off", testParams, func(l *ledger, inv *Invite) { l.registered[inv.ID] = string(member) }, ErrNotAllowed},
		{"on and registered", testParams, func(l *ledger, inv *Invite) {
			l.perMember, l.registered[inv.ID] = 2, string(member)
		}, nil},
		{"not registered", testParams, func(l *ledger, inv *Invite) { l.perMember = 2 }, ErrNotAllowed},
		{"registered by another", testParams, func(l *ledger, inv *Invite) {
			l.perMember, l.registered[inv.ID] = 2, string(pub(moderatorKey))
		}, ErrNotAllowed},
		{"approval required, not asked", testParams, func(l *ledger, inv *Invite) {
			l.perMember, l.approval, l.registered[inv.ID] = 2, true, string(member)
		}, ErrNotAllowed},
		{"approval required and asked", approvalParams, func(l *ledger, inv *Invite) {
			l.perMember, l.approval, l.registered[inv.ID] = 2, true, string(member)
		}, nil},
		{"brought in enough", testParams, func(l *ledger, inv *Invite) {
			l.perMember, l.registered[inv.ID], l.brought[string(member)] = 2, string(member), 2
		}, ErrUsedUp},
		{"moderator role", func() Params { p := testParams(); p.Role = RoleModerator; return p }, func(l *ledger, inv *Invite) {
			l.perMember, l.registered[inv.ID] = 2, string(member)
		}, ErrNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := issue(t, memberKey, tc.params())
			l := newLedger()
			l.registered, l.brought = map[ID]string{}, map[string]int{}
			tc.setup(l, inv)
			err := Check(&inv.Signed, community, t0, l)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check: %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}
