package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/invite"
)

// Request is one command of kithd's contract (see cmd/kithd), as it travels over the control
// socket. Fields a command does not use are left empty.
type Request struct {
	Cmd          string `json:"cmd"` // create, invite, invites, revoke, join, post, messages, members, status, remove, promote, demote, delete, leave, recover, resync, channels, "channel create|rename|archive|unarchive"; show (the desktop app's window)
	Community    string `json:"community,omitempty"`
	Name         string `json:"name,omitempty"` // create: the community's name; join: the display name
	About        string `json:"about,omitempty"`
	MaxMembers   int    `json:"max_members,omitempty"`
	DisplayName  string `json:"display_name,omitempty"` // create: the owner's name
	Role         string `json:"role,omitempty"`
	Uses         int    `json:"uses,omitempty"`
	Expires      string `json:"expires,omitempty"` // a Go duration: 72h
	Invite       string `json:"invite,omitempty"`  // join: the invite text; revoke: the invite's ID
	Timeout      string `json:"timeout,omitempty"`
	Channel      string `json:"channel,omitempty"`
	Text         string `json:"text,omitempty"`
	Limit        int    `json:"limit,omitempty"`
	Member       string `json:"member,omitempty"`        // remove, promote, demote: the member's id (or a unique prefix, or its name)
	Message      string `json:"message,omitempty"`       // delete: the message's id
	Reason       string `json:"reason,omitempty"`        // remove: why, kept in the log
	RevokeInvite bool   `json:"revoke_invite,omitempty"` // remove: also revoke the invite the member joined with
	Words        string `json:"words,omitempty"`         // recover: the recovery words
	Cutoff       uint64 `json:"cutoff,omitempty"`        // recover: the old owner key's last act that stands (0: none)
	KeepAll      bool   `json:"keep_all,omitempty"`
	List         bool   `json:"list,omitempty"`     // recover: list the owner key's acts instead
	Cancel       bool   `json:"cancel,omitempty"`   // join: drop the join under way that Invite names (an invite, or its community)
	NewName      string `json:"new_name,omitempty"` // channel rename: the new name
	ReplyTo      string `json:"reply_to,omitempty"` // post: the message it answers
	Emoji        string `json:"emoji,omitempty"`    // react
	Remove       bool   `json:"remove,omitempty"`   // react: take the emoji back
	// profile and community edit: which of Name, About and MaxMembers were given (the others stay).
	SetName  bool `json:"set_name,omitempty"`
	SetAbout bool `json:"set_about,omitempty"`
	SetMax   bool `json:"set_max,omitempty"`
	Announce bool `json:"announcements,omitempty"` // channel create: only the owner and moderators post
	// Entry: invite --approval --question; join --answer; approve/decline REQUEST_ID; requests
	// --all; welcome --text --rules --channel (SetText, SetAbout for the rules, SetChannel);
	// settings --member-invites --member-approval --question.
	Approval       bool     `json:"approval,omitempty"`
	Questions      []string `json:"questions,omitempty"`
	Answers        []string `json:"answers,omitempty"`
	Request        string   `json:"request,omitempty"`
	All            bool     `json:"all,omitempty"`
	SetText        bool     `json:"set_text,omitempty"`
	SetChannel     bool     `json:"set_channel,omitempty"`
	MemberInvites  *int     `json:"member_invites,omitempty"`
	MemberApproval string   `json:"member_approval,omitempty"` // yes, no; empty: unchanged
	// Promotions: post --promotion; settings --promotions-per-week N; promotions --mute/--unmute.
	Promotion  bool `json:"promotion,omitempty"`
	Promotions *int `json:"promotions_per_week,omitempty"`
	// Files' settings: settings --max-file-mib N --keep-files all|opened; files --budget MIB.
	MaxFileMiB *int   `json:"max_file_mib,omitempty"`
	KeepFiles  string `json:"keep_files,omitempty"` // all, opened; empty: unchanged
	Budget     *int   `json:"budget_mib,omitempty"`
	// profile --picture PATH (absolute, made so by kithd) | --no-picture.
	Picture   string `json:"picture,omitempty"`
	NoPicture bool   `json:"no_picture,omitempty"`
	Mute      bool   `json:"mute,omitempty"`
	Unmute    bool   `json:"unmute,omitempty"`
	Weeks     int    `json:"weeks,omitempty"` // insights: how many weeks (0: the default)
	// Badges: badge MEMBER_ID --title --note; badge-card BADGE_ID.
	Badge string `json:"badge,omitempty"`
	// Files: post --file PATH... (absolute paths, made so by kithd); fetch BLOB_ID --out PATH.
	Files []string `json:"files,omitempty"`
	Blob  string   `json:"blob,omitempty"`
	Out   string   `json:"out,omitempty"` // fetch --out (absolute), where the peer writes; badge-card --out and verify-badge FILE stay with kithd
	// Polls: poll --question --option... --multi --closes --results; vote POLL_ID INDEX...;
	// poll-results POLL_ID.
	Options []string `json:"options,omitempty"`
	Multi   bool     `json:"multi,omitempty"`
	Closes  string   `json:"closes,omitempty"`  // a Go duration from now: 48h
	Results string   `json:"results,omitempty"` // after-close (default) or never
	Poll    string   `json:"poll,omitempty"`
	Choices []string `json:"choices,omitempty"` // vote: option numbers from 1
	// Feedback: ask --question --role --joined-before --closes; answer REQUEST_ID TEXT;
	// feedback-status REQUEST_ID STATUS --note.
	JoinedBefore string `json:"joined_before,omitempty"` // a date: 2026-12-01
	Status       string `json:"status,omitempty"`
	Note         string `json:"note,omitempty"`
	// Offers: offer --title --text --quantity --expires --code; claim OFFER_ID.
	Title    string `json:"title,omitempty"`
	Quantity int    `json:"quantity,omitempty"`
	Code     string `json:"code,omitempty"`
	Offer    string `json:"offer,omitempty"`
	// Testimonials: quote-ok MESSAGE_ID --revoke --with-name; testimonials --format.
	Revoke   bool   `json:"revoke,omitempty"`
	WithName bool   `json:"with_name,omitempty"`
	Format   string `json:"format,omitempty"`
	Progress bool   `json:"progress,omitempty"` // the client reads progress lines before the answer (see Call)
	// backup: the passphrase that will open the file (kithd reads it from a terminal or stdin,
	// never from the command line).
	Passphrase string `json:"passphrase,omitempty"`
	// restore (kithd's own): move another identity's folder aside; sync nothing now.
	Replace bool `json:"replace,omitempty"`
	Offline bool `json:"offline,omitempty"`

	// A join when no Kith runs on the folder: kithd goes online for it with these (a running
	// peer uses its own).
	Bootstrap []string `json:"bootstrap,omitempty"`
	PublicDHT bool     `json:"public_dht,omitempty"`
	NoMDNS    bool     `json:"no_mdns,omitempty"`
}

