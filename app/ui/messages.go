package ui

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// PageSize is how many messages one read of the store brings (the latest page, then each older
// one as the list scrolls up).
const PageSize = 50

// msgRow is one message as the list shows it.
type msgRow struct {
	m       app.Message
	pending bool    // typed here, not yet stored and published
	failed  string  // why it was not sent
	head    bool    // first of a group: avatar, name and time show
	day     string  // first of a day: the day's separator shows
	quote   string  // a reply: its parent, quoted in one line ("" for none)
	textH   float32 // the text's wrapped height at width textW (a cache: measuring is not free)
	textW   float32
	h       float32 // the row's height, as last given to the list
	token   int     // a pending row's own number, to find it when the store answers
}

// maxRows bounds the rows held while new messages stream in at the bottom (a long catch-up):
// past it the oldest go, to be read again as pages if the person scrolls up.
const maxRows = 1500

// messageList is the channel's messages in a virtualized list (widget.List keeps only the
// visible rows as widgets), loaded a page at a time: the latest at once, older ones when the
// top comes into view. Rows hold only what a page read returned; nothing reads the store on the
// Fyne thread.
type messageList struct {
	v       *CommunityView
	list    *widget.List // replaced by rebuild
	holder  *fyne.Container
	empty   *widget.Label
	content fyne.CanvasObject
	measure *widget.Label // wraps a text at a width to learn its height
	thumbs  thumbCache    // decoded thumbnails of the rows' pictures

	// Fyne thread only.
	comm, ch  community.Hash
	rows      []msgRow // oldest first
	more      bool     // older pages may exist
	loading   bool
	pinning   bool // laying out the latest page before it scrolls to the bottom: no paging yet
	gen       int
	width     float32        // of the list, the last time heights were set
	tokens    int            // pending rows numbered so far
	epoch     int            // bumped when another channel is shown (gen also moves on reloads)
	unseen    int            // messages that came while the person read further up
	newFrom   community.Hash // the first of them: a "New messages" line shows above it
	jump      *widget.Button // "n new messages ↓" over the list's bottom, while there are any
	jumpAfter community.Hash // a message to go to once the page being read holds it (see goTo)
}

func newMessageList(v *CommunityView) *messageList {
	l := &messageList{v: v, measure: widget.NewLabel("")}
	l.measure.Wrapping = fyne.TextWrapWord
	l.list = l.makeList()
	l.empty = wrapped("")
	l.empty.Alignment = fyne.TextAlignCenter
	l.empty.Importance = widget.LowImportance
	l.holder = container.New(&widthWatch{onWidth: l.relayout}, l.list, container.NewCenter(l.empty))
	l.jump = widget.NewButtonWithIcon("", theme.MoveDownIcon(), l.toLatest)
	l.jump.Importance = widget.HighImportance
	l.jump.Hide()
	l.content = container.NewStack(l.holder, container.NewBorder(nil, container.NewCenter(l.jump), nil, nil))
	return l
}

// toLatest scrolls to the newest message; the "New messages" line stays where it was.
func (l *messageList) toLatest() {
	l.list.ScrollToBottom()
	l.unseen = 0
	l.jump.Hide()
}

// seen hides the jump button once the newest message is in view.
func (l *messageList) seen() {
	if l.unseen > 0 && l.atBottom() {
		l.unseen = 0
		l.jump.Hide()
	}
}

// makeList makes the list widget. A new one is made whenever the rows' heights shift (a page
// on top, a new width): widget.List keeps heights by index, and setting them one by one on a
// list on screen redraws it each time (quadratic); a list not yet shown takes them for free.
func (l *messageList) makeList() *widget.List {
	list := widget.NewList(
		func() int { return len(l.rows) },
		func() fyne.CanvasObject { return newMsgItem() },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(l.rows) {
				return
			}
			it := o.(*msgItem)
			it.onMenu = l.showMenu
			it.onPic = func(r msgRow, a app.Attachment) { l.v.openPicture(r.m, a) }
			it.onFile = func(r msgRow, a app.Attachment) { l.v.saveOrGet(r.m, a) }
			it.pictureOf = l.v.pictureOf
			it.thumbs = &l.thumbs
			it.quote.onTap = func() { l.jumpTo(it.row.m.ReplyTo) }
			it.set(l.rows[i])
			if i < 5 && l.more && !l.loading && !l.pinning {
				l.loadOlder()
			}
		},
	)
	list.HideSeparators = true
	return list
}

// widthWatch lays its objects over each other and tells when the width changes (wrapped rows
// change height).
type widthWatch struct {
	onWidth func(float32)
	last    float32
}

