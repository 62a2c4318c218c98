package ui

import (
	"errors"
	"fmt"
	"image"
	"slices"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// CommunityView is the main window once the person belongs to a community: the sidebar
// (communities, then the community's channels), the channel (header, messages, composer) and
// the members panel.
type CommunityView struct {
	pictures map[string]memberPicture // the members' pictures by key (Fyne thread)
	s        *Shell
	content  fyne.CanvasObject

	commList     *widget.List
	chanList     *widget.List
	title        *widget.Label
	online       *widget.Label
	chip         *widget.Label
	msgs         *messageList
	composer     *composer
	send         *widget.Button
	attachBtn    *widget.Button // sends files with what is typed
	tooLong      *widget.Label  // over the composer: what is wrong with the text typed, when anything is
	overLimit    bool           // the text typed is over what a message may hold: send is off
	inviteBtn    *widget.Button
	newChan      *widget.Button    // "+" beside Channels: the owner and moderators
	editChan     *widget.Button    // the pencil beside the title: the owner and moderators
	clash        *widget.Label     // under the header: what became of a channel made with a taken name
	requestsBtn  *widget.Button    // "Requests (n)": the owner's and moderators' review of requests to join
	waiting      int               // requests to join waiting in the community shown
	requests     *requestsDialog   // the review panel, while open
	entry        app.EntrySettings // the community's entry settings, as the last reload read them
	postNote     *widget.Label     // instead of the composer: why this install cannot post here
	replyBar     *fyne.Container
	replyText    *widget.Label
	replyTo      community.Hash // the message the composer answers (zero: none)
	composerRows int            // the lines the composer shows now (see growComposer)
	departure    string         // how this install stopped being a member of the community shown ("" while it is one)
	forgetBtn    *widget.Button // under the departure note: delete what this device holds of the community
	writeRow     *fyne.Container
	memList      *widget.List
	memFilter    *widget.Select // which members the panel lists: all, by role, by who invited them, by join date
	listed       []int          // the rows of members the panel lists (indexes into members)
	memHead      *widget.Label
	memEmpty     *widget.Label
	memPanel     fyne.CanvasObject
	body         *container.Split

	// Fyne thread only.
	comms    []app.Summary
	chans    []app.Channel
	members  []memberRow
	unread   map[community.Hash]int // by channel, of the community shown
	unreadIn map[community.Hash]int // by community, for the others
	cur      community.Hash
	curCh    community.Hash
	gen      int  // bumped on every switch: late answers for an older choice are dropped
	seq      int  // bumped on every reload: only the latest one's answer is shown
	hidden   bool // the person hid the members panel
	squeezed bool // the window is too narrow for the members panel: hidden until it widens
	ticking  bool
	invite   *inviteDialog // the last one opened
	// The last channel dialog and info dialog opened (tests find their fields).
	channelDialog  dialog.Dialog
	infoDialog     dialog.Dialog
	editDialog     dialog.Dialog
	pinsDialog     dialog.Dialog
	mentionsDialog dialog.Dialog
	searchDialog   dialog.Dialog // the search shown last (tests drive it)
	searchQuery    *widget.Entry
	mentionItems   []*fyne.MenuItem // the names offered for the @ typed last (tests use them)
	suggest        *fyne.Container  // over the composer: those names, as buttons
	// The last dialogs of moderation opened (tests find their buttons).
	memberDialog  dialog.Dialog
	confirm       dialog.Dialog
	recoverDialog dialog.Dialog
}

type memberRow struct {
	app.MemberView
	online bool
	path   string
}

func newCommunityView(s *Shell) *CommunityView {
	v := &CommunityView{s: s, unread: map[community.Hash]int{}, unreadIn: map[community.Hash]int{}}
	v.commList = widget.NewList(
		func() int { return len(v.comms) },
		func() fyne.CanvasObject {
			n := widget.NewLabel("community")
			n.TextStyle.Bold = true
			n.Truncation = fyne.TextTruncateEllipsis
			d := widget.NewLabel("details")
			d.SizeName = theme.SizeNameCaptionText
			return container.New(tightColumn{}, n, d)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			box := o.(*fyne.Container)
			c := v.comms[i]
			box.Objects[0].(*widget.Label).SetText(c.Name)
			role := c.Role.String()
			if c.Role == community.RoleNone {
				role = "no longer a member" // not "none"
			}
			details := fmt.Sprintf("%s · %s", role, members(c.Members))
			if n := v.unreadIn[c.ID]; n > 0 && c.ID != v.cur {
				details += fmt.Sprintf(" · %d new", n)
			}
			box.Objects[1].(*widget.Label).SetText(details)
		},
	)
	v.commList.OnSelected = func(i widget.ListItemID) {
		if i < len(v.comms) && v.comms[i].ID != v.cur {
			v.reload(v.comms[i].ID)
		}
	}
	v.chanList = widget.NewList(
		func() int { return len(v.chans) },
		func() fyne.CanvasObject {
			n := widget.NewLabel("# channel")
			n.Truncation = fyne.TextTruncateEllipsis
			u := widget.NewLabel("")
			u.TextStyle.Bold = true
			return container.NewBorder(nil, nil, nil, u, n)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			box := o.(*fyne.Container)
			c := v.chans[i]
			box.Objects[0].(*widget.Label).SetText(channelLabel(c))
			u := box.Objects[1].(*widget.Label)
			if n := v.unread[c.ID]; n > 0 && c.ID != v.curCh {
				u.SetText(fmt.Sprint(n))
			} else {
				u.SetText("")
			}
		},
	)
	v.chanList.OnSelected = func(i widget.ListItemID) {
		if i < len(v.chans) && v.chans[i].ID != v.curCh {
			v.openChannel(v.chans[i].ID)
		}
	}
	v.newChan = widget.NewButtonWithIcon("", theme.ContentAddIcon(), v.openNewChannel)
	v.newChan.Importance = widget.LowImportance
	v.newChan.Hide()
	another := widget.NewButtonWithIcon("Create or join", theme.ContentAddIcon(), func() { s.showWelcome(true) })
	settings := widget.NewButtonWithIcon("", theme.SettingsIcon(), s.openSettings)
	sidebar := container.NewBorder(
		heading("Communities"),
		container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, nil, settings, another)),
		nil, nil,
		container.NewVSplit(v.commList, container.NewBorder(container.NewBorder(nil, nil, nil, v.newChan, heading("Channels")), nil, nil, nil, v.chanList)),
	)

	v.title = widget.NewLabel("")
	v.title.TextStyle.Bold = true
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.online = widget.NewLabel("")
	v.chip = widget.NewLabel("")
	v.chip.Importance = widget.LowImportance
	toggle := widget.NewButtonWithIcon("", theme.AccountIcon(), v.toggleMembers)
	v.editChan = widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), v.openEditChannel)
	v.editChan.Importance = widget.LowImportance
	v.editChan.Hide()
	v.clash = wrapped("")
	v.clash.Importance = widget.WarningImportance
	v.clash.Hide()
	pins := widget.NewButtonWithIcon("", theme.ContentPasteIcon(), v.openPins)
	pins.Importance = widget.LowImportance
	mentions := widget.NewButton("@", v.openMentions)
	mentions.Importance = widget.LowImportance
	info := widget.NewButtonWithIcon("", theme.InfoIcon(), v.openInfo)
	info.Importance = widget.LowImportance
	v.requestsBtn = widget.NewButtonWithIcon(requestsLabel(0), theme.AccountIcon(), v.openRequests)
	v.requestsBtn.Importance = widget.WarningImportance
	v.requestsBtn.Hide()
	header := container.NewBorder(nil, nil, nil, container.NewHBox(v.requestsBtn, v.online, v.chip, toggle),
		container.NewBorder(nil, nil, nil, container.NewHBox(info, mentions, pins, v.editChan), v.title))

	v.msgs = newMessageList(v)
	v.composer = newComposer(v.submit)
	v.composer.onPicture, v.composer.do = v.pastePicture, v.s.do
	v.composer.SetPlaceHolder(composerHint)
	v.send = widget.NewButtonWithIcon("", theme.MailSendIcon(), v.submit)
	v.send.Importance = widget.HighImportance
	v.tooLong = widget.NewLabel("")
	v.tooLong.Importance = widget.DangerImportance
	v.tooLong.Wrapping = fyne.TextWrapWord
	v.tooLong.Hide()
	v.composer.OnChanged = v.checkLength
	v.postNote = wrapped("")
	v.postNote.Importance = widget.MediumImportance
	v.postNote.Hide()
	v.forgetBtn = widget.NewButton("Forget this community…", v.askForget)
	v.forgetBtn.Importance = widget.DangerImportance
	v.forgetBtn.Hide()
	attach := widget.NewButtonWithIcon("", theme.FileIcon(), v.attach)
	attach.Importance = widget.LowImportance
	v.attachBtn = attach
	v.writeRow = container.NewBorder(nil, nil, nil, container.NewHBox(attach, v.send), v.composer)
	v.replyText = widget.NewLabel("")
	v.replyText.Truncation = fyne.TextTruncateEllipsis
	v.replyText.TextStyle.Italic = true
	cancelReply := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { v.setReply(app.Message{}) })
	cancelReply.Importance = widget.LowImportance
	v.replyBar = container.NewBorder(nil, nil, nil, cancelReply, v.replyText)
	v.replyBar.Hide()
	v.suggest = container.NewHBox()
	v.suggest.Hide()
	center := container.NewBorder(
		container.NewVBox(header, v.clash, widget.NewSeparator()),
		container.NewVBox(v.tooLong, v.postNote, container.NewHBox(v.forgetBtn), v.suggest, v.replyBar, v.writeRow),
		nil, nil, v.msgs.content)

	v.memHead = heading("Members")
	v.inviteBtn = widget.NewButtonWithIcon("Invite", theme.ContentAddIcon(), v.openInvite)
	v.memEmpty = wrapped("Invite your first members: they show here, with who is online.")
	v.memEmpty.TextStyle.Italic = true
	v.memList = widget.NewList(
		func() int { return len(v.listed) },
		func() fyne.CanvasObject {
			n := widget.NewLabel("name")
			n.Truncation = fyne.TextTruncateEllipsis
			st := widget.NewLabel("state")
			st.SizeName = theme.SizeNameCaptionText
			st.Importance = widget.LowImportance
			return container.NewBorder(nil, nil, container.NewCenter(newAvatar()), nil, container.New(tightColumn{}, n, st))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(v.listed) || v.listed[i] >= len(v.members) {
				return
			}
			m := v.members[v.listed[i]]
			box := o.(*fyne.Container)
			texts := box.Objects[0].(*fyne.Container)
			box.Objects[1].(*fyne.Container).Objects[0].(*avatar).set(m.Key, m.Name, v.pictureOf(m.Key))
			name := nameOr(m.Name)
			if m.You {
				name += " (you)"
			}
			if m.Role >= community.RoleModerator {
				name += " · " + m.Role.String()
			}
			texts.Objects[0].(*widget.Label).SetText(name)
			st := texts.Objects[1].(*widget.Label)
			switch {
			case m.online && m.path != "":
				st.SetText("online · " + m.path)
				st.Importance = widget.SuccessImportance
			case m.online:
				st.SetText("online")
				st.Importance = widget.SuccessImportance
			default:
				st.SetText("offline")
				st.Importance = widget.LowImportance
			}
			st.Refresh()
		},
	)
	v.memList.OnSelected = func(i widget.ListItemID) {
		v.memList.UnselectAll()
		if i >= 0 && i < len(v.listed) && v.listed[i] < len(v.members) {
			v.openMember(v.members[v.listed[i]].MemberView)
		}
	}
	v.memFilter = widget.NewSelect(nil, func(string) { v.refreshPresence() })
	v.memFilter.PlaceHolder = "All members"
	v.memPanel = container.NewBorder(
		container.NewVBox(container.NewBorder(nil, nil, nil, v.inviteBtn, v.memHead), v.memFilter, v.memEmpty), nil, nil, nil, v.memList)
	v.body = container.NewHSplit(center, v.memPanel)
	v.body.Offset = 0.74
	main := container.NewHSplit(container.NewPadded(sidebar), v.body)
	main.Offset = 0.22
	v.content = container.New(&narrow{v: v}, main)
	return v
}