// Result is what a command prints: Text for people, JSON for --json, and a Warning for stderr.
type Result struct {
	Text    string          `json:"text"`
	JSON    json.RawMessage `json:"json,omitempty"`
	Warning string          `json:"warning,omitempty"`
}

// UsageError is a request that is wrong in itself (kithd exits 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usage(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// asUsage turns the refusal of what a person typed (empty, over its limit, characters that are
// not allowed) into a *UsageError: kithd exits 2, as for any other mistake in the command.
func asUsage(err error) error {
	if app.KindOf(err) == app.KindBadInput {
		return &UsageError{Msg: app.Sentence(err)}
	}
	return err
}

// Do runs one command of kithd's contract on this peer (for kithd itself, or for the control
// socket of a running peer). A mistake in the request is a *UsageError.
func (p *Peer) Do(ctx context.Context, req Request) (Result, error) {
	return p.DoWithProgress(ctx, req, nil)
}

// DoWithProgress is Do with progress: a command that waits (join) says what it is doing through
// progress, a sentence at a time, when progress is not nil.
func (p *Peer) DoWithProgress(ctx context.Context, req Request, progress func(string)) (Result, error) {
	switch req.Cmd {
	case "create":
		return p.doCreate(ctx, req)
	case "invite":
		return p.doInvite(req)
	case "join":
		return p.doJoin(ctx, req, progress)
	case "post":
		return p.doPost(ctx, req)
	case "messages":
		return p.doMessages(req)
	case "members":
		return p.doMembers(req)
	case "status":
		return p.doStatus()
	case "invites":
		return p.doInvites(req)
	case "revoke":
		return p.doRevoke(ctx, req)
	case "remove", "promote", "demote":
		return p.doMemberAct(ctx, req)
	case "delete":
		return p.doDelete(ctx, req)
	case "leave":
		return p.doLeave(ctx, req)
	case "recover":
		return p.doRecover(ctx, req)
	case "resync":
		return Result{}, errors.New("Kith is running with this data folder, so its store opens and it syncs with the members itself: to rebuild the store from other members, stop it, then run `kithd resync`")
	case "channels", "channel create", "channel rename", "channel archive", "channel unarchive":
		return p.doChannel(ctx, req)
	case "profile", "community edit", "info":
		return p.doCommunity(ctx, req)
	case "requests", "approve", "decline", "welcome", "settings":
		return p.doEntry(ctx, req)
	case "poll", "vote", "poll-results", "polls", "poll-close":
		return p.doPoll(ctx, req)
	case "ask", "answer", "feedback", "feedback-status":
		return p.doFeedback(ctx, req)
	case "offer", "claim", "offers":
		return p.doOffer(ctx, req)
	case "kudos", "helpful", "recognition":
		return p.doRecognition(ctx, req)
	case "export":
		return p.doExport(ctx, req)
	case "backup":
		return p.doBackup(req)
	case "restore": // kithd restores itself, into a folder no Kith runs on
		return Result{}, errors.New("Kith is running with this data folder: stop it first, then run `kithd restore` again")
	case "quote-ok", "testimonials":
		return p.doQuotes(ctx, req)
	case "promotions":
		return p.doPromotions(req)
	case "insights":
		return p.doInsights(req)
	case "badge", "badges", "badge-card":
		return p.doBadges(ctx, req)
	case "version": // kithd says it itself, with no folder; the running peer says its own build
		b := app.ThisBuild()
		return jsonResult("kithd "+b.String(), b)
	case "verify-badge": // kithd checks a card itself, offline; the control socket does the same
		b, err := app.CheckCard(req.Text)
		if err != nil {
			return Result{}, err
		}
		return jsonResult(app.BadgeSentence(b), map[string]any{"valid": true, "community": b.Community.String(), "title": b.Title})
	case "forget":
		id, err := p.community(req.Community)
		if err != nil {
			return Result{}, err
		}
		if err := p.Svc.Forget(ctx, id); err != nil {
			return Result{}, err
		}
		p.forgetLifeline(id) // now, not only when the network's loop reads the event: none may run
		return jsonResult("forgotten: its history is gone from this device", map[string]any{"community": id.String(), "forgotten": true})
	case "fetch":
		return p.doFetch(ctx, req)
	case "files":
		return p.doFiles(req)
	case "react", "edit", "pin", "unpin", "pins", "mentions", "search":
		return p.doAnnotate(ctx, req)
	case "show":
		if p.opts.OnShow == nil {
			return Result{}, errors.New("peer: this data folder is used by kithd, which has no window: stop it (or use another folder) to open Kith here")
		}
		if len(req.Invite) > invite.MaxTextLen {
			return Result{}, usage("show: an invite is at most %d characters", invite.MaxTextLen)
		}
		p.opts.OnShow(req.Invite)
		return Result{Text: "shown"}, nil
	}
	return Result{}, usage("unknown command %q: use create, invite, invites, revoke, join, run, post, messages, members, status, remove, promote, demote, delete, leave, recover or resync", req.Cmd)
}