func (w *widthWatch) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	if size.Width != w.last {
		w.last = size.Width
		w.onWidth(size.Width)
	}
}

func (w *widthWatch) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(200, 120)
}

func (l *messageList) clear() {
	l.unseen, l.newFrom = 0, community.Hash{}
	if l.jump != nil {
		l.jump.Hide()
	}
	l.gen++
	l.epoch++
	l.comm, l.ch, l.rows, l.more, l.loading = community.Hash{}, community.Hash{}, nil, false, false
	l.rebuild()
	l.showEmpty("")
}

func (l *messageList) showEmpty(text string) {
	l.empty.SetText(text)
	l.empty.Hidden = text == ""
	l.empty.Refresh()
}

// open shows a channel: its latest page, read in the background.
func (l *messageList) open(comm, ch community.Hash) {
	l.clear()
	l.comm, l.ch = comm, ch
	l.reloadLatest()
}

// reloadLatest reads the latest page again (after a lag, or when waiting messages became
// readable); own messages still pending stay.
func (l *messageList) reloadLatest() {
	if l.ch == (community.Hash{}) {
		return
	}
	l.gen++
	gen, comm, ch := l.gen, l.comm, l.ch
	l.loading = true
	go func() {
		page, err := l.v.s.svc.Messages(comm, ch, community.Position{}, PageSize)
		l.v.s.do(func() {
			if gen != l.gen {
				return
			}
			l.loading = false
			if err != nil {
				l.showEmpty("Kith could not read this channel: " + sentence(err))
				return
			}
			l.applyLatest(page)
		})
	}()
}

// applyLatest shows the latest page read, newest first.
func (l *messageList) applyLatest(page []app.Message) {
	// Kept: messages that arrived while the page was read (newer than its newest), then
	// own messages still pending or not sent.
	inPage := make(map[community.Hash]bool, len(page))
	for _, m := range page {
		inPage[m.ID] = true
	}
	var later, pending []msgRow
	for _, r := range l.rows {
		switch {
		case r.pending || r.failed != "":
			pending = append(pending, r)
		case !inPage[r.m.ID] && (len(page) == 0 || page[0].At.Less(r.m.At)):
			later = append(later, r)
		}
	}
	rows := make([]msgRow, 0, len(page)+len(later)+len(pending))
	for i := len(page) - 1; i >= 0; i-- {
		rows = append(rows, msgRow{m: page[i]})
	}
	l.rows = append(append(rows, later...), pending...)
	l.more = len(page) == PageSize
	l.regroup(0)
	l.pinning = true
	l.relayout(l.width)
	l.list.ScrollToBottom()
	l.pinning = false
	l.updateEmpty()
	if id := l.jumpAfter; !id.IsZero() {
		l.jumpAfter = community.Hash{}
		l.jumpTo(id) // older than the latest page: the channel shows its latest
	}
}

func (l *messageList) updateEmpty() {
	if len(l.rows) > 0 {
		l.showEmpty("")
		return
	}
	if c, ok := l.v.channel(); ok && c.Type == community.ChannelAnnouncements {
		l.showEmpty("No announcements yet.")
		return
	}
	l.showEmpty("No messages yet — say hello.")
}

// loadOlder reads the page before the oldest row shown and puts it on top, keeping what is on
// screen where it was.
func (l *messageList) loadOlder() {
	if len(l.rows) == 0 {
		return
	}
	l.loading = true
	gen, comm, ch, before := l.gen, l.comm, l.ch, l.rows[0].m.At
	go func() {
		page, err := l.v.s.svc.Messages(comm, ch, before, PageSize)
		l.v.s.do(func() {
			if gen != l.gen {
				return
			}
			l.loading = false
			if err != nil {
				l.more = false
				return
			}
			l.more = len(page) == PageSize
			if len(page) == 0 {
				return
			}
			older := make([]msgRow, 0, len(page)+len(l.rows))
			for i := len(page) - 1; i >= 0; i-- {
				older = append(older, msgRow{m: page[i]})
			}
			offset := l.list.GetScrollOffset()
			wasFirst := l.rows[0].h
			l.rows = append(older, l.rows...)
			l.regroup(0)
			l.rebuild()
			// What was on top moves down by the new rows, and by its own change of height (it
			// may lose its header or its day line now that older rows sit above it).
			added := l.rows[len(page)].h - wasFirst
			for _, r := range l.rows[:len(page)] {
				added += r.h + theme.Padding()
			}
			l.list.ScrollToOffset(offset + added)
		})
	}()
}

