package ui

// Pictures in the conversation: each picture's thumbnail (made by its sender, in the message)
// shows under the text at once; a tap opens it, the thumbnail first and the full picture once it
// is on this device (fetched from the members online when it is not).

import (
	"bytes"
	"context"
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// Sizes of pictures in the conversation and when opened.
const (
	picHeight     = 150      // a thumbnail's height in a row
	picMaxWidth   = 300      // and its width at most (a panorama)
	fullSide      = 1600     // an opened picture is scaled to this side at most
	maxThumbCache = 300      // decoded thumbnails kept for the rows
	maxOpenSize   = 64 << 20 // a picture file larger than this is not read into memory to show
)

// pictures are the attachments of a message that show as pictures: those with a thumbnail.
func pictures(atts []app.Attachment) []app.Attachment {
	var out []app.Attachment
	for _, a := range atts {
		if len(a.Thumb) > 0 && a.Width > 0 && a.Height > 0 {
			out = append(out, a)
		}
	}
	return out
}

// picRect is where a thumbnail goes in the space under a row's text.
type picRect struct {
	at   fyne.Position
	size fyne.Size
}

// picsGeometry places a message's pictures left to right in lines of width w, each picHeight
// tall (as wide as its proportions say, picMaxWidth at most); h is the height they take, with
// the space after them. The row's height and its layout both come from here.
func picsGeometry(atts []app.Attachment, w float32) (rects []picRect, h float32) {
	pics := pictures(atts)
	if len(pics) == 0 {
		return nil, 0
	}
	gap := theme.Padding()
	x0 := theme.InnerPadding() // under the text, which its label pads by this much
	w -= x0
	x, y := float32(0), gap
	for _, a := range pics {
		pw := fyne.Min(float32(picHeight)*float32(a.Width)/float32(a.Height), picMaxWidth)
		pw = fyne.Max(fyne.Min(pw, w), 24)
		if x > 0 && x+pw > w {
			x, y = 0, y+picHeight+gap
		}
		rects = append(rects, picRect{at: fyne.NewPos(x0+x, y), size: fyne.NewSize(pw, picHeight)})
		x += pw + gap
	}
	return rects, y + picHeight + gap
}

// thumbCache holds the decoded thumbnails the rows show (decoding is not free, and rows are
// made again as the list scrolls). Fyne thread only.
type thumbCache struct {
	imgs map[community.Hash]image.Image
}

// get is a picture's decoded thumbnail, nil when it does not decode.
func (c *thumbCache) get(a app.Attachment) image.Image {
	if c == nil {
		return decodeThumb(a.Thumb)
	}
	if img, ok := c.imgs[a.Blob]; ok {
		return img
	}
	if c.imgs == nil || len(c.imgs) >= maxThumbCache {
		c.imgs = map[community.Hash]image.Image{}
	}
	img := decodeThumb(a.Thumb)
	c.imgs[a.Blob] = img
	return img
}

// decodeThumb decodes a thumbnail (the service checked its header: small, JPEG or PNG).
func decodeThumb(b []byte) image.Image {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return img
}

// thumbView is a picture's thumbnail in a row: a tap opens the picture.
type thumbView struct {
	widget.BaseWidget
	img   *canvas.Image
	bg    *canvas.Rectangle
	a     app.Attachment
	onTap func(app.Attachment)
}

func newThumbView() *thumbView {
	t := &thumbView{img: &canvas.Image{FillMode: canvas.ImageFillContain, ScaleMode: canvas.ImageScaleSmooth},
		bg: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))}
	t.bg.CornerRadius = theme.InputRadiusSize()
	t.ExtendBaseWidget(t)
	return t
}

func (t *thumbView) set(a app.Attachment, img image.Image) {
	if t.a.Blob == a.Blob && t.img.Image == img {
		return
	}
	t.a = a
	t.img.Image = img
	t.img.Refresh()
}

func (t *thumbView) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap(t.a)
	}
}

// Cursor shows a hand over a picture: it opens.
func (t *thumbView) Cursor() desktop.Cursor { return desktop.PointerCursor }

func (t *thumbView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(t.bg, t.img))
}

// openPicture opens a message's picture: its thumbnail at once, and the full picture once it is
// on this device — fetched from the members online first when it is not, the dialog saying so.
func (v *CommunityView) openPicture(m app.Message, a app.Attachment) {
	s := v.s
	id := v.cur
	img := canvas.NewImageFromImage(decodeThumb(a.Thumb))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScaleSmooth
	img.SetMinSize(pictureSize(a, s.win.Canvas().Size()))
	name := community.Printable(a.Name, false)
	info := wrapped(fmt.Sprintf("%s · %s · %d×%d", name, app.SizeWords(a.Size), a.Width, a.Height))
	status := wrapped("")
	status.Hidden = true
	say := func(t string) { status.SetText(t); status.Hidden = t == ""; status.Refresh() }
	var save *widget.Button
	save = widget.NewButton("Save…", func() { v.saveFileAs(m, a) })
	save.Hidden = !a.Have
	d := dialog.NewCustom(name, "Close", container.NewBorder(nil, container.NewVBox(info, status, container.NewHBox(save)), nil, nil, img), s.win)
	s.show(d)
	if !a.Have {
		if s.net == nil {
			say("The full picture is not on this device yet: it comes once Kith is online.")
			return
		}
		say("Getting the full picture from the members online…")
	}
	if a.Size > maxOpenSize {
		say(fmt.Sprintf("This picture is %s: too large to open here. Save it and open it with another program.", app.SizeWords(a.Size)))
		return
	}
	var full image.Image // written by the call, read by done (after it)
	s.actFor(fileTime, func(ctx context.Context) error {
		if !a.Have {
			if err := s.net.FetchFile(ctx, id, m.ID, a.Blob); err != nil {
				return err
			}
		}
		var err error
		full, err = v.fullPicture(id, m.ID, a)
		return err
	}, func(err error) {
		if err != nil {
			say(sentence(err))
			return
		}
		img.Image = full
		img.Refresh()
		say("")
		save.Show()
	})
}

// pictureSize is the size an opened picture is shown at: its own, within most of the window.
func pictureSize(a app.Attachment, win fyne.Size) fyne.Size {
	w, h := float32(a.Width), float32(a.Height)
	maxW, maxH := fyne.Max(win.Width*0.8, 320), fyne.Max(win.Height-260, 240) // the dialog's title, text and buttons
	if scale := fyne.Min(maxW/w, maxH/h); scale < 1 {
		w, h = w*scale, h*scale
	}
	return fyne.NewSize(fyne.Max(w, 160), fyne.Max(h, 120))
}

// fullPicture reads a picture on this device and scales it to fullSide at most (off the
// window's goroutine).
func (v *CommunityView) fullPicture(id, message community.Hash, a app.Attachment) (image.Image, error) {
	var buf bytes.Buffer
	if err := v.s.svc.SaveFile(id, message, a.Blob, &buf); err != nil {
		return nil, err
	}
	pic, _, _, err := app.ReadPicture(&buf, fullSide)
	if err != nil {
		return nil, fmt.Errorf("this picture does not open here (%s): save it and open it with another program", a.Mime)
	}
	return pic, nil
}