func jsonResult(text string, v any) (Result, error) {
	b, err := json.Marshal(v)
	return Result{Text: text, JSON: b}, err
}

func (p *Peer) doCreate(ctx context.Context, req Request) (Result, error) {
	if strings.TrimSpace(req.Name) == "" {
		return Result{}, usage("create needs --name NAME")
	}
	name := req.DisplayName
	if name == "" {
		name = "Owner"
	}
	if req.MaxMembers < 0 {
		return Result{}, usage("--max-members is 0 (no cap) or more, not %d", req.MaxMembers)
	}
	c, err := p.Svc.CreateCommunity(ctx, app.CreateParams{Name: req.Name, About: req.About, MaxMembers: req.MaxMembers, DisplayName: name})
	if err != nil {
		return Result{}, asUsage(err)
	}
	if g := p.gossipOf(); g != nil {
		if err := g.Add(c.ID); err != nil {
			return Result{}, err
		}
	}
	return jsonResult(c.ID.String(), map[string]string{"id": c.ID.String(), "name": c.Name, "recovery_words": c.RecoveryWords})
}

func (p *Peer) doInvite(req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	ip := app.InviteParams{Uses: req.Uses, Approval: req.Approval || len(req.Questions) > 0, Questions: req.Questions}
	if req.Role != "" {
		r, err := invite.ParseRole(req.Role)
		if err != nil || r == community.RoleOwner {
			return Result{}, usage("--role is member or moderator, not %q", req.Role)
		}
		ip.Role = r
	}
	if req.Expires != "" {
		d, err := time.ParseDuration(req.Expires)
		if err != nil || d <= 0 {
			return Result{}, usage("--expires takes a duration such as 24h or 90m, not %q", req.Expires)
		}
		ip.Expires = d
	}
	if req.Uses < 0 {
		return Result{}, usage("--uses must be 1 or more (0: no limit)")
	}
	inv, warning, err := p.Invite(id, ip)
	if err != nil {
		return Result{}, asUsage(err)
	}
	members := membersJSON(inv)
	addrs := []string{}
	for _, m := range members {
		addrs = append(addrs, m.Addrs...)
	}
	questions := inv.Questions
	if questions == nil {
		questions = []string{}
	}
	res, err := jsonResult(inv.String(), map[string]any{"invite": inv.String(), "link": inv.Link(), "id": fmt.Sprintf("%x", inv.ID[:]), "members": members, "addrs": addrs,
		"approval": inv.Approval, "questions": questions})
	res.Warning = warning
	return res, err
}

// InviteJSON is one invite this install issued, as `kithd invites --json` prints it.
type InviteJSON struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Uses    int    `json:"uses"`
	MaxUses int    `json:"max_uses"` // 0: no limit
	Expires string `json:"expires"`  // RFC 3339; empty: never
	Revoked bool   `json:"revoked"`
}

func (p *Peer) doInvites(req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	issued, err := p.Svc.Invites(id)
	if err != nil {
		return Result{}, err
	}
	out := make([]InviteJSON, 0, len(issued))
	var text strings.Builder
	for _, is := range issued {
		c := is.Invite.Capability
		j := InviteJSON{ID: is.Invite.ID.String(), Role: c.Role.String(), Uses: is.Uses, MaxUses: int(c.MaxUses), Revoked: is.Revoked}
		limit, expires, state := "no limit", "never expires", ""
		if c.MaxUses > 0 {
			limit = fmt.Sprint(c.MaxUses)
		}
		if !c.Expires.IsZero() {
			j.Expires = c.Expires.UTC().Format(time.RFC3339)
			expires = "expires " + j.Expires
		}
		if is.Revoked {
			state = " · revoked"
		}
		out = append(out, j)
		fmt.Fprintf(&text, "%s  %s  %d of %s used  %s%s\n", j.ID, j.Role, j.Uses, limit, expires, state)
	}
	if len(out) == 0 {
		text.WriteString("no invites issued from this device: make one with `kithd invite`\n")
	}
	return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
}

