package community

import (
	"fmt"

	"github.com/kith-app/kith/app/invite"
)

// Role is a member's role; it is the invite package's type, so an invite grants exactly what
// the membership log records.
type Role = invite.Role

// Roles, lowest to highest.
const (
	RoleNone      = invite.RoleNone
	RoleMember    = invite.RoleMember
	RoleModerator = invite.RoleModerator
	RoleOwner     = invite.RoleOwner
)

// Kind says what an event is. Authority kinds change the community's state (members, roles,
// channels, keys) and travel in clear so that every member can fold them; content kinds are
// what members write and travel sealed with the epoch key.
type Kind uint16

// Authority kinds (1-63).
const (
	KindGenesis        Kind = 1  // the community is born: name, about, cap, history policy, owner, recovery key
	KindJoin           Kind = 2  // a member admits a joiner: the invite, the joiner's proof, the key sealed to it
	KindLeave          Kind = 3  // a member leaves on its own
	KindRemove         Kind = 4  // a moderator or the owner removes a member, with cutoff_seq
	KindSetRole        Kind = 5  // the owner promotes or demotes, with cutoff_seq on demotion
	KindRevokeInvite   Kind = 6  // an invite ID is dead from here on
	KindRotateKey      Kind = 7  // a new epoch key sealed to every member; carries the previous key
	KindShareKey       Kind = 8  // a holder seals an epoch key to a member that lacks it
	KindTransferOwner  Kind = 9  // the recovery key moves ownership to a new key, with cutoff_seq
	KindEquivocation   Kind = 10 // proof that an author signed two events with one sequence number
	KindChannelCreate  Kind = 11 // a new channel (chat or announcements)
	KindChannelUpdate  Kind = 12 // rename or archive a channel
	KindCommunityEdit  Kind = 13 // the owner changes name, about or member cap
	KindRegisterInvite Kind = 14 // an invite its issuer puts in the log (a member's counts only then)
	KindRevokeBy       Kind = 15 // every invite one issuer registered is dead from here on
	KindSettings       Kind = 16 // the owner's entry rules: member invites, welcome, rules, default questions
	KindJoinRequest    Kind = 17 // a join that waits for approval, with the joiner's answers sealed
	KindApprove        Kind = 18 // a moderator or the owner admits a waiting request's joiner
	KindDecline        Kind = 19 // a moderator or the owner declines a waiting request, with a reason
)

// Content kinds (64 and above).
const (
	KindMessage         Kind = 64 // a post in a channel, possibly a reply
	KindEdit            Kind = 65 // new text for one of the author's messages
	KindDelete          Kind = 66 // a message's text is gone (author or moderator); a tombstone stays
	KindReaction        Kind = 67 // an emoji on an event, or its removal
	KindPoll            Kind = 68 // a poll: question, options, closing time
	KindVote            Kind = 69 // a vote, sealed to the owner and moderators
	KindPollClose       Kind = 70 // the poll's author closes it
	KindFeedbackRequest Kind = 71 // the owner asks members for feedback on a topic
	KindFeedbackStatus  Kind = 72 // "you asked, we did": the status of a feedback item
	KindKudos           Kind = 73 // recognition from the owner or a moderator, with a note
	KindHelpful         Kind = 74 // a member marks a post as helpful
	KindPin             Kind = 75 // pin a post in its channel
	KindUnpin           Kind = 76 // unpin it
	KindProfile         Kind = 77 // a member's display name and about text
	KindOffer           Kind = 78 // an offer that expires and that members can claim
	KindOfferClaim      Kind = 79 // a member claims an offer
	KindQuoteOK         Kind = 80 // the author marks a post "OK to quote" (exportable as a testimonial)
	KindFeedbackAnswer  Kind = 82 // a member's answer to a feedback request, sealed to the owner and moderators
	KindOfferCode       Kind = 83 // an offer's code sealed to the owner and moderators, or to one granted claimant
	KindPromotion       Kind = 84 // a post the owner or a moderator marks as promotion (weekly budget)
	KindBadge           Kind = 85 // the owner's signed badge for a member, exportable as a card
)

type kindInfo struct {
	name    string
	minRole Role // the lowest role whose members may author it (RoleNone: special rules)
}