func heading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// summary returns the shown summary of a community, if listed.
func (v *CommunityView) summary(id community.Hash) *app.Summary {
	for i := range v.comms {
		if v.comms[i].ID == id {
			return &v.comms[i]
		}
	}
	return nil
}

// reload reads the communities, and the channels and members of id (zero: the one shown, or
// the first), in the background.
func (v *CommunityView) reload(id community.Hash) {
	if id == (community.Hash{}) {
		id = v.cur
	}
	switched := id != v.cur
	if switched {
		v.setRequests(0)
		v.gen++
		v.cur, v.curCh = id, community.Hash{}
		v.unread = map[community.Hash]int{}
		delete(v.unreadIn, id)
		v.chans, v.members, v.listed = nil, nil, nil // the other community's: not clickable meanwhile
		v.chanList.UnselectAll()
		v.chanList.Refresh()
		v.memList.Refresh()
		v.msgs.clear()
		v.refreshHeader()
	}
	v.seq++
	gen, seq := v.gen, v.seq
	v.startTicker()
	go func() {
		comms, err := v.s.svc.Communities()
		if err == nil && id == (community.Hash{}) && len(comms) > 0 {
			id = comms[0].ID
		}
		var chans []app.Channel
		var ms []app.MemberView
		if err == nil && id != (community.Hash{}) {
			chans, err = v.s.svc.Channels(id)
		}
		if err == nil && id != (community.Hash{}) {
			ms, err = v.s.svc.Members(id)
		}
		var entry app.EntrySettings
		if err == nil && id != (community.Hash{}) {
			entry, _ = v.s.svc.Entry(id)
		}
		var dep app.Departure
		var gone bool
		if err == nil && id != (community.Hash{}) {
			dep, gone, _ = v.s.svc.Departure(id) // a read of the store: what the note says is best effort
		}
		v.s.do(func() {
			if gen != v.gen || seq != v.seq {
				return // a newer reload is under way
			}
			v.departure = ""
			if gone {
				v.departure = departureNote(dep)
			}
			if err != nil {
				v.msgs.showEmpty(sentence(err))
				return
			}
			if v.cur == (community.Hash{}) {
				v.cur = id
			}
			v.comms, v.chans, v.entry = comms, chans, entry
			v.setMembers(ms)
			v.s.setRoleMenus(v.myRole())
			if v.myRole() >= community.RoleModerator {
				v.s.watchRequests(v.cur)
			} else {
				v.setRequests(0)
			}
			v.commList.Refresh()
			for i, c := range comms {
				if c.ID == v.cur {
					v.commList.Select(i)
				}
			}
			v.chanList.Refresh()
			want := v.curCh
			if !slices.ContainsFunc(chans, func(c app.Channel) bool { return c.ID == want }) {
				want = community.Hash{}
			}
			if want == (community.Hash{}) {
				for _, c := range chans {
					if !c.Archived {
						want = c.ID
						break
					}
				}
			}
			if want != (community.Hash{}) && (v.msgs.comm != v.cur || v.msgs.ch != want) {
				v.openChannel(want)
			} else {
				v.selectChannelRow()
			}
			v.refreshHeader()
		})
	}()
}