// add puts a stored message in its place: after the others when it is the newest (the usual
// case), among them when it is older but within the pages shown, nowhere when older still.
// An own pending row with the same text becomes this message.
func (l *messageList) add(m app.Message) {
	if l.index(m.ID) >= 0 {
		if m.Mine { // shown already (a page read it): its pending row goes
			for i, r := range l.rows {
				if r.pending && r.m.Text == m.Text {
					l.rows = append(l.rows[:i], l.rows[i+1:]...)
					l.settle(i)
					break
				}
			}
		}
		return
	}
	if m.Mine {
		for i, r := range l.rows {
			if r.pending && r.m.Text == m.Text {
				l.rows[i] = msgRow{m: m}
				l.settle(i)
				return
			}
		}
	}
	at := len(l.rows)
	for i, r := range l.rows {
		if r.pending || r.failed != "" {
			at = i
			break
		}
	}
	for at > 0 && m.At.Less(l.rows[at-1].m.At) {
		at--
	}
	if at == 0 && l.more {
		return // older than the pages shown: it shows when they are read
	}
	bottom := l.atBottom()
	l.rows = append(l.rows, msgRow{})
	copy(l.rows[at+1:], l.rows[at:])
	l.rows[at] = msgRow{m: m}
	if bottom && len(l.rows) > maxRows {
		l.rows = append([]msgRow(nil), l.rows[len(l.rows)-maxRows+maxRows/3:]...)
		l.more = true
		l.settle(0)
	} else {
		l.settle(at)
	}
	if bottom || m.Mine {
		l.list.ScrollToBottom()
		return
	}
	// Read further up: the message waits below, counted on the jump button, and a line marks
	// where the new ones start.
	if l.unseen == 0 && l.newFrom.IsZero() {
		l.newFrom = m.ID
		l.regroup(at)
		l.relayoutFrom(at)
	}
	l.unseen++
	if l.unseen == 1 {
		l.jump.SetText("1 new message")
	} else {
		l.jump.SetText(fmt.Sprintf("%d new messages", l.unseen))
	}
	l.jump.Show()
}

// index is the row of a stored message, or -1.
func (l *messageList) index(id community.Hash) int {
	for i := len(l.rows) - 1; i >= 0; i-- {
		if !l.rows[i].pending && l.rows[i].m.ID == id {
			return i
		}
	}
	return -1
}

// post shows text as pending at once, then stores and publishes it in the background.
func (l *messageList) post(text string, replyTo community.Hash) {
	comm, ch := l.comm, l.ch
	if ch == (community.Hash{}) {
		return
	}
	l.tokens++
	token := l.tokens
	row := msgRow{m: app.Message{Channel: ch, Text: text, Mine: true, Name: l.v.myName(), Time: time.Now(), ReplyTo: replyTo}, pending: true, token: token}
	l.rows = append(l.rows, row)
	l.settle(len(l.rows) - 1)
	l.list.ScrollToBottom()
	epoch := l.epoch
	go func() {
		m, err := l.v.s.svc.Post(l.v.s.ctx, comm, ch, text, replyTo)
		l.v.s.do(func() {
			if epoch != l.epoch {
				return // another channel is shown: the message is in its own when it comes back
			}
			for i, r := range l.rows {
				if !r.pending || r.token != token {
					continue
				}
				switch {
				case err != nil:
					l.rows[i].pending, l.rows[i].failed = false, sentence(err)
				case l.index(m.ID) >= 0: // the event stream brought it first, into another pending row
					l.rows = append(l.rows[:i], l.rows[i+1:]...)
				default:
					l.rows[i] = msgRow{m: m}
				}
				l.settle(i)
				return
			}
		})
	}()
}

// settle regroups and lays out the rows from i on (the ones before did not move).
func (l *messageList) settle(i int) {
	l.regroup(i)
	l.relayoutFrom(i)
	l.updateEmpty()
}

// atBottom reports whether the last rows are in view (new messages then scroll in).
func (l *messageList) atBottom() bool {
	var total float32
	for _, r := range l.rows {
		total += r.h + theme.Padding()
	}
	return l.list.GetScrollOffset()+l.list.Size().Height >= total-60
}

// regroup marks, from row `from` on, the rows that start a group (another author, 5 minutes
// apart) and those that start a day.
func (l *messageList) regroup(from int) {
	for i := max(from, 0); i < len(l.rows); i++ {
		r := &l.rows[i]
		r.quote = l.quoteOf(r.m)
		l.group(i)
		l.markNew(r)
	}
}

