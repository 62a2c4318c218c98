package ui

import (
	"context"
	"crypto/ed25519"
	"io"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// Service is what the desktop asks of the application (*app.Service provides it): the use
// cases its screens call, and the events they show. The views depend on this, not on the
// concrete service; each method does disk work, so views call it from a goroutine.
type Service interface {
	// Subscribe streams the service's events until ctx ends.
	Subscribe(ctx context.Context) <-chan app.Event

	// Communities, their channels, members and sync state.
	Communities() ([]app.Summary, error)
	CreateCommunity(ctx context.Context, p app.CreateParams) (app.Created, error)
	Channels(id community.Hash) ([]app.Channel, error)
	CreateChannel(ctx context.Context, id community.Hash, name string, t community.ChannelKind) (app.Channel, error)
	UpdateChannel(ctx context.Context, id, channel community.Hash, name string, archived bool) (app.Channel, error)
	PostingNote(id, channel community.Hash) string
	Info(id community.Hash) (app.Info, error)
	Departure(id community.Hash) (d app.Departure, ok bool, err error)
	Forget(ctx context.Context, id community.Hash) error
	EditCommunity(ctx context.Context, id community.Hash, name, about string, maxMembers int) error
	MyProfile(id community.Hash) (name, about string, err error)
	SetProfile(ctx context.Context, id community.Hash, name, about string) error
	SetProfilePicture(ctx context.Context, id community.Hash, f *app.File) error
	Members(id community.Hash) ([]app.MemberView, error)
	Sync(id community.Hash) app.SyncState

	// Messages.
	Messages(id, channel community.Hash, before community.Position, limit int) ([]app.Message, error)
	Post(ctx context.Context, id, channel community.Hash, text string, replyTo community.Hash) (app.Message, error)
	PostFiles(ctx context.Context, id, channel community.Hash, text string, replyTo community.Hash, files []app.File) (app.Message, error)
	SaveFile(id, message, blob community.Hash, w io.Writer) error
	DeleteMessage(ctx context.Context, id, message community.Hash) error
	EditMessage(ctx context.Context, id, message community.Hash, text string) (app.Message, error)
	React(ctx context.Context, id, message community.Hash, emoji string, remove bool) (app.Message, error)
	Pin(ctx context.Context, id, message community.Hash, pinned bool) (app.Message, error)
	Pins(id, channel community.Hash) ([]app.Message, error)
	Mentions(id community.Hash, limit int) ([]app.Message, error)
	Search(id community.Hash, query string, limit int) ([]app.Message, error)

	// Polls.
	CreatePoll(ctx context.Context, id, channel community.Hash, spec community.PollSpec) (app.Poll, error)
	Vote(ctx context.Context, id, poll community.Hash, choices []int) (app.Poll, error)
	ClosePoll(ctx context.Context, id, poll community.Hash) (app.Poll, error)

	// Feedback requests.
	Ask(ctx context.Context, id, channel community.Hash, spec community.FeedbackSpec) (app.Feedback, error)
	Answer(ctx context.Context, id, request community.Hash, text string) (app.Feedback, error)
	SetFeedbackStatus(ctx context.Context, id, request community.Hash, status, note string) (app.Feedback, error)

	// Offers.
	CreateOffer(ctx context.Context, id, channel community.Hash, spec community.OfferSpec, code string) (app.Offer, error)
	Claim(ctx context.Context, id, offer community.Hash) (app.Offer, error)

	// Promotions.
	PostPromotion(ctx context.Context, id, channel community.Hash, text string) (app.Message, error)
	PromotionBudget(id community.Hash) (app.Promotions, error)
	MutePromotions(id community.Hash, mute bool) error
	Insights(id community.Hash, weeks int) (app.Insights, error)

	// Keeping files: this device's budget, what the files take, what it lacks.
	Keeping(id community.Hash) (app.FileKeeping, error)
	SetFilesBudget(id community.Hash, mib int) error
	MissingFiles(id community.Hash) ([]app.FileRef, error)

	// Recognition.
	Kudos(ctx context.Context, id community.Hash, member ed25519.PublicKey, note string) error
	Helpful(ctx context.Context, id, message community.Hash) error
	RecognitionBoard(id community.Hash) ([]app.Recognition, error)
	GiveBadge(ctx context.Context, id community.Hash, member ed25519.PublicKey, title, note string) (app.BadgeView, error)
	Badges(id community.Hash) ([]app.BadgeView, error)
	BadgeCard(id, badge community.Hash) (string, app.BadgeView, error)

	// Testimonials.
	QuoteOK(ctx context.Context, id, message community.Hash, withName, revoke bool) error
	Testimonials(id community.Hash) ([]app.Testimonial, error)

	// Invites and moderation.
	Invites(id community.Hash) ([]app.Issued, error)
	RevokeInvite(ctx context.Context, id community.Hash, inv invite.ID) error
	InviteOf(id community.Hash, member ed25519.PublicKey) (app.InviteUse, bool, error)
	RemoveMember(ctx context.Context, id community.Hash, member ed25519.PublicKey, opts app.RemoveOptions) error
	SetRole(ctx context.Context, id community.Hash, member ed25519.PublicKey, role community.Role) error
	Leave(ctx context.Context, id community.Hash) error
	RevokeBy(ctx context.Context, id community.Hash, member ed25519.PublicKey) (int, error)

	// Entry: requests to join, their approval, and what newcomers see.
	Requests(id community.Hash, all bool) ([]app.EntryRequest, error)
	Approve(ctx context.Context, id community.Hash, ref string) (app.EntryRequest, error)
	Decline(ctx context.Context, id community.Hash, ref, reason string) (app.EntryRequest, error)
	Entry(id community.Hash) (app.EntrySettings, error)
	SetEntry(ctx context.Context, id community.Hash, change func(*app.EntrySettings)) (app.EntrySettings, error)

	// Ownership recovery.
	OwnerActs(id community.Hash) ([]app.OwnerAct, error)
	OwnerLatest(id community.Hash) (uint64, error)
	Recover(ctx context.Context, id community.Hash, words string, cutoff uint64) (app.Recovered, error)
}

var _ Service = (*app.Service)(nil)