// openChannel shows a channel: its latest page at once, older pages as the list scrolls up.
func (v *CommunityView) openChannel(ch community.Hash) {
	v.curCh = ch
	delete(v.unread, ch)
	v.selectChannelRow()
	v.chanList.Refresh()
	v.refreshHeader()
	v.msgs.open(v.cur, ch)
	if len(v.s.dialogs) == 0 { // typing must not go behind a dialog
		v.s.win.Canvas().Focus(v.composer)
	}
}

func (v *CommunityView) selectChannelRow() {
	for i, c := range v.chans {
		if c.ID == v.curCh {
			v.chanList.Select(i)
		}
	}
}

func (v *CommunityView) channel() (app.Channel, bool) {
	for _, c := range v.chans {
		if c.ID == v.curCh {
			return c, true
		}
	}
	return app.Channel{}, false
}

func (v *CommunityView) setMembers(ms []app.MemberView) {
	v.members = v.members[:0]
	pics := map[string]memberPicture{}
	changed := false
	for _, m := range ms {
		if m.Active {
			v.members = append(v.members, memberRow{MemberView: m})
		}
		if len(m.Picture) == 0 {
			continue
		}
		old, ok := v.pictures[string(m.Key)]
		if !ok || old.blob != m.PictureBlob {
			old, changed = memberPicture{blob: m.PictureBlob, img: decodeThumb(m.Picture)}, true
		}
		pics[string(m.Key)] = old // decoded once
	}
	if changed || len(pics) != len(v.pictures) {
		v.pictures = pics
		if v.msgs != nil && v.msgs.list != nil {
			v.msgs.list.Refresh() // the rows' avatars
		}
	}
	v.refreshPresence()
}