// group sets row i's day separator and whether it starts a group.
func (l *messageList) group(i int) {
	r := &l.rows[i]
	day := r.m.Time.Local().Format("Monday, 2 January 2006")
	r.day, r.head = "", true
	if i == 0 {
		if !l.more {
			r.day = day
		}
		return
	}
	p := l.rows[i-1]
	if p.m.Time.Local().Format("Monday, 2 January 2006") != day {
		r.day = day
		return
	}
	r.head = !bytes.Equal(p.m.Author, r.m.Author) || p.m.Name != r.m.Name || r.m.Time.Sub(p.m.Time) > 5*time.Minute
}

// markNew adds "New messages" to the separator above the first message that came while the
// person read further up.
func (l *messageList) markNew(r *msgRow) {
	if l.newFrom.IsZero() || r.pending || r.m.ID != l.newFrom {
		return
	}
	r.head = true // the line parts it from the messages read before
	if r.day == "" {
		r.day = "New messages"
	} else {
		r.day += "  ·  New messages"
	}
}

// quoteOf is the one line a reply shows above its text: its parent's author and first words.
func (l *messageList) quoteOf(m app.Message) string {
	if m.ReplyTo.IsZero() {
		return ""
	}
	if i := l.index(m.ReplyTo); i >= 0 {
		p := l.rows[i].m
		return "↪ " + nameOr(p.Name) + ": " + clip(strings.Join(strings.Fields(p.Text), " "), 120)
	}
	return "↪ a reply to an earlier message"
}

// footOf is the line under a message: its reactions, and whether it was edited or is pinned.
func footOf(m app.Message) string {
	var parts []string
	for _, r := range m.Reactions {
		parts = append(parts, fmt.Sprintf("%s %d", r.Emoji, r.Count))
	}
	react := strings.Join(parts, "   ")
	var marks []string
	if m.Edited {
		marks = append(marks, "edited")
	}
	if m.Pinned {
		marks = append(marks, "pinned")
	}
	if m.Promotion && m.Poll == nil {
		marks = append(marks, "promotion")
	}
	if m.OverBudget {
		marks = append(marks, "past this week's promotion budget: members do not see it")
	}
	if len(marks) > 0 {
		if react != "" {
			react += "   ·   "
		}
		react += strings.Join(marks, " · ")
	}
	return react
}

// update shows a message's new state (an edit, reactions, a pin) in its row.
func (l *messageList) update(m app.Message) {
	i := l.index(m.ID)
	if i < 0 {
		return
	}
	l.rows[i].m = m
	l.rows[i].textW = 0 // measure the text again
	l.settle(i)
	for j := i + 1; j < len(l.rows); j++ { // replies quoting it
		if l.rows[j].m.ReplyTo == m.ID {
			l.settle(j)
		}
	}
}

// jumpTo scrolls to a message's row, if it is loaded.
func (l *messageList) jumpTo(id community.Hash) bool {
	i := l.index(id)
	if i < 0 {
		return false
	}
	l.list.ScrollTo(i)
	l.list.Select(i)
	return true
}

// Row geometry: the avatar column and the text's left edge.
const avatarSize = 34

// relayout sets every row's height for the list's width: wrapped text takes as many lines as
// it needs.
func (l *messageList) relayout(width float32) {
	l.width = width
	l.relayoutFrom(0)
}

// relayoutFrom sets the heights of the rows from i on: one by one for a few rows at the end
// (a new message), else through a new list.
func (l *messageList) relayoutFrom(i int) {
	if len(l.rows)-i > 8 {
		l.rebuild()
		return
	}
	for j := max(i, 0); j < len(l.rows); j++ {
		l.rows[j].h = l.rowHeight(j)
		l.list.SetItemHeight(j, l.rows[j].h)
	}
	l.list.Refresh()
}

// rebuild swaps in a new list with every row's height set, at the same scroll offset.
func (l *messageList) rebuild() {
	off := l.list.GetScrollOffset()
	nl := l.makeList()
	for j := range l.rows {
		l.rows[j].h = l.rowHeight(j)
		nl.SetItemHeight(j, l.rows[j].h)
	}
	l.list = nl
	l.holder.Objects[0] = nl
	nl.Resize(l.holder.Size())
	nl.Move(fyne.NewPos(0, 0))
	nl.ScrollToOffset(off)
	l.holder.Refresh()
}