func (p *Peer) doRevoke(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Member != "" {
		m, err := p.member(id, req.Member)
		if err != nil {
			return Result{}, err
		}
		n, err := p.Svc.RevokeBy(ctx, id, m.Key)
		if err != nil {
			return Result{}, err
		}
		text := fmt.Sprintf("revoked the %s %s issued: members refuse joins with them once they have the revocation", plural(n, "open invite", "open invites"), nameOr(m.Name))
		if n == 0 {
			text = fmt.Sprintf("%s has no open invite in the log: nothing to revoke", nameOr(m.Name))
		}
		return jsonResult(text, map[string]any{"member_id": fmt.Sprintf("%x", m.Key), "revoked": n})
	}
	inv, err := invite.ParseID(strings.TrimSpace(req.Invite))
	if err != nil {
		return Result{}, usage("revoke takes an invite ID, as `kithd invites` prints it (32 hex digits): %v", err)
	}
	if err := p.Svc.RevokeInvite(ctx, id, inv); err != nil {
		return Result{}, err
	}
	return jsonResult("revoked "+inv.String()+": members refuse joins with it once they have the revocation", map[string]any{"id": inv.String(), "revoked": true})
}

func (p *Peer) doJoin(ctx context.Context, req Request, progress func(string)) (Result, error) {
	if req.Cancel {
		return p.doCancelJoin(req)
	}
	if _, err := app.CleanDisplayName(req.Name); err != nil {
		return Result{}, asUsage(err)
	}
	inv, err := invite.Parse(req.Invite)
	if err != nil {
		return Result{}, err
	}
	timeout := 60 * time.Second
	if req.Timeout != "" {
		if timeout, err = time.ParseDuration(req.Timeout); err != nil || timeout <= 0 {
			return Result{}, usage("--timeout takes a duration such as 60s or 2h, not %q", req.Timeout)
		}
	}
	if err := expired(inv, time.Now()); err != nil {
		return Result{}, fmt.Errorf("the invite to %q expired on %s: ask whoever sent it for a new one", inv.CommunityName, inv.Expires.Local().Format("2 January 2006 at 15:04"))
	}
	if _, err := app.CleanAnswers(&inv.Capability, req.Answers); err != nil {
		msg := app.Sentence(err)
		if len(inv.Questions) > 0 {
			msg += fmt.Sprintf(" (the questions: %s; give --answer TEXT once per question, in this order)", quoted(inv.Questions))
		}
		return Result{}, usage("%s", msg)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if progress != nil { // no line after the answer: the teller ends before doJoin returns
		tctx, stop := context.WithCancel(ctx)
		told := make(chan struct{})
		events := p.Svc.Subscribe(tctx)
		go func() { defer close(told); tellJoin(tctx, events, community.Hash(inv.Community), progress) }()
		defer func() { stop(); <-told }()
	}
	id, err := p.Join(ctx, inv, req.Name, req.Answers...)
	if errors.Is(err, app.ErrAwaitingApproval) {
		text := fmt.Sprintf("your request to join %q was delivered and waits for approval by the owner or a moderator; "+
			"keep Kith running (`kithd run` or the desktop app): it gets you in by itself once approved. `kithd status` shows where it stands", inv.CommunityName)
		return jsonResult(text, map[string]any{"id": id.String(), "name": inv.CommunityName, "pending": true})
	}
	kept := fmt.Sprintf("the join is kept, and Kith tries again while it runs (`kithd run` or the desktop app) until the invite expires: `kithd status` shows it, `kithd join --cancel %s` drops it", id.String()[:12])
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("no member of %q answered within %s; %s", inv.CommunityName, spell(timeout), kept)
	case errors.Is(err, context.Canceled), errors.Is(err, ErrJoinStopped):
		err = fmt.Errorf("stopped waiting for a member of %q; %s", inv.CommunityName, kept)
	}
	if err != nil {
		return Result{}, err
	}
	return jsonResult(id.String(), map[string]string{"id": id.String(), "name": inv.CommunityName})
}

// tellJoin turns a join's progress into sentences for the person waiting on a terminal.
func tellJoin(ctx context.Context, events <-chan app.Event, id community.Hash, say func(string)) {
	last, waited, named := "", false, 0
	for {
		var ev app.Event
		select {
		case <-ctx.Done():
			return
		case ev = <-events:
		}
		e, ok := ev.(app.JoinProgress)
		if !ok || e.Community != id {
			continue
		}
		var line string
		switch e.Stage {
		case app.JoinFinding: // the first attempt only: then the waiting line says it all
			if e.Of > 0 && !waited {
				named = e.Of
				line = fmt.Sprintf("trying the %s the invite names…", plural(e.Of, "member", "members"))
			}
		case app.JoinSearching:
			if waited {
				break
			}
			line = "no answer yet; looking for a member on this network too…"
			if named == 0 {
				line = "looking for a member on this network…"
			}
			if e.Via == app.ViaRendezvous {
				line = strings.TrimSuffix(line, " too…")
				line = strings.TrimSuffix(line, "…") + " and at the rendezvous…"
			}
		case app.JoinVerifying:
			line = fmt.Sprintf("found a member (%s); it checks the invite…", e.Via)
		case app.JoinSyncing:
			line = "admitted; syncing the history…"
		case app.JoinWaiting:
			waited = true
			line = fmt.Sprintf("no member is online yet; trying again in %s…", spell(time.Until(e.Retry).Round(time.Second)))
		}
		if line != "" && line != last {
			say(line)
			last = line
		}
	}
}