// memberPicture is a member's picture's thumbnail, decoded.
type memberPicture struct {
	blob community.Hash
	img  image.Image
}

// pictureOf is a member's picture (nil: none).
func (v *CommunityView) pictureOf(key []byte) image.Image {
	return v.pictures[string(key)].img
}

// Member filters the panel offers besides "Invited by …" (one per member who admitted someone).
const (
	filterAll    = "All members"
	filterStaff  = "Owner and moderators"
	filterRecent = "Joined in the last 7 days"
	invitedBy    = "Invited by "
)

// filterMembers lists the members the filter keeps, and offers the filters that apply.
func (v *CommunityView) filterMembers() {
	opts := []string{filterAll, filterStaff, filterRecent}
	admitters := map[string]bool{}
	for _, m := range v.members {
		if m.InvitedByName != "" && !admitters[m.InvitedByName] {
			admitters[m.InvitedByName] = true
			opts = append(opts, invitedBy+m.InvitedByName)
		}
	}
	v.memFilter.Options = opts
	sel := v.memFilter.Selected
	if sel != "" && !slices.Contains(opts, sel) {
		sel = filterAll
		v.memFilter.Selected = sel
	}
	v.memFilter.Refresh()
	v.listed = v.listed[:0]
	for i, m := range v.members {
		keep := true
		switch {
		case sel == filterStaff:
			keep = m.Role >= community.RoleModerator
		case sel == filterRecent:
			keep = !m.JoinedAt.IsZero() && time.Since(m.JoinedAt) < 7*24*time.Hour
		case strings.HasPrefix(sel, invitedBy):
			keep = m.InvitedByName == strings.TrimPrefix(sel, invitedBy)
		}
		if keep {
			v.listed = append(v.listed, i)
		}
	}
}