// rowHeight is the height row i needs at the list's width (msgLayout places it the same way).
func (l *messageList) rowHeight(i int) float32 {
	r := &l.rows[i]
	if w := textWidth(l.width - theme.ScrollBarSize()); r.textW != w {
		l.measure.SetText(shownText(r.m))
		l.measure.Resize(fyne.NewSize(w, 10))
		r.textH, r.textW = l.measure.MinSize().Height, w
	}
	_, pics := picsGeometry(r.m.Attachments, textWidth(l.width-theme.ScrollBarSize()))
	pics += filesHeight(r.m.Attachments)
	return rowGeometry(r.day != "", r.head, r.quote != "", footOf(r.m) != "", r.failed != "", r.textH+pics)
}

// textWidth is the width a message's text wraps at in a row of width w.
func textWidth(w float32) float32 {
	return fyne.Max(w-gutterWidth()-theme.Padding(), 120)
}

func gutterWidth() float32 { return avatarSize + 2*theme.Padding() }

// overlap is how much consecutive labels of a row overlap: each pads itself by InnerPadding,
// which would leave too much air between a name and its text.
func overlap() float32 { return theme.InnerPadding() * 1.25 }

func lineHeight() float32 {
	return fyne.MeasureText("Mg", theme.TextSize(), fyne.TextStyle{}).Height + 2*theme.InnerPadding()
}

func captionHeight() float32 {
	return fyne.MeasureText("Mg", theme.CaptionTextSize(), fyne.TextStyle{}).Height + 2*theme.InnerPadding()
}

// rowGeometry is the height of a row with these parts and a text this tall.
func rowGeometry(day, head, quote, foot, failed bool, text float32) float32 {
	h := text
	if head {
		h += lineHeight() - overlap()
	}
	for _, caption := range []bool{quote, foot, failed} {
		if caption {
			h += captionHeight() - overlap()
		}
	}
	if head {
		h = fyne.Max(h, avatarSize+2*theme.Padding())
	}
	if day {
		h += captionHeight()
	}
	return h
}

// msgItem is one row of the list: a day separator, a header (avatar, name, role, time) and the
// text, which wraps and can be selected.
type msgItem struct {
	widget.BaseWidget
	day       *widget.Label
	av        *avatar
	name      *widget.Label
	badge     *widget.Label
	when      *widget.Label
	text      *widget.Label
	quote     *tapLabel     // a reply's parent, in one line: a tap jumps to it
	foot      *widget.Label // reactions, edited, pinned
	failed    *widget.Label
	head      *fyne.Container
	menu      *widget.Button   // the message's menu (copy, delete), on a group's first row
	pics      []*thumbView     // the pictures' thumbnails, under the text (community.MaxFiles; unused ones hidden)
	files     []*widget.Button // a Save (or Get) button for each other file, under the pictures
	row       msgRow
	onMenu    func(r msgRow, at fyne.Position, to fyne.CanvasObject) // nil: no menu
	onPic     func(r msgRow, a app.Attachment)                       // a thumbnail tapped
	onFile    func(r msgRow, a app.Attachment)                       // a file's button tapped
	pictureOf func(key []byte) image.Image                           // a member's picture (nil: none)
	thumbs    *thumbCache                                            // decoded thumbnails, shared by the list's rows
}

// TappedSecondary opens the message's menu (right click, or a long press), on any row.
func (it *msgItem) TappedSecondary(e *fyne.PointEvent) {
	if it.onMenu != nil {
		it.onMenu(it.row, e.Position, it)
	}
}