// doCancelJoin drops a join under way: --cancel names its community (an ID, a prefix of one, or
// the name) or gives the invite.
func (p *Peer) doCancelJoin(req Request) (Result, error) {
	arg := strings.TrimSpace(req.Invite)
	var target *PendingJoin
	pending := p.PendingJoins()
	if inv, err := invite.Parse(arg); err == nil {
		arg = community.Hash(inv.Community).String()
	}
	for i, j := range pending {
		if names(j.Community, j.Name, arg) {
			target = &pending[i]
			break
		}
	}
	if target == nil {
		if len(pending) == 0 {
			return Result{}, errors.New("no join is under way")
		}
		var names []string
		for _, j := range pending {
			names = append(names, fmt.Sprintf("%s (%s)", j.Community.String()[:12], j.Name))
		}
		return Result{}, fmt.Errorf("no join under way matches %q: joins under way: %s", arg, strings.Join(names, ", "))
	}
	if !p.CancelJoin(target.Community) {
		return Result{}, fmt.Errorf("the join of %q had already ended: `kithd status` says where it stands", target.Name)
	}
	return jsonResult(fmt.Sprintf("the join of %q is cancelled", target.Name), map[string]any{"id": target.Community.String(), "name": target.Name, "cancelled": true})
}

// spell says a duration the short way: "45s", "2m0s" → "2m", "2h0m0s" → "2h", "1h30m".
func spell(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (p *Peer) doPost(ctx context.Context, req Request) (Result, error) {
	id, ch, err := p.place(req)
	if err != nil {
		return Result{}, err
	}
	var parent community.Hash
	if req.Promotion && req.ReplyTo != "" {
		return Result{}, usage("a promotion is a post of its own: leave out --reply-to")
	}
	if req.ReplyTo != "" {
		if parent, err = community.ParseHash(strings.TrimSpace(req.ReplyTo)); err != nil {
			return Result{}, usage("--reply-to takes a message id, as `kithd messages --json` prints it: %v", err)
		}
		pm, ok, err := p.Svc.Message(id, parent)
		if err != nil {
			return Result{}, err
		}
		if !ok || pm.Text == "" {
			return Result{}, fmt.Errorf("there is no message %s to reply to on this device (deleted, or not here yet)", parent.Short())
		}
		if req.Channel == "" { // a reply goes where its parent is
			if ch, err = p.channelByID(id, pm.Channel); err != nil {
				return Result{}, err
			}
		}
	}
	if len(req.Files) > 0 {
		if req.Promotion {
			return Result{}, usage("a promotion carries text only, for now: leave out --file")
		}
		files, err := localFiles(req.Files)
		if err != nil {
			return Result{}, err
		}
		m, err := p.Svc.PostFiles(ctx, id, ch.ID, req.Text, parent, files)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(m.ID.String(), p.messageJSON(m, ch.Name))
	}
	post := p.Svc.Post
	if req.Promotion {
		post = func(ctx context.Context, id, channel community.Hash, text string, _ community.Hash) (app.Message, error) {
			return p.Svc.PostPromotion(ctx, id, channel, text)
		}
	}
	m, err := post(ctx, id, ch.ID, req.Text, parent)
	if err != nil {
		return Result{}, asUsage(err)
	}
	return jsonResult(m.ID.String(), p.messageJSON(m, ch.Name))
}

// channelByID is a community's channel with that ID.
func (p *Peer) channelByID(id, channel community.Hash) (app.Channel, error) {
	chans, err := p.Svc.Channels(id)
	if err != nil {
		return app.Channel{}, err
	}
	for _, c := range chans {
		if c.ID == channel {
			return c, nil
		}
	}
	return app.Channel{}, fmt.Errorf("no channel %s here", channel.Short())
}

// MessageJSON is a message as `kithd messages --json` prints it.
type MessageJSON struct {
	ID         string         `json:"id"`
	Channel    string         `json:"channel"`
	Author     string         `json:"author"`
	AuthorName string         `json:"author_name"`
	AuthorRole string         `json:"author_role"` // owner, moderator or member (none: no longer a member)
	Text       string         `json:"text"`
	Time       string         `json:"time"`
	Mine       bool           `json:"mine"`
	ReplyTo    string         `json:"reply_to,omitempty"` // the message it answers
	Reactions  []ReactionJSON `json:"reactions"`
	Edited     bool           `json:"edited"`
	Pinned     bool           `json:"pinned"`
	MentionsMe bool           `json:"mentions_me"`
	Poll       *PollJSON      `json:"poll,omitempty"` // a poll: Text is its question
	Promotion  bool           `json:"promotion"`      // a promotional post or an offer
	OverBudget bool           `json:"over_budget"`    // past the week's promotion budget: members do not see it
	// Attachments are its files, each with whether this device holds it (fetch saves it).
	Attachments []AttachmentJSON `json:"attachments"`
}

// AttachmentJSON is one file of a message.
type AttachmentJSON struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Mime   string `json:"mime"`
	BlobID string `json:"blob_id"`
	Have   bool   `json:"have"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// ReactionJSON is one emoji on a message.
type ReactionJSON struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
	Mine  bool   `json:"mine"`
}

func (p *Peer) messageJSON(m app.Message, channel string) MessageJSON {
	j := MessageJSON{ID: m.ID.String(), Channel: channel, Author: fmt.Sprintf("%x", m.Author), AuthorName: m.Name,
		AuthorRole: m.Role.String(), Text: m.Text, Time: m.Time.UTC().Format(time.RFC3339), Mine: m.Mine,
		Reactions: []ReactionJSON{}, Edited: m.Edited, Pinned: m.Pinned, MentionsMe: m.MentionsMe,
		Promotion: m.Promotion, OverBudget: m.OverBudget, Attachments: []AttachmentJSON{}}
	for _, a := range m.Attachments {
		j.Attachments = append(j.Attachments, AttachmentJSON{Name: community.Printable(a.Name, false), Size: a.Size, Mime: a.Mime,
			BlobID: a.Blob.String(), Have: a.Have, Width: a.Width, Height: a.Height})
	}
	if !m.ReplyTo.IsZero() {
		j.ReplyTo = m.ReplyTo.String()
	}
	for _, r := range m.Reactions {
		j.Reactions = append(j.Reactions, ReactionJSON{Emoji: r.Emoji, Count: r.Count, Mine: r.Mine})
	}
	if m.Poll != nil {
		pj := pollJSONIn(channel, *m.Poll)
		j.Poll = &pj
	}
	return j
}

// marks are what follows a message's text in `kithd messages`: edited, pinned, a reply's
// parent, the reactions.
func marks(m app.Message) string {
	var b strings.Builder
	if m.Edited {
		b.WriteString("  (edited)")
	}
	if m.Pinned {
		b.WriteString("  (pinned)")
	}
	if m.Promotion {
		b.WriteString("  (promotion)")
	}
	for _, a := range m.Attachments {
		fmt.Fprintf(&b, "\n    📎 %s (%s)", community.Printable(a.Name, false), app.SizeWords(a.Size))
		if !a.Have {
			b.WriteString(" not on this device")
		}
	}
	if m.OverBudget {
		b.WriteString("  (past the week's promotion budget: members do not see it)")
	}
	if !m.ReplyTo.IsZero() {
		fmt.Fprintf(&b, "\n    ↳ a reply to %s", m.ReplyTo.Short())
	}
	if len(m.Reactions) > 0 {
		var rs []string
		for _, r := range m.Reactions {
			rs = append(rs, fmt.Sprintf("%s %d", community.Printable(r.Emoji, false), r.Count))
		}
		b.WriteString("\n    " + strings.Join(rs, "  "))
	}
	return b.String()
}

func (p *Peer) doMessages(req Request) (Result, error) {
	id, ch, err := p.place(req)
	if err != nil {
		return Result{}, err
	}
	limit := req.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 0 || limit > 10_000 {
		return Result{}, usage("--limit is 1 to 10000")
	}
	msgs, err := p.Svc.Messages(id, ch.ID, community.Position{}, limit)
	if err != nil {
		return Result{}, err
	}
	slices.Reverse(msgs) // oldest first
	out := make([]MessageJSON, 0, len(msgs))
	var text strings.Builder
	for _, m := range msgs {
		out = append(out, p.messageJSON(m, ch.Name))
		fmt.Fprintf(&text, "%s  %s%s: %s%s\n", m.Time.Local().Format("2006-01-02 15:04"), nameOr(m.Name), roleMark(m.Role), indented(m.Text), marks(m))
	}
	return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
}

// roleMark is what follows an author's name in `kithd messages`: its role when it is the
// owner or a moderator, so that nobody passes for them with a look-alike name.
func roleMark(r community.Role) string {
	if r >= community.RoleModerator {
		return " (" + r.String() + ")"
	}
	return ""
}

// indented is a message's text for a terminal: control characters made visible
// (community.Printable), and every line after the first indented under a bar, so that no text
// can pass for another message's line.
func indented(text string) string {
	return strings.ReplaceAll(community.Printable(text, true), "\n", "\n    | ")
}

func nameOr(name string) string {
	if name == "" {
		return "(no name)"
	}
	return name
}

// MemberJSON is a member as `kithd members --json` prints it.
type MemberJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Online bool   `json:"online"`
	Path   string `json:"path,omitempty"` // direct, LAN or relayed, when online
	You    bool   `json:"you"`
	About  string `json:"about"` // from here on: scripts read the fields before it in this order
	// Provenance: who admitted the member (its id; "" for the owner who founded the community),
	// with which invite, and when.
	InvitedBy string `json:"invited_by"`
	InviteID  string `json:"invite_id"`
	JoinedAt  string `json:"joined_at"` // RFC 3339, the admitter's clock
	// Picture is the blob ID of the member's picture ("" for none): kithd fetch saves it.
	Picture string `json:"picture"`
}

func (p *Peer) doMembers(req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	ms, err := p.Svc.Members(id)
	if err != nil {
		return Result{}, err
	}
	var out []MemberJSON
	var text strings.Builder
	for _, m := range ms {
		if !m.Active {
			continue
		}
		j := MemberJSON{ID: fmt.Sprintf("%x", m.Key), Name: m.Name, About: m.About, Role: m.Role.String(), You: m.You}
		if len(m.InvitedBy) > 0 {
			j.InvitedBy, j.InviteID = fmt.Sprintf("%x", m.InvitedBy), m.Invite.String()
		}
		if !m.JoinedAt.IsZero() {
			j.JoinedAt = m.JoinedAt.UTC().Format(time.RFC3339)
		}
		if len(m.Picture) > 0 {
			j.Picture = m.PictureBlob.String()
		}
		j.Online, j.Path = p.online(m.Key, m.You)
		out = append(out, j)
		state := "offline"
		if j.Online {
			state = "online"
			if j.Path != "" {
				state += " (" + j.Path + ")"
			}
		}
		you := ""
		if m.You {
			you = " (you)"
		}
		fmt.Fprintf(&text, "%-24s %-9s %s%s\n", nameOr(m.Name), j.Role, state, you)
	}
	if out == nil {
		out = []MemberJSON{}
	}
	return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
}

// StatusJSON is what `kithd status --json` prints.
type StatusJSON struct {
	Running      bool              `json:"running"`
	PeerID       string            `json:"peer_id"`
	Addrs        []string          `json:"addrs"`
	Communities  []CommunityJSON   `json:"communities"`
	PendingJoins []PendingJoinJSON `json:"pending_joins"`
	// Pending are the joins whose request was delivered and waits for approval (they are
	// among PendingJoins too); Declined the requests the owner or a moderator declined.
	Pending  []PendingJoinJSON `json:"pending"`
	Declined []DeclinedJSON    `json:"declined"`
}

// DeclinedJSON is a declined request to join in StatusJSON.
type DeclinedJSON struct {
	Community string `json:"community"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
	At        string `json:"at"` // RFC 3339
}

