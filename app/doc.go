// Package app is Kith's application service: the use-cases (create a community, invite, join,
// post, read a page, list members) over the store and the network, the ports it consumes, and
// the typed event stream views subscribe to. The domain lives in app/community, app/invite and
// app/identity; app/ui is the Fyne view over this package.
//
// It must never import Fyne; only cmd/* wire it to storage and p2p.
package app
