package peer

import (
	"crypto/ed25519"
	"log/slog"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/p2p"
)

// NetworkConfig is the libp2p node of an install as Kith's rules want it: the install's key,
// gossip's message IDs (the event ID) and member filter, and the connection gater that admits
// members of the install's communities, a few joiners at a time as guests, and never a removed
// member. Peer.Start builds on it, and so do the tests and the benchmark (app/apptest,
// cmd/kith-bench): what they measure is what ships. Listen addresses, relays, discovery and
// NAT are the caller's to add.
func NetworkConfig(id *identity.Identity, svc *app.Service, log *slog.Logger) p2p.Config {
	return p2p.Config{
		PrivateKey: id.TransportKey(), Logger: log,
		MessageID: gossip.MessageID, PeerFilter: gossip.PeerFilter(svc),
		Member:  func(k ed25519.PublicKey) bool { return svc.IsMemberAnywhere(k) },
		Refused: func(k ed25519.PublicKey) bool { return svc.RemovedAnywhere(k) },
	}
}
