package ui

// Files and pictures in the desktop: the paperclip beside the composer sends files with what is
// typed; a message lists its files, and its menu saves each (and shows a picture's thumbnail).

import (
	"bytes"
	"context"
	"fmt"
	_ "image/jpeg" // thumbnails
	_ "image/png"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// withFiles is a message's text followed by a line for each of its files.
func withFiles(m app.Message) string {
	var b strings.Builder
	b.WriteString(m.Text)
	for _, a := range m.Attachments {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		kind := "📎"
		if a.Width > 0 {
			kind = "🖼"
		}
		fmt.Fprintf(&b, "%s %s · %s", kind, community.Printable(a.Name, false), app.SizeWords(a.Size))
		if a.Width > 0 {
			fmt.Fprintf(&b, " · %d×%d", a.Width, a.Height)
		}
		if !a.Have {
			b.WriteString(" · not on this device yet")
		}
	}
	return b.String()
}

// otherFiles are a message's files that are not shown as pictures: each has a button in its row.
func otherFiles(atts []app.Attachment) []app.Attachment {
	var out []app.Attachment
	for _, a := range atts {
		if len(a.Thumb) == 0 || a.Width == 0 || a.Height == 0 {
			out = append(out, a)
		}
	}
	return out
}

// fileButtonText is a file's button: Save when it is on this device, else Get.
func fileButtonText(a app.Attachment) string {
	verb := "Save"
	if !a.Have {
		verb = "Get"
	}
	return fmt.Sprintf("%s %s (%s)", verb, clip(community.Printable(a.Name, false), 40), app.SizeWords(a.Size))
}

// fileButtonHeight is the height a file's button takes in a row.
func fileButtonHeight() float32 { return lineHeight() }

// filesHeight is the height of a row's file buttons.
func filesHeight(atts []app.Attachment) float32 {
	return float32(len(otherFiles(atts))) * fileButtonHeight()
}

// saveOrGet is a file button's action: save the file when it is here, else get it from the
// members online (the row then says it is here, and the button Save).
func (v *CommunityView) saveOrGet(m app.Message, a app.Attachment) {
	switch {
	case a.Have:
		v.saveFileAs(m, a)
	case v.s.net != nil:
		v.fetchFile(m, a)
	default:
		v.s.show(dialog.NewInformation("Not here yet", "This file is not on this device yet: it comes from the members once Kith is online.", v.s.win))
	}
}

// fileItems are a message's menu items for its files: show a picture, save a file.
func (v *CommunityView) fileItems(m app.Message) []*fyne.MenuItem {
	var items []*fyne.MenuItem
	for _, a := range m.Attachments {
		if len(a.Thumb) > 0 {
			items = append(items, fyne.NewMenuItem("Open "+clip(a.Name, 40), func() { v.openPicture(m, a) }))
		}
		if a.Have {
			items = append(items, fyne.NewMenuItem("Save "+clip(a.Name, 40)+"…", func() { v.saveFileAs(m, a) }))
		} else if v.s.net != nil {
			items = append(items, fyne.NewMenuItem("Get "+clip(a.Name, 40)+" from the members online", func() { v.fetchFile(m, a) }))
		}
	}
	return items
}

// saveFileAs asks where to save a file of a message, then writes it there.
func (v *CommunityView) saveFileAs(m app.Message, a app.Attachment) {
	id := v.cur
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		go func() {
			err := v.s.svc.SaveFile(id, m.ID, a.Blob, w)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				_ = storage.Delete(w.URI()) // nothing half-written is left under the file's name
			}
			v.s.do(func() {
				if err != nil {
					v.s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), v.s.win))
				}
			})
		}()
	}, v.s.win)
	d.SetFileName(a.Name)
	v.s.show(d)
}

// attach asks for a file and sends it with what the composer holds.
func (v *CommunityView) attach() {
	id, ch := v.cur, v.curCh
	if id.IsZero() || ch.IsZero() {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		v.sendFiles(id, ch, []fyne.URI{r.URI()})
	}, v.s.win)
	v.s.show(d)
}

// sendFiles sends files (by URI: from the picker, or dropped on the window) with the composer's
// text, off the window's goroutine (a URI that is not a file is read to learn its size); the
// composer empties once they are sent.
func (v *CommunityView) sendFiles(id, ch community.Hash, uris []fyne.URI) {
	v.postFiles(id, ch, func() ([]app.File, error) {
		var files []app.File
		for _, u := range uris {
			f, err := uriFile(u)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
		return files, nil
	})
}

// pastePicture sends a picture pasted into the composer (PNG bytes from the clipboard) with
// what the composer holds.
func (v *CommunityView) pastePicture(png []byte) {
	if v.cur.IsZero() || v.curCh.IsZero() {
		return
	}
	name := "Pasted picture " + time.Now().Format("2006-01-02 15.04.05") + ".png"
	v.postFiles(v.cur, v.curCh, func() ([]app.File, error) {
		return []app.File{{Name: name, Size: int64(len(png)), Mime: "image/png",
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(png)), nil }}}, nil
	})
}

// postFiles posts the files that files gives (called off the window's goroutine) with the
// composer's text and reply; what was typed comes back when they are not sent.
func (v *CommunityView) postFiles(id, ch community.Hash, files func() ([]app.File, error)) {
	text := strings.TrimSpace(v.composer.Text)
	replyTo := v.replyTo
	v.composer.SetText("")
	v.setReply(app.Message{})
	v.s.actFor(fileTime, func(ctx context.Context) error {
		fs, err := files()
		if err != nil {
			return err
		}
		_, err = v.s.svc.PostFiles(ctx, id, ch, text, replyTo, fs)
		return err
	}, func(err error) {
		if err != nil {
			if v.composer.Text == "" {
				v.composer.SetText(text) // nothing typed is lost
			}
			v.s.show(dialog.NewError(fmt.Errorf("not sent: %s", sentence(err)), v.s.win))
		}
	})
}

// uriFile is a file to send from a URI: its name, size and a way to open it.
func uriFile(u fyne.URI) (app.File, error) {
	if u.Scheme() == "file" {
		return app.LocalFile(u.Path())
	}
	open := func() (io.ReadCloser, error) { return storage.Reader(u) }
	rc, err := storage.Reader(u) // another kind of place: its size is what it reads
	if err != nil {
		return app.File{}, err
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		return app.File{}, err
	}
	return app.File{Name: u.Name(), Size: n, Open: open}, nil
}

// fetchFile fetches a message's file from the members online; the row says when it is here.
func (v *CommunityView) fetchFile(m app.Message, a app.Attachment) {
	id := v.cur
	v.s.actFor(fileTime, func(ctx context.Context) error {
		return v.s.net.FetchFile(ctx, id, m.ID, a.Blob)
	}, func(err error) {
		if err != nil {
			v.s.show(dialog.NewInformation("Not here yet", sentence(err), v.s.win))
		}
	})
}
