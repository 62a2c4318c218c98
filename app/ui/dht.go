package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// publicDHTText says what the public network is for, and what it shows to whom.
const publicDHTText = "Home routers give computers new addresses now and then. Kith can find your communities' members again through the public libp2p network: thousands of computers, run by others, that help peers find each other.\n\n" +
	"Those computers would see this computer's internet address, when it is online, and an anonymous code for each of your communities. Never a community's name, who its members are, or anything anyone writes.\n\n" +
	"Without it, Kith finds members through the invite, the other members, your local network and the relays members run. You can change this in Settings."

// askPublicDHT asks, once (at the first create or join), whether to use the public libp2p
// network to find members who moved; the answer is kept in the settings and applied at once,
// then next runs.
func (s *Shell) askPublicDHT(next func()) {
	text := wrapped(publicDHTText)
	var d dialog.Dialog
	answer := func(use bool) {
		d.Hide()
		s.settings.PublicDHT = &use
		settings, file := s.settings, s.opts.SettingsFile
		go func() {
			if err := s.net.SetDHT(use, settings.Bootstrap); err != nil {
				s.do(func() {
					s.show(dialog.NewError(fmt.Errorf("Kith could not use the public network (%v): it goes on without it", err), s.win))
				})
			}
			if err := settings.Save(file); err != nil {
				s.do(func() {
					s.settings.PublicDHT = nil // not kept: asked again next time
					s.show(dialog.NewError(fmt.Errorf("Kith could not keep this choice (%v): it applies until Kith stops, and Kith asks again next time", err), s.win))
				})
			}
		}()
		next()
	}
	use := widget.NewButton("Use the public network", func() { answer(true) })
	use.Importance = widget.HighImportance
	no := widget.NewButton("Not now", func() { answer(false) })
	d = dialog.NewCustomWithoutButtons("Find members who move?",
		container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), no, use), nil, nil, text), s.win)
	d.Resize(fyne.NewSize(560, 360))
	s.showSticky(d)
	s.win.Canvas().Focus(use)
}

// parseBootstrap reads the DHT nodes typed in the settings, one full multiaddr a line.
func parseBootstrap(text string) ([]string, error) {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "/") || !strings.Contains(line, "/p2p/") || strings.ContainsAny(line, " \t") {
			return nil, errors.New("one address a line, like /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW… (what `kithd status` prints)")
		}
		out = append(out, line)
	}
	return out, nil
}
