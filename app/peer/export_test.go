package peer

// KeepLooks is how many looks the keeper has made (each after a change it was told of).
func KeepLooks(p *Peer) int64 { return p.keepLooks.Load() }