// refreshPresence reads who is online from the running network (memory only) and redraws the
// members panel and the header.
func (v *CommunityView) refreshPresence() {
	running := v.s.net != nil && v.s.net.Running()
	for i := range v.members {
		m := &v.members[i]
		if m.You {
			m.online, m.path = running, ""
		} else if running {
			m.online, m.path = v.s.net.Online(m.Key)
		} else {
			m.online, m.path = false, ""
		}
	}
	sort.SliceStable(v.members, func(i, j int) bool {
		a, b := v.members[i], v.members[j]
		if a.online != b.online {
			return a.online
		}
		if a.Role != b.Role {
			return a.Role > b.Role
		}
		return strings.ToLower(a.Name) < strings.ToLower(b.Name)
	})
	v.filterMembers()
	v.memList.Refresh()
	v.memEmpty.Hidden = len(v.members) > 1
	v.memEmpty.Refresh()
	v.refreshHeader()
}

// refreshHeader redraws the header: names, "n of m online" and the sync chip.
func (v *CommunityView) refreshHeader() {
	c := v.summary(v.cur)
	if c == nil {
		v.title.SetText("")
		return
	}
	title := c.Name
	if ch, ok := v.channel(); ok {
		title += "  ·  # " + ch.Name
	}
	v.title.SetText(title)
	on, others := 0, 0
	var role community.Role
	for _, m := range v.members {
		if m.online {
			on++
			if !m.You {
				others++
			}
		}
		if m.You {
			role = m.Role
		}
	}
	v.online.SetText(fmt.Sprintf("%d of %d online", on, len(v.members)))
	v.memHead.SetText(fmt.Sprintf("Members · %d of %d online", on, len(v.members)))
	st := v.s.svc.Sync(v.cur)
	switch {
	case st.Syncing:
		v.chip.SetText(st.String())
	case len(v.members) > 1 && others == 0:
		v.chip.SetText("offline") // the composer says what happens to what is written meanwhile
	default:
		v.chip.SetText("synced")
	}
	hint := composerHint
	if len(v.members) > 1 && others == 0 {
		hint = composerOffline
	}
	if v.composer.PlaceHolder != hint {
		v.composer.SetPlaceHolder(hint)
	}
	if role >= community.RoleModerator || (role == community.RoleMember && v.entry.MemberInvites > 0) {
		v.inviteBtn.Show()
	} else {
		v.inviteBtn.Hide()
	}
	ch, ok := v.channel()
	canWrite := ok && !ch.Archived && role != community.RoleNone && (ch.Type != community.ChannelAnnouncements || role >= community.RoleModerator) &&
		v.departure == "" // a member handed this install its removal: the log may not show it yet
	if role == community.RoleNone {
		v.chip.SetText("no longer a member") // removed, or left: what this device had stays readable
	}
	if role >= community.RoleModerator {
		v.newChan.Show()
		v.editChan.Show()
	} else {
		v.newChan.Hide()
		v.editChan.Hide()
	}
	if note := clashNote(ch); ok && note != "" {
		v.clash.SetText(note)
		v.clash.Show()
	} else {
		v.clash.Hide()
	}
	note := ""
	if ok { // the channels are read: the room is loaded, so this reads memory, not the disk
		note = v.s.svc.PostingNote(v.cur, ch.ID)
	}
	if v.departure != "" {
		note = v.departure
	}
	v.forgetBtn.Hidden = v.departure == "" && role != community.RoleNone
	if ok && note != "" && !canWrite {
		// Not a greyed composer that still says "Enter sends": a sentence of why, and where to go.
		v.postNote.SetText(note + ".")
		v.postNote.Show()
		v.writeRow.Hide()
	} else {
		v.postNote.Hide()
		v.writeRow.Show()
	}
	if canWrite {
		v.composer.Enable()
		v.attachBtn.Enable()
		if !v.overLimit {
			v.send.Enable()
		}
	} else {
		v.composer.Disable()
		v.send.Disable()
		v.attachBtn.Disable()
	}
}