var kinds = map[Kind]kindInfo{
	KindGenesis:         {"genesis", RoleNone},
	KindJoin:            {"join", RoleMember},
	KindLeave:           {"leave", RoleMember},
	KindRemove:          {"remove", RoleModerator},
	KindSetRole:         {"set-role", RoleOwner},
	KindRevokeInvite:    {"revoke-invite", RoleMember}, // a member: only invites it registered
	KindRotateKey:       {"rotate-key", RoleModerator},
	KindShareKey:        {"share-key", RoleMember},
	KindTransferOwner:   {"transfer-owner", RoleNone},
	KindEquivocation:    {"equivocation", RoleMember},
	KindChannelCreate:   {"channel-create", RoleModerator},
	KindChannelUpdate:   {"channel-update", RoleModerator},
	KindCommunityEdit:   {"community-edit", RoleOwner},
	KindRegisterInvite:  {"invite-register", RoleMember},
	KindRevokeBy:        {"revoke-by", RoleModerator},
	KindSettings:        {"settings", RoleOwner},
	KindJoinRequest:     {"join-request", RoleMember},
	KindApprove:         {"approve", RoleModerator},
	KindDecline:         {"decline", RoleModerator},
	KindMessage:         {"message", RoleMember},
	KindEdit:            {"edit", RoleMember},
	KindDelete:          {"delete", RoleMember},
	KindReaction:        {"reaction", RoleMember},
	KindPoll:            {"poll", RoleModerator},
	KindVote:            {"vote", RoleMember},
	KindPollClose:       {"poll-close", RoleModerator},
	KindFeedbackRequest: {"feedback-request", RoleModerator},
	KindFeedbackStatus:  {"feedback-status", RoleModerator},
	KindKudos:           {"kudos", RoleModerator},
	KindHelpful:         {"helpful", RoleMember},
	KindPin:             {"pin", RoleModerator},
	KindUnpin:           {"unpin", RoleModerator},
	KindProfile:         {"profile", RoleMember},
	KindOffer:           {"offer", RoleModerator},
	KindOfferClaim:      {"offer-claim", RoleMember},
	KindQuoteOK:         {"quote-ok", RoleMember},
	KindFeedbackAnswer:  {"feedback-answer", RoleMember},
	KindOfferCode:       {"offer-code", RoleModerator},
	KindPromotion:       {"promotion", RoleModerator},
	KindBadge:           {"badge", RoleOwner},
}

// Known reports whether k is a kind this version understands.
func (k Kind) Known() bool { _, ok := kinds[k]; return ok }

// Authority reports whether k changes the community's state and so is folded.
func (k Kind) Authority() bool { return k >= 1 && k < 64 }

// Content reports whether k is something members write, sealed with the epoch key.
func (k Kind) Content() bool { return k >= 64 }

// MinRole is the lowest role that may author an event of kind k.
func (k Kind) MinRole() Role { return kinds[k].minRole }

func (k Kind) String() string {
	if i, ok := kinds[k]; ok {
		return i.name
	}
	return fmt.Sprintf("kind(%d)", uint16(k))
}

// Kinds lists every known kind in numeric order.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for k := Kind(0); k < 128; k++ {
		if k.Known() {
			out = append(out, k)
		}
	}
	return out
}

// HistoryPolicy says how far back a new member may read.
type HistoryPolicy uint8

const (
	// HistoryFull lets a new member read everything since the community began.
	HistoryFull HistoryPolicy = 1
	// HistoryFromJoin lets a new member read only what was written after its join.
	HistoryFromJoin HistoryPolicy = 2
)

func (p HistoryPolicy) String() string {
	switch p {
	case HistoryFull:
		return "full"
	case HistoryFromJoin:
		return "from-join"
	}
	return fmt.Sprintf("history(%d)", uint8(p))
}

// ChannelKind says who may post in a channel.
type ChannelKind uint8

const (
	// ChannelChat is open to every member.
	ChannelChat ChannelKind = 1
	// ChannelAnnouncements is for the owner and moderators; members react and reply elsewhere.
	ChannelAnnouncements ChannelKind = 2
)
