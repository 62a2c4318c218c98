package ui

// Pictures on the system clipboard. Fyne's clipboard holds text only, so a picture (a
// screenshot, an image copied in a browser) is read with golang.design/x/clipboard: X11 on Linux
// (XWayland under Wayland), the pasteboard on macOS, the clipboard on Windows.

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.design/x/clipboard"
)

var (
	clipOnce sync.Once
	clipOK   bool
	clipBusy atomic.Bool // a read is under way (one that never ends keeps the others off)
)

// clipWait bounds how long a paste waits for the clipboard's owner to hand its picture over.
const clipWait = 3 * time.Second

// clipboardPicture is the PNG picture on the system clipboard, nil when it holds none, the
// clipboard cannot be read here (no X display: the picture paste is then off, text still pastes),
// or its owner does not answer within clipWait.
func clipboardPicture() []byte {
	clipOnce.Do(func() {
		if err := clipboard.Init(); err != nil {
			slog.Debug("pictures cannot be pasted here", "err", err)
			return
		}
		clipOK = true
	})
	if !clipOK || !clipBusy.CompareAndSwap(false, true) {
		return nil
	}
	got := make(chan []byte, 1)
	go func() { // the library waits for the owner with no deadline of its own
		defer clipBusy.Store(false)
		got <- clipboard.Read(clipboard.FmtImage)
	}()
	select {
	case b := <-got:
		return b
	case <-time.After(clipWait):
		slog.Debug("the clipboard's owner did not hand its picture over")
		return nil
	}
}
