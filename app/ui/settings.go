package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Settings are the desktop app's preferences, kept in the data folder (so that two installs
// side by side have their own).
type Settings struct {
	DisplayName   string `json:"display_name"`  // the name offered when creating or joining
	ListenPort    int    `json:"listen_port"`   // 0: a port the system picks
	Relay         bool   `json:"relay"`         // relay for members that cannot reach each other
	KeepInTray    bool   `json:"keep_in_tray"`  // closing the window keeps Kith running
	Notifications bool   `json:"notifications"` // new messages while the window is not in front
	Theme         string `json:"theme"`         // "system", "light" or "dark"

	// The window as it was last closed: its size (0: the default) and whether the members panel
	// was hidden.
	WindowWidth   float32 `json:"window_width,omitempty"`
	WindowHeight  float32 `json:"window_height,omitempty"`
	MembersHidden bool    `json:"members_hidden,omitempty"`
	// TrayTold: the person was told, once, that closing the window keeps Kith in the tray.
	TrayTold bool `json:"tray_told,omitempty"`
	// RecentEmoji are the reactions this person used last, the latest first.
	RecentEmoji []string `json:"recent_emoji,omitempty"`

	// PublicDHT: find members who moved through the public libp2p network (nil: not asked
	// yet; the app asks at the first create or join). Applies at once.
	PublicDHT *bool `json:"public_dht,omitempty"`
	// Bootstrap are DHT nodes (full multiaddrs) to find members through: a friend's
	// always-on `kithd run --dht-server`. Applies at once.
	Bootstrap []string `json:"bootstrap,omitempty"`
}

// DefaultSettings are the settings of a new install.
func DefaultSettings() Settings {
	return Settings{KeepInTray: true, Notifications: true, Theme: "system"}
}

// Smallest window Kith lays out for (the panels collapse below it), and its first size.
const (
	MinWindowWidth, MinWindowHeight         = 640, 480
	DefaultWindowWidth, DefaultWindowHeight = 1180, 760
)

// WindowSize is the size to open the window at: the last one, at least the smallest Kith lays
// out for.
func (s Settings) WindowSize() fyne.Size {
	if s.WindowWidth <= 0 || s.WindowHeight <= 0 {
		return fyne.NewSize(DefaultWindowWidth, DefaultWindowHeight)
	}
	return fyne.NewSize(max(s.WindowWidth, MinWindowWidth), max(s.WindowHeight, MinWindowHeight))
}

// LoadSettings reads the settings file; a missing file gives the defaults. A damaged file gives
// the defaults and an error that says so.
func LoadSettings(path string) (Settings, error) {
	s := DefaultSettings()
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return DefaultSettings(), fmt.Errorf("ui: the settings in %s are damaged (%v): Kith uses the defaults until you save new ones", path, err)
	}
	if s.ListenPort < 0 || s.ListenPort > 65535 {
		s.ListenPort = 0
	}
	return s, nil
}

// Save writes the settings file whole or not at all.
func (s Settings) Save(path string) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".settings-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Listen is the listen addresses these settings ask for (nil: the network's defaults).
func (s Settings) Listen() []string {
	if s.ListenPort == 0 {
		return nil
	}
	p := strconv.Itoa(s.ListenPort)
	return []string{"/ip4/0.0.0.0/tcp/" + p, "/ip4/0.0.0.0/udp/" + p + "/quic-v1", "/ip6/::/tcp/" + p, "/ip6/::/udp/" + p + "/quic-v1"}
}

const (
	themeSystem = "System"
	themeLight  = "Light"
	themeDark   = "Dark"
)