// departureNote says who removed this install, when and why, or that it left.
func departureNote(d app.Departure) string {
	if !d.Removed {
		return "You are no longer a member of this community: what you had stays readable here"
	}
	who := nameOr(d.By)
	if d.By == "" {
		who = "A moderator"
	}
	s := who + " removed you"
	if !d.At.IsZero() {
		s += " on " + d.At.Local().Format("2 January 2006 at 15:04")
	}
	if d.Reason != "" {
		s += ", saying: “" + d.Reason + "”"
	}
	return s + ". What you had stays readable here; nothing new comes"
}

// growComposer shows as many lines of what is typed as it has, from two up to eight (then it
// scrolls), so the earlier lines of a longer message stay in view.
func (v *CommunityView) growComposer(text string) {
	lines := strings.Count(text, "\n") + 1
	if w := v.composer.Size().Width; w > 0 {
		perLine := int(w / fyne.MeasureText("m", theme.TextSize(), fyne.TextStyle{}).Width)
		if perLine > 0 {
			lines = 0
			for _, l := range strings.Split(text, "\n") {
				lines += 1 + len([]rune(l))/perLine
			}
		}
	}
	rows := min(max(lines, 2), 8)
	if rows != v.composerRows {
		v.composerRows = rows
		v.composer.SetMinRowsVisible(rows)
		v.writeRow.Refresh()
		v.content.Refresh()
	}
}

// composerHint is the composer's placeholder for a member.
const composerHint = "Write a message. Enter sends, Shift+Enter adds a line."