// WelcomeJSON is what a community shows newcomers, in CommunityJSON.
type WelcomeJSON struct {
	Text    string `json:"text"`
	Rules   string `json:"rules"`
	Channel string `json:"channel"` // where newcomers introduce themselves ("" none)
}

// PendingJoinJSON is a join under way in StatusJSON.
type PendingJoinJSON struct {
	Community string `json:"community"` // the community's ID
	Name      string `json:"name"`      // its name, as the invite gives it
	Since     string `json:"since"`     // RFC 3339
	State     string `json:"state"`     // finding, verifying, syncing, searching, waiting
	Attempts  int    `json:"attempts"`  // since Kith started
	NextTry   string `json:"next_try,omitempty"`
	Expires   string `json:"expires,omitempty"` // the invite's expiry; empty: never
	LastError string `json:"last_error,omitempty"`
	Requested string `json:"requested,omitempty"` // when a member took the request (approval); RFC 3339
}

// stageName names a join stage in PendingJoinJSON.
func stageName(s app.JoinStage) string {
	switch s {
	case app.JoinFinding:
		return "finding"
	case app.JoinVerifying:
		return "verifying"
	case app.JoinSyncing:
		return "syncing"
	case app.JoinSearching:
		return "searching"
	case app.JoinApproval:
		return "awaiting approval"
	}
	return "waiting"
}