// openSettings shows the settings dialog. Theme, notifications, the tray and how members are
// found apply at once; the port and the relay at the next start.
func (s *Shell) openSettings() {
	cur := s.settings
	name := widget.NewEntry()
	name.SetText(cur.DisplayName)
	if cur.DisplayName == "" {
		name.SetText(s.view.myName())
	}
	name.SetPlaceHolder("How members see you")
	port := widget.NewEntry()
	port.SetPlaceHolder("Automatic")
	if cur.ListenPort != 0 {
		port.SetText(strconv.Itoa(cur.ListenPort))
	}
	port.Validator = func(t string) error { _, err := parsePort(t); return err }
	relay := widget.NewCheck("Relay for members who cannot reach each other", nil)
	relay.SetChecked(cur.Relay)
	tray := widget.NewCheck("Keep Kith running in the tray when the window closes", nil)
	tray.SetChecked(cur.KeepInTray)
	notes := widget.NewCheck("Notify me of new messages while Kith is in the background", nil)
	notes.SetChecked(cur.Notifications)
	look := widget.NewRadioGroup([]string{themeSystem, themeLight, themeDark}, nil)
	look.Horizontal = true
	look.SetSelected(map[string]string{"light": themeLight, "dark": themeDark}[cur.Theme])
	if look.Selected == "" {
		look.SetSelected(themeSystem)
	}
	look.OnChanged = func(v string) { applyTheme(s.app, strings.ToLower(v)) } // a preview; Cancel undoes it
	public := widget.NewCheck("Use the public libp2p network to find members who moved", nil)
	public.SetChecked(cur.PublicDHT != nil && *cur.PublicDHT)
	boot := widget.NewMultiLineEntry()
	boot.SetPlaceHolder("None")
	boot.SetMinRowsVisible(2)
	boot.Wrapping = fyne.TextWrapBreak
	boot.SetText(strings.Join(cur.Bootstrap, "\n"))
	boot.Validator = func(t string) error { _, err := parseBootstrap(t); return err }
	folder := widget.NewLabel(s.opts.DataDir)
	folder.Wrapping = fyne.TextWrapBreak
	folder.Selectable = true
	items := []*widget.FormItem{
		{Text: "Your name", Widget: name, HintText: "Offered when you create or join a community"},
		{Text: "Listen port", Widget: port, HintText: "Empty: automatic. A fixed port helps a router forward it. Applies at the next start"},
		{Text: "Relay", Widget: relay, HintText: "For an always-on computer that others can reach. Applies at the next start"},
		{Text: "Finding members", Widget: public, HintText: "Computers run by others see this one's address and anonymous codes of your communities, never their names or messages"},
		{Text: "DHT nodes", Widget: boot, HintText: "Addresses of DHT nodes your group runs (kithd run --dht-server), one a line"},
		{Text: "Window", Widget: tray, HintText: "Quit from the tray menu; where there is no tray, start Kith again to bring the window back"},
		{Text: "Notifications", Widget: notes},
		{Text: "Theme", Widget: look},
		{Text: "Data folder", Widget: folder},
	}
	d := dialog.NewForm("Settings", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			applyTheme(s.app, cur.Theme)
			return
		}
		p, _ := parsePort(port.Text)
		nodes, _ := parseBootstrap(boot.Text)
		usePublic := public.Checked
		next := cur // what this form does not show (the window's size, ...) stays
		next.DisplayName, next.ListenPort, next.Relay = strings.TrimSpace(name.Text), p, relay.Checked
		next.KeepInTray, next.Notifications, next.Theme = tray.Checked, notes.Checked, strings.ToLower(look.Selected)
		next.Bootstrap = nodes
		if cur.PublicDHT != nil || usePublic {
			next.PublicDHT = &usePublic
		}
		s.settings = next
		applyTheme(s.app, next.Theme)
		restart := next.ListenPort != cur.ListenPort || next.Relay != cur.Relay
		dhtChanged := (cur.PublicDHT != nil && *cur.PublicDHT) != usePublic || strings.Join(cur.Bootstrap, " ") != strings.Join(nodes, " ")
		go func() {
			err := next.Save(s.opts.SettingsFile)
			if err == nil && dhtChanged {
				if derr := s.net.SetDHT(usePublic, nodes); derr != nil {
					err = fmt.Errorf("the DHT settings are saved, but %v", derr)
				}
			}
			s.do(func() {
				switch {
				case err != nil:
					dialog.ShowError(fmt.Errorf("Kith could not save the settings (%v): check that the data folder is writable", err), s.win)
				case restart:
					dialog.ShowInformation("Settings saved", "The new port and relay setting apply when Kith starts again.", s.win)
				}
			})
		}()
	}, s.win)
	d.Resize(fyne.NewSize(680, 700))
	s.show(d)
}

func parsePort(t string) (int, error) {
	t = strings.TrimSpace(t)
	if t == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(t)
	if err != nil || p < 1024 || p > 65535 {
		return 0, errors.New("a port from 1024 to 65535, or empty for automatic")
	}
	return p, nil
}

// kithTheme is Fyne's theme with Kith's accent colour and, when chosen, a fixed variant.
type kithTheme struct {
	fyne.Theme
	variant *fyne.ThemeVariant // nil: follow the system
}

// accent is Kith's one accent colour (a warm teal), per variant.
var accent = map[fyne.ThemeVariant]color.NRGBA{
	theme.VariantLight: {R: 0x0f, G: 0x76, B: 0x6e, A: 0xff},
	theme.VariantDark:  {R: 0x2d, G: 0xd4, B: 0xbf, A: 0xff},
}

func (t kithTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.variant != nil {
		v = *t.variant
	}
	switch n {
	case theme.ColorNamePrimary, theme.ColorNameHyperlink, theme.ColorNameFocus:
		c := accent[v]
		if n == theme.ColorNameFocus {
			c.A = 0x66
		}
		return c
	case theme.ColorNameDisabled:
		// Fyne's disabled colour is what low-importance labels use (times, "synced", captions):
		// #e3e3e3 on white, nearly invisible. Secondary text that still reads (4.5:1 or more on
		// the background); disabled widgets stay dimmer than the rest.
		return secondary[v]
	}
	return t.Theme.Color(n, v)
}

// secondary is the colour of secondary text, per variant.
var secondary = map[fyne.ThemeVariant]color.NRGBA{
	theme.VariantLight: {R: 0x6b, G: 0x6b, B: 0x6b, A: 0xff},
	theme.VariantDark:  {R: 0x8e, G: 0x8e, B: 0x93, A: 0xff},
}

// applyTheme sets the theme: "light", "dark" or anything else for the system's.
func applyTheme(a fyne.App, name string) {
	t := kithTheme{Theme: theme.DefaultTheme()}
	switch name {
	case "light":
		v := theme.VariantLight
		t.variant = &v
	case "dark":
		v := theme.VariantDark
		t.variant = &v
	}
	a.Settings().SetTheme(t)
}