// composerOffline is the placeholder while no other member is online.
const composerOffline = "No member is online: what you write is sent when one is. Enter sends."

// startTicker refreshes presence every few seconds: a path can change (relayed to direct)
// without a connect or disconnect.
func (v *CommunityView) startTicker() {
	if v.ticking {
		return
	}
	v.ticking = true
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-v.s.ctx.Done():
				return
			case <-t.C:
				v.s.do(func() {
					v.refreshPresence()
					v.msgs.seen()
				})
			}
		}
	}()
}

// handle reacts to the service's events (on the Fyne thread, through the shell's bridge).
func (v *CommunityView) handle(ev app.Event) {
	switch e := ev.(type) {
	case app.MessageAdded:
		if e.Community != v.cur {
			if !e.Message.Mine {
				v.unreadIn[e.Community]++
				v.commList.Refresh()
			}
			return
		}
		if e.Message.Channel == v.curCh {
			v.msgs.add(e.Message)
		} else if !e.Message.Mine {
			v.unread[e.Message.Channel]++
			v.chanList.Refresh()
		}
	case app.CommunityChanged:
		v.s.watchRequests(e.Community)
		if v.cur == (community.Hash{}) || e.Community == v.cur {
			v.reload(community.Hash{})
			if e.Community == v.cur && v.msgs.atBottom() {
				v.msgs.reloadLatest() // messages that waited for a key may be readable now
			}
		} else {
			v.reload(community.Hash{}) // another community's name or size: the sidebar
		}
	case app.MessageDeleted:
		if e.Community == v.cur {
			v.msgs.remove(e.Message)
		}
	case app.CommunityForgotten:
		if e.Community == v.cur {
			v.cur, v.curCh, v.departure = community.Hash{}, community.Hash{}, ""
			v.msgs.clear()
		}
		v.reload(community.Hash{})
	case app.MessageUpdated:
		if e.Community == v.cur && e.Message.Channel == v.curCh {
			v.msgs.update(e.Message)
		}
	case app.PeersChanged:
		v.refreshPresence()
	case app.SyncProgress:
		if e.Community == v.cur {
			v.refreshHeader()
		}
	case app.Lagged:
		v.reload(community.Hash{})
		v.msgs.reloadLatest()
	}
}

// submit sends the composer's text: shown at once as pending, stored and published in the
// background.
func (v *CommunityView) submit() {
	text := strings.TrimSpace(v.composer.Text)
	if text == "" || v.composer.Disabled() {
		return
	}
	if _, err := community.LimitText.CleanText(text); err != nil {
		v.tooLong.SetText(sentence(err)) // the text stays in the composer, to be changed
		v.tooLong.Show()
		return
	}
	v.composer.SetText("")
	v.msgs.post(text, v.replyTo)
	v.setReply(app.Message{})
}

// setReply shows which message the composer answers, above it (the zero Message: none).
func (v *CommunityView) setReply(m app.Message) {
	v.replyTo = m.ID
	if m.ID.IsZero() {
		v.replyBar.Hide()
		return
	}
	v.replyText.SetText("Replying to " + nameOr(m.Name) + ": " + clip(strings.Join(strings.Fields(m.Text), " "), 100))
	v.replyBar.Show()
	v.s.win.Canvas().Focus(v.composer)
}

// checkLength says, as the person types, when the text is over what a message may hold: by how
// much (the limit's own sentence, as Post would say it), so that nothing typed is refused only
// at Enter.
func (v *CommunityView) checkLength(text string) {
	v.growComposer(text)
	v.completeMention(text)
	switch err := community.LimitText.Check(strings.TrimSpace(text)); {
	case errors.Is(err, community.ErrTooLong):
		v.tooLong.SetText(sentence(err))
		v.tooLong.Show()
		v.overLimit = true
		v.send.Disable()
	case !v.tooLong.Hidden:
		v.tooLong.Hide()
		if v.overLimit && !v.composer.Disabled() {
			v.send.Enable()
		}
		v.overLimit = false
	}
}

func (v *CommunityView) toggleMembers() {
	v.hidden = !v.hidden
	v.squeezed = false // the person chose: the width no longer decides until it changes again
	v.showMembers(!v.hidden)
}