func newMsgItem() *msgItem {
	it := &msgItem{
		day: widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		av:  newAvatar(), name: widget.NewLabel(""), badge: widget.NewLabel(""), when: widget.NewLabel(""),
		text: widget.NewLabel(""), failed: widget.NewLabel(""), quote: newTapLabel(), foot: widget.NewLabel(""),
	}
	it.quote.Importance = widget.LowImportance
	it.quote.SizeName = theme.SizeNameCaptionText
	it.quote.Truncation = fyne.TextTruncateEllipsis
	it.quote.TextStyle.Italic = true
	it.foot.SizeName = theme.SizeNameCaptionText
	it.foot.Truncation = fyne.TextTruncateEllipsis
	it.day.Importance = widget.LowImportance
	it.day.SizeName = theme.SizeNameCaptionText
	it.name.TextStyle.Bold = true
	it.badge.Importance = widget.HighImportance
	it.badge.SizeName = theme.SizeNameCaptionText
	it.when.Importance = widget.LowImportance
	it.when.SizeName = theme.SizeNameCaptionText
	it.text.Wrapping = fyne.TextWrapWord
	it.text.Selectable = true
	it.failed.Importance = widget.DangerImportance
	it.failed.SizeName = theme.SizeNameCaptionText
	it.failed.Truncation = fyne.TextTruncateEllipsis
	it.menu = widget.NewButtonWithIcon("", theme.MoreHorizontalIcon(), nil)
	it.menu.Importance = widget.LowImportance
	it.menu.OnTapped = func() {
		if it.onMenu != nil {
			it.onMenu(it.row, fyne.NewPos(0, it.menu.Size().Height), it.menu)
		}
	}
	it.head = container.New(&tightRow{}, it.name, it.badge, it.when, it.menu)
	for range community.MaxFiles {
		tv := newThumbView()
		tv.Hidden = true
		tv.onTap = func(a app.Attachment) {
			if it.onPic != nil {
				it.onPic(it.row, a)
			}
		}
		it.pics = append(it.pics, tv)
		b := widget.NewButtonWithIcon("", theme.DownloadIcon(), nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		b.Hidden = true
		it.files = append(it.files, b)
	}
	it.ExtendBaseWidget(it)
	return it
}

// set shows a row. Only the labels whose text changed are refreshed (shaping text is the cost
// of a list row), and the row itself is laid out again, not redrawn child by child.
func (it *msgItem) set(r msgRow) {
	it.row = r
	setText(it.day, r.day)
	it.day.Hidden = r.day == ""
	it.head.Hidden = !r.head
	it.av.Hidden = !r.head
	if r.head {
		it.av.set(r.m.Author, r.m.Name, it.pictureOf(r.m.Author))
		setText(it.name, nameOr(r.m.Name))
		badge := ""
		if r.m.Role >= community.RoleModerator {
			badge = r.m.Role.String()
		}
		setText(it.badge, badge)
		it.badge.Hidden = badge == ""
		when := r.m.Time.Local().Format("15:04")
		if r.pending {
			when += " · sending…"
		}
		setText(it.when, when)
	}
	setText(it.text, shownText(r.m))
	it.quote.Hidden = r.quote == ""
	setText(&it.quote.Label, r.quote)
	foot := footOf(r.m)
	it.foot.Hidden = foot == ""
	setText(it.foot, foot)
	it.failed.Hidden = r.failed == ""
	if r.failed != "" {
		setText(it.failed, "Not sent: "+r.failed)
	}
	pics := pictures(r.m.Attachments)
	for i, tv := range it.pics {
		if i < len(pics) {
			tv.set(pics[i], it.thumbs.get(pics[i]))
		}
		tv.Hidden = i >= len(pics)
	}
	files := otherFiles(r.m.Attachments)
	for i, b := range it.files {
		b.Hidden = i >= len(files)
		if b.Hidden {
			continue
		}
		a := files[i]
		if t := fileButtonText(a); b.Text != t {
			b.SetText(t)
		}
		b.OnTapped = func() {
			if it.onFile != nil {
				it.onFile(it.row, a)
			}
		}
	}
	it.Refresh()
}

func setText(l *widget.Label, text string) {
	if l.Text != text {
		l.SetText(text)
	}
}

func (it *msgItem) CreateRenderer() fyne.WidgetRenderer {
	r := &msgRenderer{it: it, lay: msgLayout{it: it}}
	r.objs = []fyne.CanvasObject{it.day, it.av, it.head, it.quote, it.text, it.foot, it.failed}
	for _, tv := range it.pics {
		r.objs = append(r.objs, tv)
	}
	for _, b := range it.files {
		r.objs = append(r.objs, b)
	}
	return r
}

// msgRenderer lays a row out on Refresh without refreshing its labels (set did what was needed).
type msgRenderer struct {
	it   *msgItem
	lay  msgLayout
	objs []fyne.CanvasObject
}

func (r *msgRenderer) Layout(size fyne.Size)        { r.lay.Layout(r.objs, size) }
func (r *msgRenderer) MinSize() fyne.Size           { return r.lay.MinSize(r.objs) }
func (r *msgRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *msgRenderer) Destroy()                     {}
func (r *msgRenderer) Refresh() {
	r.Layout(r.it.Size())
	h := r.it.head // a badge may have come or gone: lay it out, without redrawing its labels
	h.Layout.Layout(h.Objects, h.Size())
	canvas.Refresh(r.it)
}

// msgLayout places a row's parts as rowGeometry counts them.
type msgLayout struct{ it *msgItem }

func (m *msgLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	it := m.it
	y := float32(0)
	if it.day.Visible() {
		it.day.Resize(fyne.NewSize(size.Width, captionHeight()))
		it.day.Move(fyne.NewPos(0, 0))
		y += captionHeight()
	}
	x := gutterWidth()
	w := size.Width - x
	if it.head.Visible() {
		it.av.Resize(fyne.NewSize(avatarSize, avatarSize))
		it.av.Move(fyne.NewPos(theme.Padding(), y+theme.Padding()))
		it.head.Resize(fyne.NewSize(w, lineHeight()))
		it.head.Move(fyne.NewPos(x, y))
		y += lineHeight() - overlap()
	}
	if it.quote.Visible() {
		it.quote.Resize(fyne.NewSize(w, captionHeight()))
		it.quote.Move(fyne.NewPos(x, y))
		y += captionHeight() - overlap()
	}
	th := it.text.MinSize().Height
	it.text.Resize(fyne.NewSize(w, th))
	it.text.Move(fyne.NewPos(x, y))
	th = it.text.MinSize().Height // wrapped at its width now
	it.text.Resize(fyne.NewSize(w, th))
	y += th - overlap()
	rects, ph := picsGeometry(it.row.m.Attachments, w)
	for i, rc := range rects {
		it.pics[i].Resize(rc.size)
		it.pics[i].Move(fyne.NewPos(x+rc.at.X, y+rc.at.Y))
	}
	y += ph
	for _, b := range it.files {
		if b.Hidden {
			continue
		}
		b.Resize(fyne.NewSize(fyne.Min(b.MinSize().Width, w), fileButtonHeight()))
		b.Move(fyne.NewPos(x, y))
		y += fileButtonHeight()
	}
	if it.foot.Visible() {
		it.foot.Resize(fyne.NewSize(w, captionHeight()))
		it.foot.Move(fyne.NewPos(x, y))
		y += captionHeight() - overlap()
	}
	it.failed.Resize(fyne.NewSize(w, captionHeight()))
	it.failed.Move(fyne.NewPos(x, y))
}

// tapLabel is a label that does something when tapped (a reply's quote jumps to its parent).
type tapLabel struct {
	widget.Label
	onTap func()
}

func newTapLabel() *tapLabel {
	l := &tapLabel{}
	l.ExtendBaseWidget(l)
	return l
}

func (l *tapLabel) Tapped(*fyne.PointEvent) {
	if l.onTap != nil {
		l.onTap()
	}
}

func (m *msgLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(gutterWidth()+120, lineHeight())
}

// tightRow lays labels side by side, closer than an HBox (their own padding is the gap), each
// at its natural width, the first taking what is left; vertically centred.
type tightRow struct{}

func (tightRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x := float32(0)
	for i, o := range objs {
		if !o.Visible() {
			continue
		}
		ms := o.MinSize()
		w := ms.Width
		if i == 0 {
			rest := float32(0)
			for _, p := range objs[1:] {
				if p.Visible() {
					rest += p.MinSize().Width - theme.InnerPadding()
				}
			}
			w = fyne.Min(ms.Width, fyne.Max(size.Width-rest, 40))
		}
		o.Resize(fyne.NewSize(w, ms.Height))
		o.Move(fyne.NewPos(x, (size.Height-ms.Height)/2))
		x += w - theme.InnerPadding()
	}
}

func (tightRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for _, o := range objs {
		if o.Visible() {
			ms := o.MinSize()
			w += ms.Width - theme.InnerPadding()
			h = fyne.Max(h, ms.Height)
		}
	}
	return fyne.NewSize(w, h)
}

// tightColumn stacks labels with less air than a VBox (see overlap).
type tightColumn struct{}

func (tightColumn) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		h := o.MinSize().Height
		o.Resize(fyne.NewSize(size.Width, h))
		o.Move(fyne.NewPos(0, y))
		y += h - overlap()
	}
}

