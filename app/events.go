package app

import (
	"context"
	"errors"
	"time"

	"github.com/kith-app/kith/app/community"
)

// Event is something a view reacts to: one of MessageAdded, CommunityChanged, SyncProgress,
// JoinProgress, JoinEnded, PeersChanged, MessageDeleted, MessageUpdated and Lagged. Views receive them from Subscribe.
type Event interface{ isEvent() }

// MessageAdded: a message was stored (written here or received) and can be read.
type MessageAdded struct {
	Community community.Hash
	Message   Message
}

// CommunityChanged: the membership log of a community changed (members, roles, channels, its
// name), or it was joined, or messages that waited for a key became readable: reload it.
type CommunityChanged struct{ Community community.Hash }

// SyncProgress: a sync of a community from a member advanced or ended. Done and Total count
// events of that member's log (Total is how many it had past where this sync began).
type SyncProgress struct {
	Community community.Hash
	Peer      string
	Done      uint64
	Total     uint64
	Finished  bool
	Err       error // set when a finished sync failed
}

// JoinStage is where a join stands (DESIGN section 1's staged progress).
type JoinStage int

const (
	JoinFinding   JoinStage = iota + 1 // dialing the members the invite names
	JoinVerifying                      // a member answered: it checks the invite and admits
	JoinSyncing                        // admitted: the history comes (SyncProgress counts it)
	JoinSearching                      // none of the invite's members answered: looking on the LAN and the rendezvous
	JoinWaiting                        // no member is online yet: another try comes at Retry, until the invite expires
	JoinApproval                       // the request was delivered: it waits for the owner or a moderator, asked again at Retry
)

// JoinVia is how a joiner found the member it tries.
type JoinVia string

// Ways a joiner finds members.
const (
	ViaInvite     JoinVia = "invite"     // a member the invite names, at an address it gives
	ViaLAN        JoinVia = "LAN"        // found on the local network (mDNS)
	ViaRendezvous JoinVia = "rendezvous" // found under the community's rendezvous key on the DHT
)

// JoinProgress: a join of this install advanced. Peer is the member being tried (Finding: the
// member dialled; from Verifying on: the member that answered) and Via how it was found (while
// Searching: ViaRendezvous when the DHT is searched too, ViaLAN otherwise); Tried and Of count
// the invite's members while Finding. Retry is when a Waiting join tries again.
type JoinProgress struct {
	Community community.Hash
	Stage     JoinStage
	Peer      string
	Tried, Of int
	Via       JoinVia
	Retry     time.Time
}

// PendingJoin is a join under way, as `kithd status` and the desktop show it: kept until it ends,
// tried again while Kith runs.
type PendingJoin struct {
	Community community.Hash
	Name      string    // the community's name, as the invite gives it
	Since     time.Time // when the join started
	Stage     JoinStage
	Attempts  int       // attempts since Kith started
	NextTry   time.Time // while waiting
	Expires   time.Time // the invite's expiry (zero: never)
	LastError string    // why the last attempt found no member, in words
	// Requested is when a member took the request of a join with an invite that needs approval
	// (zero: not yet, or an invite that does not): it waits for the owner or a moderator.
	Requested time.Time
}

// Declined is a request to join that the owner or a moderator declined, as the joiner keeps it
// (kithd status, the desktop).
type Declined struct {
	Community community.Hash
	Name      string // the community's name, as the invite gives it
	Reason    string
	At        time.Time // when it was declined (the decider's clock)
}

// ErrJoinCancelled ends a join the person cancelled (JoinEnded.Err).
var ErrJoinCancelled = errors.New("app: the join was cancelled")

// JoinEnded: a join that was under way ended: admitted (Err nil), refused by the invite's
// rules, expired while waiting, or cancelled. Name is the community's name as the invite gives
// it. A join that was resumed after a restart ends only with this event.
type JoinEnded struct {
	Community community.Hash
	Name      string
	Err       error
}

// PeersChanged: a member came online or went offline (the network layer reports it).
type PeersChanged struct{}

// CommunityForgotten: this install deleted what it held of a community it no longer belongs to
// (Forget): views drop it, the network leaves its topic.
type CommunityForgotten struct {
	Community community.Hash
}

func (CommunityForgotten) isEvent() {}

// MessageDeleted: a message's text is gone (its author or a moderator deleted it): views take
// it out.
type MessageDeleted struct {
	Community community.Hash
	Message   community.Hash
}

// Lagged: the subscriber was too slow and missed events: it should reload what it shows.
type Lagged struct{}

func (MessageAdded) isEvent()     {}
func (CommunityChanged) isEvent() {}
func (SyncProgress) isEvent()     {}
func (JoinProgress) isEvent()     {}
func (JoinEnded) isEvent()        {}
func (PeersChanged) isEvent()     {}
func (Lagged) isEvent()           {}
func (MessageDeleted) isEvent()   {}

// subscriberBuffer is how many events wait for a slow subscriber before it is told it lagged.
const subscriberBuffer = 1024

type subscriber struct {
	ch     chan Event
	lagged bool // guarded by Service.mu
}

// Subscribe returns a stream of the service's events. It is closed when ctx ends or the service
// closes. The stream never blocks the service: a subscriber that falls behind by more than 1,024
// events loses them and receives Lagged.
func (s *Service) Subscribe(ctx context.Context) <-chan Event {
	sub := &subscriber{ch: make(chan Event, subscriberBuffer)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		close(sub.ch)
		return sub.ch
	}
	if s.subs == nil {
		s.subs = map[*subscriber]bool{}
	}
	s.subs[sub] = true
	s.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-s.done:
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.subs[sub] {
			delete(s.subs, sub)
			close(sub.ch)
		}
	}()
	return sub.ch
}

// Emit sends an event to every subscriber without waiting. The network layer uses it for
// PeersChanged; the service emits the others itself.
func (s *Service) Emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		if sub.lagged {
			select {
			case sub.ch <- Lagged{}:
				sub.lagged = false
			default:
				continue
			}
		}
		select {
		case sub.ch <- e:
		default:
			sub.lagged = true
		}
	}
}