// Widths under which the members panel gives way, and the header drops "n of m online".
const (
	narrowMembers = 900
	narrowOnline  = 760
)

// narrow lays the window out as wide as it is, and under narrowMembers hides the members
// panel (it comes back when the window widens again, unless the person hid it), so that at
// 640×480 nothing overlaps.
type narrow struct {
	v    *CommunityView
	last float32
}

func (n *narrow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	if size.Width == n.last {
		return
	}
	n.last = size.Width
	v := n.v
	switch {
	case size.Width < narrowMembers && !v.hidden && !v.squeezed:
		v.squeezed = true
		v.showMembers(false)
	case size.Width >= narrowMembers && v.squeezed:
		v.squeezed = false
		v.showMembers(!v.hidden)
	}
	v.online.Hidden = size.Width < narrowOnline
}

func (n *narrow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(MinWindowWidth, MinWindowHeight)
}

// showMembers shows or hides the members panel.
func (v *CommunityView) showMembers(show bool) {
	if !show {
		v.body.Trailing.Hide()
		v.body.Offset = 1
	} else {
		v.body.Trailing.Show()
		v.body.Offset = 0.74
	}
	v.body.Refresh()
}

// openSwitcher is Ctrl+K: type to find a channel in any community, Enter to go there.
func (v *CommunityView) openSwitcher() {
	here := v.summary(v.cur)
	if here == nil {
		return // not loaded yet
	}
	type target struct {
		comm, ch community.Hash
		label    string
	}
	var all []target
	// Channels of the community shown are known; the others' are read in the background.
	for _, c := range v.chans {
		all = append(all, target{v.cur, c.ID, here.Name + "  ›  # " + c.Name})
	}
	shown := append([]target(nil), all...)
	var d dialog.Dialog
	list := widget.NewList(func() int { return len(shown) },
		func() fyne.CanvasObject { return widget.NewLabel("community › channel") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(shown[i].label) })
	filter := newEscEntry(v.s.closeTop)
	filter.SetPlaceHolder("Jump to a channel: type part of its name")
	apply := func(q string) {
		q = strings.ToLower(strings.TrimSpace(q))
		shown = shown[:0]
		for _, t := range all {
			if strings.Contains(strings.ToLower(t.label), q) {
				shown = append(shown, t)
			}
		}
		list.Refresh()
	}
	pick := func(t target) {
		d.Hide()
		if t.comm != v.cur {
			v.reload(t.comm)
			v.curCh = t.ch
			return
		}
		v.openChannel(t.ch)
	}
	filter.OnChanged = apply
	filter.OnSubmitted = func(string) {
		if len(shown) > 0 {
			pick(shown[0])
		}
	}
	list.OnSelected = func(i widget.ListItemID) { pick(shown[i]) }
	d = dialog.NewCustom("Switch channel", "Close", container.NewBorder(filter, nil, nil, nil, list), v.s.win)
	d.Resize(fyne.NewSize(480, 380))
	v.s.show(d)
	v.s.win.Canvas().Focus(filter)
	cur, gen := v.cur, v.gen
	comms := append([]app.Summary(nil), v.comms...)
	go func() {
		var more []target
		for _, c := range comms {
			if c.ID == cur {
				continue
			}
			chans, err := v.s.svc.Channels(c.ID)
			if err != nil {
				continue
			}
			for _, ch := range chans {
				more = append(more, target{c.ID, ch.ID, c.Name + "  ›  # " + ch.Name})
			}
		}
		v.s.do(func() {
			if gen == v.gen {
				all = append(all, more...)
				apply(filter.Text)
			}
		})
	}()
}

// me is this install's member row in the shown community (zero before the members load).
func (v *CommunityView) me() app.MemberView {
	for _, m := range v.members {
		if m.You {
			return m.MemberView
		}
	}
	return app.MemberView{}
}

// myRole is this install's role in the shown community, from the members list.
func (v *CommunityView) myRole() community.Role {
	for _, m := range v.members {
		if m.You {
			return m.Role
		}
	}
	return community.RoleNone
}