func (tightColumn) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	n := 0
	for _, o := range objs {
		if o.Visible() {
			ms := o.MinSize()
			w = fyne.Max(w, ms.Width)
			h += ms.Height
			n++
		}
	}
	if n > 1 {
		h -= float32(n-1) * overlap()
	}
	return fyne.NewSize(w, h)
}

// myName is this install's name in the shown community.
func (v *CommunityView) myName() string {
	for _, m := range v.members {
		if m.You {
			return m.Name
		}
	}
	return v.s.settings.DisplayName
}

// composer is the message box: Enter sends, Shift+Enter adds a line; pasting a picture (an
// image on the clipboard: a screenshot, a copied picture) sends it, through onPicture.
type composer struct {
	widget.Entry
	send      func()
	shift     bool
	onPicture func(png []byte) // nil: pasting pastes text only
	do        func(func())     // runs on the window's thread (Shell.do)
}

// TypedShortcut pastes text when the clipboard holds some (a spreadsheet's cells come with a
// picture of them too: the text is what was meant), else the picture it holds, read off the
// window's thread.
func (c *composer) TypedShortcut(s fyne.Shortcut) {
	paste, ok := s.(*fyne.ShortcutPaste)
	if !ok || c.onPicture == nil || c.do == nil || c.Disabled() || paste.Clipboard == nil || paste.Clipboard.Content() != "" {
		c.Entry.TypedShortcut(s)
		return
	}
	go func() {
		if png := clipboardPicture(); len(png) > 0 {
			c.do(func() { c.onPicture(png) })
		}
	}()
}

