// Package p2p is Kith's network layer: it runs a libp2p host (TCP and QUIC,
// Noise or TLS security) and a gossipsub router, and moves opaque bytes
// between peers on named topics.
//
// p2p knows nothing of the Kith domain. It never imports
// github.com/kith-app/kith/app/... or github.com/kith-app/kith/storage (a
// go list -deps test keeps that true). Whatever it needs from the core it
// declares here and receives from the caller, the way Syncthing's
// lib/protocol declares the Model it calls:
//
//   - [Validator] judges every message of a topic before it is delivered or
//     forwarded (decode, signature, membership, duplicates, rate limits).
//   - [Config.MessageID] derives a message's ID from its bytes, so that the
//     gossip message ID is the event ID and duplicates are suppressed by
//     pubsub itself.
//   - [Config.Member] says whether a peer is a member of any community: the
//     connection gater admits members and a few short-lived guests (joiners),
//     the relay serves members only, and mDNS dials members only.
//
// Pubsub's own signing is off ([pubsub.StrictNoSign] with no author field):
// every Kith event carries its author's signature, which makes pubsub's
// signature redundant and costly (about 360 µs per hop). So the peer that
// hands us a message ([Message.From]) is only the forwarder, never proof of
// who wrote it.
//
// Gossip is not history: a message published while a peer is offline, or
// dropped because a reader fell more than [SubscriptionBuffer] messages
// behind, is not resent by this package. The sync protocol repairs that.
//
// Reachability: peers on a LAN find each other by mDNS; peers behind NATs
// map ports (UPnP), punch holes, or meet through a member's relay
// ([Config.Relay], [Config.RelayCandidates]); [Node.Peers] says which path
// each connection takes.
//
// Lifecycle: [New] starts the host, then pubsub; [Node.Join] starts a topic;
// [Node.Close] stops them in reverse order, waits for the node's goroutines,
// and is safe to call more than once.
package p2p
