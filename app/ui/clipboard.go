package ui

// Pictures on the system clipboard. Fyne's clipboard holds text only, so a picture (a
// screenshot, an image copied in a browser) is read with golang.design/x/clipboard: X11 on Linux
// (XWayland under Wayland), the pasteboard on macOS, the clipboard on Windows.

import (
	"log/slog"
	"sync"

	"golang.design/x/clipboard"
)

var (
	clipOnce sync.Once
	clipOK   bool
)

// clipboardPicture is the PNG picture on the system clipboard, nil when it holds none or the
// clipboard cannot be read here (no X display: the picture paste is then off, text still pastes).
func clipboardPicture() []byte {
	clipOnce.Do(func() {
		if err := clipboard.Init(); err != nil {
			slog.Debug("pictures cannot be pasted here", "err", err)
			return
		}
		clipOK = true
	})
	if !clipOK {
		return nil
	}
	return clipboard.Read(clipboard.FmtImage)
}
