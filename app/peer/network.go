package peer

// The running network as the desktop asks it: who is online, and how this install reaches them.

// online says whether a member is online now, and how this install reaches it.
func (p *Peer) online(key []byte, you bool) (bool, string) {
	if you {
		return p.Node() != nil, ""
	}
	return p.Online(key)
}

// Online says whether the member with this key is connected to this install now, and how:
// "direct", "LAN" or "relayed".
func (p *Peer) Online(key []byte) (online bool, path string) {
	pid, err := PeerID(key)
	if err != nil {
		return false, ""
	}
	return p.PathTo(pid)
}

// PathTo says whether a peer is connected to this install now, and how ("direct", "LAN" or
// "relayed").
func (p *Peer) PathTo(peerID string) (connected bool, path string) {
	node := p.Node()
	if node == nil {
		return false, ""
	}
	pa, ok := node.PathTo(peerID)
	if !ok {
		return false, ""
	}
	return true, pa.String()
}