func newComposer(send func()) *composer {
	c := &composer{send: send}
	c.MultiLine = true
	c.Wrapping = fyne.TextWrapWord
	c.SetMinRowsVisible(2)
	c.ExtendBaseWidget(c)
	return c
}

func (c *composer) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		c.shift = true
	}
	c.Entry.KeyDown(k)
}

func (c *composer) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		c.shift = false
	}
	c.Entry.KeyUp(k)
}

func (c *composer) TypedKey(k *fyne.KeyEvent) {
	if (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !c.shift && !c.Disabled() {
		c.send()
		return
	}
	c.Entry.TypedKey(k)
}

// avatar is a round badge with a member's initials in a colour derived from its key.
type avatar struct {
	widget.BaseWidget
	circle *canvas.Circle
	text   *canvas.Text
	pic    *canvas.Image // the member's picture, round, over the initials (hidden: none)
}

func newAvatar() *avatar {
	a := &avatar{circle: canvas.NewCircle(color.Gray{Y: 0x88}), text: canvas.NewText("", color.White),
		pic: &canvas.Image{FillMode: canvas.ImageFillCover, ScaleMode: canvas.ImageScaleSmooth}}
	a.text.TextStyle.Bold = true
	a.text.Alignment = fyne.TextAlignCenter
	a.pic.Hidden = true
	a.ExtendBaseWidget(a)
	return a
}

// set shows a member: its picture when it has one (pic, decoded; nil: none), else its initials
// on a colour of its key.
func (a *avatar) set(key []byte, name string, pic image.Image) {
	sum := sha256.Sum256(key)
	a.circle.FillColor = palette[int(sum[0])%len(palette)]
	a.text.Text = initials(name)
	a.circle.Refresh()
	a.text.Refresh()
	if a.pic.Image != pic || a.pic.Hidden != (pic == nil) {
		a.pic.Image, a.pic.Hidden = pic, pic == nil
		a.pic.Refresh()
	}
}

func (a *avatar) MinSize() fyne.Size { return fyne.NewSize(avatarSize, avatarSize) }

func (a *avatar) CreateRenderer() fyne.WidgetRenderer {
	return &avatarRenderer{a: a}
}

type avatarRenderer struct{ a *avatar }

func (r *avatarRenderer) Layout(size fyne.Size) {
	d := fyne.Min(size.Width, size.Height)
	r.a.circle.Resize(fyne.NewSize(d, d))
	r.a.circle.Move(fyne.NewPos(0, 0))
	r.a.text.TextSize = d * 0.4
	ts := r.a.text.MinSize()
	r.a.text.Resize(fyne.NewSize(d, ts.Height))
	r.a.text.Move(fyne.NewPos(0, (d-ts.Height)/2))
	r.a.pic.CornerRadius = d / 2
	r.a.pic.Resize(fyne.NewSize(d, d))
	r.a.pic.Move(fyne.NewPos(0, 0))
}
func (r *avatarRenderer) MinSize() fyne.Size { return r.a.MinSize() }
func (r *avatarRenderer) Refresh() {
	r.Layout(r.a.Size())
	canvas.Refresh(r.a)
}
func (r *avatarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.a.circle, r.a.text, r.a.pic}
}
func (r *avatarRenderer) Destroy() {}

// palette are the avatar colours: dark enough for white initials in both themes.
var palette = []color.Color{
	color.NRGBA{0x0f, 0x76, 0x6e, 0xff}, color.NRGBA{0x1d, 0x4e, 0xd8, 0xff}, color.NRGBA{0x7c, 0x3a, 0xed, 0xff},
	color.NRGBA{0xbe, 0x18, 0x5d, 0xff}, color.NRGBA{0xb4, 0x53, 0x09, 0xff}, color.NRGBA{0x15, 0x80, 0x3d, 0xff},
	color.NRGBA{0x9d, 0x17, 0x17, 0xff}, color.NRGBA{0x33, 0x41, 0x55, 0xff},
}

// initials are the first letters of the first two words of a name.
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}