// CommunityJSON is one community in StatusJSON.
type CommunityJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Members int    `json:"members"`
	Online  int    `json:"online"` // members online, this install included while it runs
	Sync    string `json:"sync"`   // "synced" or "syncing n/N"
	// Welcome is what the community shows newcomers; Requests counts the requests to join
	// waiting for approval (the owner and moderators).
	Welcome  WelcomeJSON `json:"welcome"`
	Requests int         `json:"requests"`
}

func (p *Peer) doStatus() (Result, error) {
	pid, err := PeerID(p.ID.PublicKey())
	if err != nil {
		return Result{}, err
	}
	addrs, stale := p.Addrs()
	st := StatusJSON{Running: !stale, PeerID: pid, Addrs: addrs, Communities: []CommunityJSON{}, PendingJoins: []PendingJoinJSON{},
		Pending: []PendingJoinJSON{}, Declined: []DeclinedJSON{}}
	if st.Addrs == nil {
		st.Addrs = []string{}
	}
	cs, err := p.Svc.Communities()
	if err != nil {
		return Result{}, err
	}
	var text strings.Builder
	state := "not running (start it with `kithd run`)"
	if st.Running {
		state = "running"
	}
	fmt.Fprintf(&text, "Kith is %s\npeer ID %s\n", state, pid)
	for _, c := range cs {
		cj := CommunityJSON{ID: c.ID.String(), Name: c.Name, Role: c.Role.String(), Members: c.Members, Sync: p.Svc.Sync(c.ID).String()}
		if e, err := p.Svc.Entry(c.ID); err == nil {
			cj.Welcome = WelcomeJSON{Text: community.Printable(e.Welcome.Text, true), Rules: community.Printable(e.Welcome.Rules, true), Channel: e.Welcome.Intro}
		}
		if c.Role >= community.RoleModerator {
			if rs, err := p.Svc.Requests(c.ID, false); err == nil {
				cj.Requests = len(rs)
			}
		}
		if ms, err := p.Svc.Members(c.ID); err == nil {
			for _, m := range ms {
				if on, _ := p.online(m.Key, m.You); on && m.Active {
					cj.Online++
				}
			}
		}
		st.Communities = append(st.Communities, cj)
		fmt.Fprintf(&text, "%s  %s  %d of %d online  %s  (%s)\n", cj.ID[:12], cj.Name, cj.Online, cj.Members, cj.Sync, cj.Role)
		if cj.Requests > 0 {
			fmt.Fprintf(&text, "  %s waiting for approval: `kithd requests`\n", plural(cj.Requests, "request to join", "requests to join"))
		}
	}
	in := map[community.Hash]bool{}
	for _, c := range cs {
		in[c.ID] = c.Role != community.RoleNone
	}
	for _, j := range p.PendingJoins() {
		if in[j.Community] { // admitted: the join is ending (its entry goes a moment later)
			continue
		}
		pj := PendingJoinJSON{Community: j.Community.String(), Name: j.Name, Since: j.Since.UTC().Format(time.RFC3339),
			State: stageName(j.Stage), Attempts: j.Attempts, LastError: j.LastError}
		if !j.NextTry.IsZero() {
			pj.NextTry = j.NextTry.UTC().Format(time.RFC3339)
		}
		if !j.Expires.IsZero() {
			pj.Expires = j.Expires.UTC().Format(time.RFC3339)
		}
		how := "waiting for a member to come online"
		if !j.Requested.IsZero() {
			pj.Requested = j.Requested.UTC().Format(time.RFC3339)
			st.Pending = append(st.Pending, pj)
			how = "the request was delivered on " + j.Requested.Local().Format("2006-01-02 15:04") + " and waits for approval by the owner or a moderator"
		}
		st.PendingJoins = append(st.PendingJoins, pj)
		if !st.Running {
			how += "; kept: Kith asks again when it runs"
		}
		fmt.Fprintf(&text, "joining %q since %s: %s\n", j.Name, j.Since.Local().Format("2006-01-02 15:04"), how)
	}
	for _, d := range p.Declines() {
		st.Declined = append(st.Declined, DeclinedJSON{Community: d.Community.String(), Name: d.Name, Reason: d.Reason, At: d.At.UTC().Format(time.RFC3339)})
		why := ""
		if d.Reason != "" {
			why = ": " + d.Reason
		}
		fmt.Fprintf(&text, "your request to join %q was declined on %s%s\n", d.Name, d.At.Local().Format("2006-01-02 15:04"), why)
	}
	return jsonResult(strings.TrimSuffix(text.String(), "\n"), st)
}

// community resolves --community: a full ID, a unique prefix of one (4+ characters), or a
// community's exact name; empty when this install belongs to one community only.
func (p *Peer) community(arg string) (community.Hash, error) {
	cs, err := p.Svc.Communities()
	if err != nil {
		return community.Hash{}, err
	}
	arg = strings.TrimSpace(arg)
	if arg == "" {
		switch len(cs) {
		case 0:
			return community.Hash{}, errors.New("this install belongs to no community yet: `kithd create --name NAME` or `kithd join INVITE`")
		case 1:
			return cs[0].ID, nil
		}
		return community.Hash{}, usage("this install belongs to %d communities: pass --community with one of %s", len(cs), listCommunities(cs))
	}
	var found []app.Summary
	for _, c := range cs {
		if names(c.ID, c.Name, arg) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0].ID, nil
	case 0:
		return community.Hash{}, fmt.Errorf("no community of this install matches %q: use one of %s", arg, listCommunities(cs))
	}
	return community.Hash{}, usage("%q matches %d communities: give more of the ID (%s)", arg, len(found), listCommunities(found))
}

// names reports whether arg names a community: its full ID, a prefix of it (4+ characters), or
// its exact name.
func names(id community.Hash, name, arg string) bool {
	hex, arg := id.String(), strings.ToLower(arg)
	return hex == arg || len(arg) >= 4 && strings.HasPrefix(hex, arg) || strings.EqualFold(name, arg)
}

func listCommunities(cs []app.Summary) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s (%s)", c.ID.String()[:12], c.Name))
	}
	return strings.Join(parts, ", ")
}

// place resolves a request's --community and --channel.
func (p *Peer) place(req Request) (community.Hash, app.Channel, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return id, app.Channel{}, err
	}
	ch, err := p.channel(id, req.Channel)
	return id, ch, err
}

// channel resolves --channel by name (a leading # is fine); empty: general.
func (p *Peer) channel(id community.Hash, name string) (app.Channel, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "#")
	if name == "" {
		name = "general"
	}
	chans, err := p.Svc.Channels(id)
	if err != nil {
		return app.Channel{}, err
	}
	var names []string
	for _, c := range chans {
		if community.NameKey(c.Name) == community.NameKey(name) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return app.Channel{}, fmt.Errorf("there is no channel %q here: use one of %s", name, strings.Join(names, ", "))
}

// gossipOf is the running gossip, nil before Start.
func (p *Peer) gossipOf() *gossip.Gossip {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gossip
}

func (p *Peer) loopCtx() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctx
}
