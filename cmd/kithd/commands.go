package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/peer"
)

// A command is one of kithd's commands, described once: the parser, the arguments' checks,
// `kithd help` and the rule on creating a data folder all read this table.
type command struct {
	name string
	// usage is the left column of `kithd help`, a line each: the name, flags and arguments.
	usage []string
	// help is the right column, a line each: what the command does.
	help []string
	// flags declares the command's flags on fs, filling r (--json is every command's).
	flags func(fs *flag.FlagSet, r *peer.Request)
	// arg is the field the one positional argument fills; nil: the command takes none.
	arg func(r *peer.Request) *string
	// arg2 is the field a second positional argument fills (channel rename NAME NEW_NAME).
	arg2 func(r *peer.Request) *string
	// noArg says when the one argument must be left out (revoke --by MEMBER).
	noArg func(r *peer.Request) bool
	// optionalArg says when the one argument may be left out (post --file PATH).
	optionalArg func(r *peer.Request) bool
	// rest takes any number of arguments instead of arg and arg2 (vote POLL_ID INDEX...).
	rest func(r *peer.Request, args []string) error
	// wrongArgs says what to type when the number of arguments is wrong (n were given; nil: the
	// generic sentence).
	wrongArgs func(r *peer.Request, n int) string
	// check refuses values that parse but make no sense, with a sentence (nil: none).
	check func(r *peer.Request) error
	// existing: the command acts on a folder that holds Kith already, and makes no folder or
	// key where there is none (a mistyped --data says so instead).
	existing bool
}

// absOut makes r.Out absolute: the running peer that writes there has a working folder of its
// own. missing is the sentence when --out was left out.
func absOut(r *peer.Request, missing string) error {
	if r.Out == "" {
		return errors.New(missing)
	}
	abs, err := filepath.Abs(r.Out)
	if err != nil {
		return fmt.Errorf("%s: --out %s: %v", r.Cmd, r.Out, err)
	}
	r.Out = abs
	return nil
}

// commands is kithd's contract, in the order `kithd help` lists it. `run` is parsed by runPeer
// (it stays in the foreground); it is here for the help.
var commands = []command{
	{
		name: "create", usage: []string{"create --name NAME [--about TEXT] [--max-members N]"}, help: []string{"make a community; prints its ID"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			fs.StringVar(&r.Name, "name", "", "")
			fs.StringVar(&r.About, "about", "", "")
			fs.IntVar(&r.MaxMembers, "max-members", 0, "")
			fs.StringVar(&r.DisplayName, "display-name", "", "")
		},
		check: func(r *peer.Request) error {
			if r.MaxMembers < 0 || r.MaxMembers > community.MaxMembers {
				return fmt.Errorf("create: --max-members is 0 (no cap) up to %d, not %d", community.MaxMembers, r.MaxMembers)
			}
			return nil
		},
	},
	{
		name:  "invite",
		usage: []string{"invite [--community ID] [--role member|moderator] [--uses N] [--expires DURATION]", "    [--approval] [--question TEXT]...", ""},
		help:  []string{"", "prints one invite (kith1...); --approval: joins wait", "for the owner or a moderator, after up to 5 questions"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.StringVar(&r.Role, "role", "", "")
			fs.IntVar(&r.Uses, "uses", 0, "")
			fs.StringVar(&r.Expires, "expires", "", "")
			fs.BoolVar(&r.Approval, "approval", false, "")
			fs.Var((*listFlag)(&r.Questions), "question", "")
		},
		check: func(r *peer.Request) error {
			if len(r.Questions) > 0 && !r.Approval {
				return errors.New("invite: --question asks for the owner's approval: add --approval")
			}
			return nil
		},
		existing: true,
	},
	{
		name: "invites", usage: []string{"invites [--community ID] [--json]"}, help: []string{"the invites this device issued, oldest first"},
		flags: communityFlag, existing: true,
	},
	{
		name: "revoke", usage: []string{"revoke [--community ID] INVITE_ID", "revoke [--community ID] --by MEMBER"},
		help: []string{"revoke an invite: joins with it are refused", "revoke every open invite a member issued"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.StringVar(&r.Member, "by", "", "")
		},
		arg:   func(r *peer.Request) *string { return &r.Invite },
		noArg: func(r *peer.Request) bool { return r.Member != "" },
		wrongArgs: func(*peer.Request, int) string {
			return "revoke takes one invite ID (see `kithd invites`), or --by MEMBER"
		},
		existing: true,
	},
	{
		name: "requests", usage: []string{"requests [--community ID] [--all] [--json]"},
		help:     []string{"requests to join waiting for approval, with answers"},
		flags:    func(fs *flag.FlagSet, r *peer.Request) { communityFlag(fs, r); fs.BoolVar(&r.All, "all", false, "") },
		existing: true,
	},
	{
		name: "approve", usage: []string{"approve [--community ID] REQUEST_ID"}, help: []string{"let a request's joiner in"},
		flags: communityFlag, arg: requestArg, wrongArgs: requestArgs("approve"), existing: true,
	},
	{
		name: "decline", usage: []string{"decline [--community ID] [--reason TEXT] REQUEST_ID"}, help: []string{"decline a request; the joiner is told the reason"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.StringVar(&r.Reason, "reason", "", "")
		},
		arg: requestArg, wrongArgs: requestArgs("decline"), existing: true,
	},
	{
		name:  "poll",
		usage: []string{"poll [--community ID] [--channel NAME] --question Q", "    --option A --option B... [--multi] [--closes 48h]", "    [--results after-close|never]"},
		help:  []string{"ask a poll (the owner, moderators); prints POLL_ID", "votes are sealed to the owner and moderators;", "members see the results when it closes, or never"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			channel(fs, r)
			fs.StringVar(&r.Text, "question", "", "")
			fs.Var((*listFlag)(&r.Options), "option", "")
			fs.BoolVar(&r.Multi, "multi", false, "")
			fs.StringVar(&r.Closes, "closes", "", "")
			fs.StringVar(&r.Results, "results", "after-close", "")
		},
		check: func(r *peer.Request) error {
			switch {
			case strings.TrimSpace(r.Text) == "":
				return errors.New("poll needs --question TEXT")
			case len(r.Options) < 2:
				return errors.New("poll needs at least two --option TEXT")
			case r.Results != "after-close" && r.Results != "never":
				return fmt.Errorf("poll: --results is after-close or never, not %q", r.Results)
			}
			if r.Closes != "" {
				if d, err := time.ParseDuration(r.Closes); err != nil || d <= 0 {
					return fmt.Errorf("poll: --closes takes a duration such as 48h, not %q", r.Closes)
				}
			}
			return nil
		},
		existing: true,
	},
	{
		name: "vote", usage: []string{"vote [--community ID] POLL_ID INDEX..."}, help: []string{"vote; options are counted from 1"},
		flags: communityFlag, rest: func(r *peer.Request, args []string) error {
			if len(args) < 2 {
				return errors.New("vote takes a poll ID and one or more option numbers (see `kithd polls`)")
			}
			r.Poll, r.Choices = args[0], args[1:]
			return nil
		},
		existing: true,
	},
	{
		name: "poll-results", usage: []string{"poll-results [--community ID] POLL_ID [--json]"},
		help:  []string{"a poll's count (the owner, moderators; members once closed)"},
		flags: communityFlag, arg: pollArg, wrongArgs: pollArgs("poll-results"), existing: true,
	},
	{
		name: "polls", usage: []string{"polls [--community ID] [--json]"}, help: []string{"the polls, newest first, with your vote"},
		flags: communityFlag, existing: true,
	},
	{
		name: "poll-close", usage: []string{"poll-close [--community ID] POLL_ID"}, help: []string{"close a poll now (its author, the owner, moderators)"},
		flags: communityFlag, arg: pollArg, wrongArgs: pollArgs("poll-close"), existing: true,
	},
	{
		name:  "ask",
		usage: []string{"ask [--community ID] [--channel NAME] --question TEXT", "    [--role member|moderator] [--joined-before DATE] [--closes D]", "    [--offer OFFER_ID]"},
		help:  []string{"ask for feedback (the owner, moderators); prints its ID;", "answers are private to the owner and moderators;", "--offer: ask the members granted an offer"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			channel(fs, r)
			fs.StringVar(&r.Text, "question", "", "")
			fs.StringVar(&r.Role, "role", "", "")
			fs.StringVar(&r.JoinedBefore, "joined-before", "", "")
			fs.StringVar(&r.Closes, "closes", "", "")
			fs.StringVar(&r.Offer, "offer", "", "")
		},
		check: func(r *peer.Request) error {
			switch {
			case strings.TrimSpace(r.Text) == "":
				return errors.New("ask needs --question TEXT")
			case r.Role != "" && r.Role != "member" && r.Role != "moderator":
				return fmt.Errorf("ask: --role is member or moderator, not %q", r.Role)
			}
			if r.JoinedBefore != "" {
				if _, err := parseDate(r.JoinedBefore); err != nil {
					return err
				}
			}
			if r.Closes != "" {
				if d, err := time.ParseDuration(r.Closes); err != nil || d <= 0 {
					return fmt.Errorf("ask: --closes takes a duration such as 72h, not %q", r.Closes)
				}
			}
			return nil
		},
		existing: true,
	},
	{
		name: "answer", usage: []string{"answer [--community ID] REQUEST_ID TEXT"}, help: []string{"answer a feedback request (privately)"},
		flags: communityFlag, arg: func(r *peer.Request) *string { return &r.Request }, arg2: func(r *peer.Request) *string { return &r.Text },
		wrongArgs: func(*peer.Request, int) string {
			return `answer takes a request ID (see ` + "`kithd feedback`" + `) and the answer as one argument: quote it`
		},
		existing: true,
	},
	{
		name: "feedback", usage: []string{"feedback [--community ID] [--json]"},
		help:  []string{"feedback requests: the owner and moderators see", "answers; members their own, and the statuses"},
		flags: communityFlag, existing: true,
	},
	{
		name:  "feedback-status",
		usage: []string{"feedback-status [--community ID] [--note TEXT]", "    REQUEST_ID planned|doing|done|declined"},
		help:  []string{"say what became of a request: you asked → we did"},
		flags: func(fs *flag.FlagSet, r *peer.Request) { communityFlag(fs, r); fs.StringVar(&r.Note, "note", "", "") },
		arg:   func(r *peer.Request) *string { return &r.Request }, arg2: func(r *peer.Request) *string { return &r.Status },
		wrongArgs: func(*peer.Request, int) string {
			return "feedback-status takes a request ID and one of planned, doing, done, declined"
		},
		existing: true,
	},
	{
		name:  "offer",
		usage: []string{"offer [--community ID] [--channel NAME] --title T --text X", "    --quantity N --expires D [--code SECRET]"},
		help:  []string{"offer something (the owner, moderators); prints", "OFFER_ID; the code goes to granted members only"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			channel(fs, r)
			fs.StringVar(&r.Title, "title", "", "")
			fs.StringVar(&r.Text, "text", "", "")
			fs.IntVar(&r.Quantity, "quantity", 0, "")
			fs.StringVar(&r.Expires, "expires", "", "")
			fs.StringVar(&r.Code, "code", "", "")
		},
		check: func(r *peer.Request) error {
			switch {
			case strings.TrimSpace(r.Title) == "":
				return errors.New("offer needs --title T")
			case r.Quantity < 1:
				return errors.New("offer needs --quantity N (1 or more)")
			case r.Expires == "":
				return errors.New("offer needs --expires D (a duration such as 72h)")
			}
			if d, err := time.ParseDuration(r.Expires); err != nil || d <= 0 {
				return fmt.Errorf("offer: --expires takes a duration such as 72h, not %q", r.Expires)
			}
			return nil
		},
		existing: true,
	},
	{
		name: "claim", usage: []string{"claim [--community ID] OFFER_ID"}, help: []string{"claim an offer: prints granted (and the code)"},
		flags: communityFlag, arg: func(r *peer.Request) *string { return &r.Offer },
		wrongArgs: func(*peer.Request, int) string { return "claim takes one offer ID (see `kithd offers`)" },
		existing:  true,
	},
	{
		name: "offers", usage: []string{"offers [--community ID] [--json]"}, help: []string{"the offers, with your claims and codes"},
		flags: communityFlag, existing: true,
	},
	{
		name: "badge", usage: []string{"badge [--community ID] --title TITLE [--note TEXT]", "    MEMBER_ID"},
		help: []string{"sign a badge for a member (the owner); it prints", "BADGE_ID; the member exports it as a card"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.StringVar(&r.Title, "title", "", "")
			fs.StringVar(&r.Note, "note", "", "")
		},
		arg: member, wrongArgs: memberArgs("badge"),
		check: func(r *peer.Request) error {
			if strings.TrimSpace(r.Title) == "" {
				return errors.New("badge: --title names the badge, e.g. --title \"Kiln master\"")
			}
			return nil
		},
		existing: true,
	},
	{
		name: "badges", usage: []string{"badges [--community ID] [--json]"}, help: []string{"the badges the owner signed, yours marked"},
		flags: communityFlag, existing: true,
	},
	{
		name: "badge-card", usage: []string{"badge-card [--community ID] [--out FILE] BADGE_ID"},
		help:  []string{"one of your badges as a card (HTML) anyone can", "check offline; --json has the card's text"},
		flags: func(fs *flag.FlagSet, r *peer.Request) { communityFlag(fs, r); fs.StringVar(&r.Out, "out", "", "") },
		arg:   func(r *peer.Request) *string { return &r.Badge },
		wrongArgs: func(*peer.Request, int) string {
			return "badge-card takes one badge id (see `kithd badges`)"
		},
		existing: true,
	},
	{
		name: "version", usage: []string{"version [--json]"},
		help: []string{"which Kith this is: version, commit, Go, system"},
	},
	{
		name: "verify-badge", usage: []string{"verify-badge [--community ID] FILE"},
		help:  []string{"check a badge card offline (a card file, or - for", "standard input), of that community; exit 1 if not"},
		flags: func(fs *flag.FlagSet, r *peer.Request) { fs.StringVar(&r.Community, "community", "", "") },
		check: func(r *peer.Request) error {
			if c := strings.TrimSpace(r.Community); c != "" && len(c) < 8 {
				return errors.New("verify-badge: --community takes the community's ID, or its first 8 hex digits at least")
			}
			return nil
		},
		arg: func(r *peer.Request) *string { return &r.Out },
		wrongArgs: func(*peer.Request, int) string {
			return "verify-badge takes one file: the card (HTML) or its kithbadge1… text; - reads standard input"
		},
	},
	{
		name: "insights", usage: []string{"insights [--community ID] [--weeks N] [--json]"},
		help: []string{"the owner's figures week by week: active members,", "messages, first answers, polls, offers, who invites"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.IntVar(&r.Weeks, "weeks", app.DefaultInsightWeeks, "")
		},
		check: func(r *peer.Request) error {
			if r.Weeks < 1 || r.Weeks > app.MaxInsightWeeks {
				return fmt.Errorf("insights: --weeks is 1 to %d, not %d", app.MaxInsightWeeks, r.Weeks)
			}
			return nil
		},
		existing: true,
	},
	{
		name: "promotions", usage: []string{"promotions [--community ID] [--mute|--unmute] [--json]"},
		help: []string{"the week's promotion budget; --mute hides promotions", "here (no notification), --unmute shows them"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.BoolVar(&r.Mute, "mute", false, "")
			fs.BoolVar(&r.Unmute, "unmute", false, "")
		},
		check: func(r *peer.Request) error {
			if r.Mute && r.Unmute {
				return errors.New("promotions: --mute or --unmute, not both")
			}
			return nil
		},
		existing: true,
	},
	{
		name: "kudos", usage: []string{"kudos [--community ID] MEMBER_ID NOTE"}, help: []string{"recognise a member, with a note (the owner, moderators)"},
		flags: communityFlag, arg: member, arg2: func(r *peer.Request) *string { return &r.Text },
		wrongArgs: func(*peer.Request, int) string {
			return "kudos takes a member id (see `kithd members --json`) and a note as one argument: quote it"
		},
		existing: true,
	},
	{
		name: "helpful", usage: []string{"helpful [--community ID] MESSAGE_ID"}, help: []string{"mark another member's message helpful"},
		flags: communityFlag, arg: messageArg, wrongArgs: messageArgs("helpful", "one message id"), existing: true,
	},
	{
		name: "recognition", usage: []string{"recognition [--community ID] [--json]"},
		help:  []string{"the board: helpful marks weighed by who gave them,", "and kudos; never message counts"},
		flags: communityFlag, existing: true,
	},
	{
		name: "quote-ok", usage: []string{"quote-ok [--community ID] [--with-name] [--revoke] MESSAGE_ID"},
		help: []string{"your message may be quoted as a testimonial (with", "your name: --with-name); --revoke takes it back"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.BoolVar(&r.Revoke, "revoke", false, "")
			fs.BoolVar(&r.WithName, "with-name", false, "")
		},
		arg: messageArg, wrongArgs: messageArgs("quote-ok", "one message id"), existing: true,
	},
	{
		name: "testimonials", usage: []string{"testimonials [--community ID] --format md|html|json"},
		help: []string{"the messages their authors let be quoted (the owner,", "moderators); names only where the author agreed"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.StringVar(&r.Format, "format", "md", "")
		},
		check: func(r *peer.Request) error {
			switch r.Format {
			case "md", "html", "json":
				return nil
			}
			return fmt.Errorf("testimonials: --format is md, html or json, not %q", r.Format)
		},
		existing: true,
	},
	{
		name:  "welcome",
		usage: []string{"welcome [--community ID] [--text TEXT] [--rules TEXT]", "    [--channel NAME]"},
		help:  []string{"what newcomers see (the owner); --channel: where", "they introduce themselves; no flag: show it"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			setString(fs, "text", &r.Text, &r.SetText)
			setString(fs, "rules", &r.About, &r.SetAbout)
			setString(fs, "channel", &r.Channel, &r.SetChannel)
		},
		existing: true,
	},
	{
		name:  "settings",
		usage: []string{"settings [--community ID] [--member-invites N]", "    [--member-approval yes|no] [--question TEXT]...", "    [--promotions-per-week N] [--max-file-mib N]", "    [--keep-files all|opened]"},
		help:  []string{"who may invite (the owner): N people per member;", "approval for members' invites; default questions;", "how many promotions (posts, offers) go out a week;", "the largest file; whether members keep every file"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.Func("member-invites", "", func(v string) error {
				n, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("--member-invites takes a number, not %q", v)
				}
				r.MemberInvites = &n
				return nil
			})
			fs.StringVar(&r.MemberApproval, "member-approval", "", "")
			fs.Var((*listFlag)(&r.Questions), "question", "")
			fs.Func("promotions-per-week", "", func(v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > community.MaxPromotionsPerWeek {
					return fmt.Errorf("--promotions-per-week is 1 up to %d, not %q", community.MaxPromotionsPerWeek, v)
				}
				r.Promotions = &n
				return nil
			})
			fs.Func("max-file-mib", "", func(v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > community.MaxFileMiB {
					return fmt.Errorf("--max-file-mib is 1 up to %d, not %q", community.MaxFileMiB, v)
				}
				r.MaxFileMiB = &n
				return nil
			})
			fs.StringVar(&r.KeepFiles, "keep-files", "", "")
		},
		check: func(r *peer.Request) error {
			switch r.KeepFiles {
			case "", "all", "opened":
			default:
				return fmt.Errorf("settings: --keep-files is all or opened, not %q", r.KeepFiles)
			}
			if r.MemberInvites != nil && (*r.MemberInvites < 0 || *r.MemberInvites > community.MaxMemberInvites) {
				return fmt.Errorf("settings: --member-invites is 0 (members issue none) up to %d, not %d", community.MaxMemberInvites, *r.MemberInvites)
			}
			switch r.MemberApproval {
			case "", "yes", "no":
				return nil
			}
			return fmt.Errorf("settings: --member-approval is yes or no, not %q", r.MemberApproval)
		},
		existing: true,
	},
	{
		name:  "join",
		usage: []string{"join [--name DISPLAY_NAME] [--timeout 60s] [--answer TEXT]...", "    INVITE", "", "", "", "", ""},
		help: []string{"join a community and sync it; waits up to --timeout", "for a member to come online (the join is kept and",
			"retried while Kith runs); --cancel COMMUNITY drops it;", "--answer: one per question of an invite that needs",
			"approval (it exits once the request is delivered);", "with no Kith running here: [--bootstrap MULTIADDR]...", "[--public-dht] [--no-mdns]"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			fs.StringVar(&r.Name, "name", "", "")
			fs.Var((*listFlag)(&r.Answers), "answer", "")
			fs.StringVar(&r.Timeout, "timeout", "60s", "")
			fs.BoolVar(&r.Cancel, "cancel", false, "")
			fs.Var((*listFlag)(&r.Bootstrap), "bootstrap", "")
			fs.BoolVar(&r.PublicDHT, "public-dht", false, "")
			fs.BoolVar(&r.NoMDNS, "no-mdns", false, "")
		},
		arg: func(r *peer.Request) *string { return &r.Invite },
		wrongArgs: func(r *peer.Request, _ int) string {
			if r.Cancel {
				return "join --cancel takes the community (its ID, or its name) or the invite"
			}
			return "join takes one invite (kith1...)"
		},
		check: func(r *peer.Request) error {
			if r.Cancel && (len(r.Bootstrap) > 0 || r.PublicDHT) {
				return errors.New("join --cancel takes no --bootstrap or --public-dht")
			}
			if d, err := time.ParseDuration(r.Timeout); err != nil || d <= 0 {
				return fmt.Errorf("join: --timeout takes a duration such as 60s or 2h, not %q", r.Timeout)
			}
			return nil
		},
	},
	{
		name:  "run",
		usage: []string{"run [--listen MULTIADDR]... [--relay]", "    [--bootstrap MULTIADDR]... [--public-dht]", "    [--dht-server] [--no-mdns] [--no-nat]"},
		help:  []string{"stay online until Ctrl-C", "find members who moved through these DHT nodes", "(--public-dht: the public libp2p network's)"},
	},
	{
		name: "post", usage: []string{"post [--community ID] [--channel NAME] [--reply-to MESSAGE_ID]", "    [--promotion] [--file PATH]... TEXT"},
		help: []string{"write a message; --reply-to answers one (in its", "channel); --promotion: counts in the weekly budget;", "--file: a file or picture with it (TEXT optional)"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			channel(fs, r)
			fs.StringVar(&r.ReplyTo, "reply-to", "", "")
			fs.BoolVar(&r.Promotion, "promotion", false, "")
			fs.Var((*listFlag)(&r.Files), "file", "")
		},
		arg:         func(r *peer.Request) *string { return &r.Text },
		optionalArg: func(r *peer.Request) bool { return len(r.Files) > 0 },
		wrongArgs: func(_ *peer.Request, n int) string {
			if n > 1 {
				return `post takes the message as one argument: quote it ("hello there")`
			}
			return "post needs the message text"
		},
		check: func(r *peer.Request) error {
			if strings.TrimSpace(r.Text) == "" && len(r.Files) == 0 {
				return errors.New("post needs the message text: it is empty")
			}
			for i, f := range r.Files { // the running Kith reads them: from its own folder
				abs, err := filepath.Abs(f)
				if err != nil {
					return fmt.Errorf("post: --file %s: %v", f, err)
				}
				r.Files[i] = abs
			}
			return nil
		},
		existing: true,
	},
	{
		name: "fetch", usage: []string{"fetch [--community ID] --out PATH BLOB_ID"},
		help:  []string{"save a message's file (blob_id: messages --json),", "checked, never over an existing file"},
		flags: func(fs *flag.FlagSet, r *peer.Request) { communityFlag(fs, r); fs.StringVar(&r.Out, "out", "", "") },
		arg:   func(r *peer.Request) *string { return &r.Blob },
		wrongArgs: func(*peer.Request, int) string {
			return "fetch takes one file id: the blob_id of `kithd messages --json`"
		},
		check:    func(r *peer.Request) error { return absOut(r, "fetch: --out PATH says where to save the file") },
		existing: true,
	},
	{
		name: "export", usage: []string{"export [--community ID] --format html|json --out DIR"},
		help: []string{"the community's history and the files held here, as", "a folder (html: any browser, offline); DIR new or empty"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.StringVar(&r.Format, "format", "", "")
			fs.StringVar(&r.Out, "out", "", "")
		},
		check: func(r *peer.Request) error {
			if r.Format != "html" && r.Format != "json" {
				return fmt.Errorf("export: --format is html or json, not %q", r.Format)
			}
			return absOut(r, "export: --out DIR says where to write it (a new or empty folder)")
		},
		existing: true,
	},
	{
		name: "files", usage: []string{"files [--community ID] [--budget MIB] [--json]"},
		help: []string{"what this device keeps of the community's files:", "the space they take, its budget (set with --budget),", "what it lacks"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.Func("budget", "", func(v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > app.MaxFilesBudgetMiB {
					return fmt.Errorf("--budget is 1 up to %d MiB, not %q", app.MaxFilesBudgetMiB, v)
				}
				r.Budget = &n
				return nil
			})
		},
		existing: true,
	},
	{
		name: "messages", usage: []string{"messages [--community ID] [--channel NAME] [--limit N] [--json]"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			channel(fs, r)
			fs.IntVar(&r.Limit, "limit", 50, "")
		},
		existing: true,
	},
	{name: "members", usage: []string{"members [--community ID] [--json]"}, flags: communityFlag, existing: true},
	{name: "status", usage: []string{"status [--json]"}, existing: true},
	{
		name:  "remove",
		usage: []string{"remove [--community ID] [--reason TEXT] [--revoke-invite] MEMBER", "", ""},
		help:  []string{"", "remove a member (MEMBER: the id members --json prints);", "--revoke-invite: also revoke the invite it joined with"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.StringVar(&r.Reason, "reason", "", "")
			fs.BoolVar(&r.RevokeInvite, "revoke-invite", false, "")
		},
		arg: member, wrongArgs: memberArgs("remove"), existing: true,
	},
	{
		name: "promote", usage: []string{"promote [--community ID] MEMBER"}, help: []string{"make a member a moderator (the owner)"},
		flags: communityFlag, arg: member, wrongArgs: memberArgs("promote"), existing: true,
	},
	{
		name: "demote", usage: []string{"demote [--community ID] MEMBER"}, help: []string{"make a moderator a member again (the owner)"},
		flags: communityFlag, arg: member, wrongArgs: memberArgs("demote"), existing: true,
	},
	{
		name: "delete", usage: []string{"delete [--community ID] MESSAGE_ID"}, help: []string{"delete a message (yours; a moderator: members')"},
		flags: communityFlag, arg: func(r *peer.Request) *string { return &r.Message },
		wrongArgs: func(*peer.Request, int) string { return "delete takes one message id (see `kithd messages --json`)" },
		existing:  true,
	},
	{
		name: "channels", usage: []string{"channels [--community ID] [--json]"}, help: []string{"the community's channels, archived ones too"},
		flags: communityFlag, existing: true,
	},
	{
		name: "channel create", usage: []string{"channel create [--community ID] [--announcements] NAME"},
		help: []string{"make a channel (owner, moderators); --announcements: only they post"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.BoolVar(&r.Announce, "announcements", false, "")
		},
		arg: channelName, wrongArgs: channelArgs("channel create", "the new channel's name"), existing: true,
	},
	{
		name: "channel rename", usage: []string{"channel rename [--community ID] NAME NEW_NAME"}, help: []string{"rename a channel (owner, moderators)"},
		flags: communityFlag, arg: channelName, arg2: func(r *peer.Request) *string { return &r.NewName },
		wrongArgs: channelArgs("channel rename", "the channel's name and its new name"), existing: true,
	},
	{
		name: "channel archive", usage: []string{"channel archive [--community ID] NAME"}, help: []string{"archive a channel: readable, nobody posts"},
		flags: communityFlag, arg: channelName, wrongArgs: channelArgs("channel archive", "a channel's name"), existing: true,
	},
	{
		name: "channel unarchive", usage: []string{"channel unarchive [--community ID] NAME"}, help: []string{"bring an archived channel back"},
		flags: communityFlag, arg: channelName, wrongArgs: channelArgs("channel unarchive", "a channel's name"), existing: true,
	},
	{
		name: "info", usage: []string{"info [--community ID] [--json]"}, help: []string{"the community: about, owner, moderators, members, cap"},
		flags: communityFlag, existing: true,
	},
	{
		name: "profile", usage: []string{"profile [--community ID] [--name NAME] [--about TEXT]", "    [--picture PATH | --no-picture]"},
		help: []string{"your name, about text and picture here;", "no flag: show them"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			setString(fs, "name", &r.Name, &r.SetName)
			setString(fs, "about", &r.About, &r.SetAbout)
			fs.StringVar(&r.Picture, "picture", "", "")
			fs.BoolVar(&r.NoPicture, "no-picture", false, "")
		},
		check: func(r *peer.Request) error {
			if r.Picture != "" && r.NoPicture {
				return errors.New("profile: --picture PATH or --no-picture, not both")
			}
			if r.Picture != "" { // the running Kith reads it: from its own folder
				abs, err := filepath.Abs(r.Picture)
				if err != nil {
					return fmt.Errorf("profile: --picture %s: %v", r.Picture, err)
				}
				r.Picture = abs
			}
			return nil
		},
		existing: true,
	},
	{
		name: "community edit", usage: []string{"community edit [--community ID] [--name N] [--about T]", "    [--max-members K]"},
		help: []string{"the owner: change the community's name, about", "text or member cap (0: none)"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			setString(fs, "name", &r.Name, &r.SetName)
			setString(fs, "about", &r.About, &r.SetAbout)
			fs.Func("max-members", "", func(v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > community.MaxMembers {
					return fmt.Errorf("--max-members is 0 (no cap) up to %d, not %q", community.MaxMembers, v)
				}
				r.MaxMembers, r.SetMax = n, true
				return nil
			})
		},
		existing: true,
	},
	{
		name: "react", usage: []string{"react [--community ID] [--remove] MESSAGE_ID EMOJI"}, help: []string{"put an emoji on a message, or take it back"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.BoolVar(&r.Remove, "remove", false, "")
		},
		arg: messageArg, arg2: func(r *peer.Request) *string { return &r.Emoji },
		wrongArgs: messageArgs("react", "a message id and an emoji"), existing: true,
	},
	{
		name: "edit", usage: []string{"edit [--community ID] MESSAGE_ID TEXT"}, help: []string{"change the text of one of your messages"},
		flags: communityFlag, arg: messageArg, arg2: func(r *peer.Request) *string { return &r.Text },
		wrongArgs: messageArgs("edit", "a message id and the new text, quoted"), existing: true,
	},
	{
		name: "pin", usage: []string{"pin [--community ID] MESSAGE_ID"}, help: []string{"pin a message in its channel (owner, moderators)"},
		flags: communityFlag, arg: messageArg, wrongArgs: messageArgs("pin", "a message id"), existing: true,
	},
	{
		name: "unpin", usage: []string{"unpin [--community ID] MESSAGE_ID"}, help: []string{"unpin a message"},
		flags: communityFlag, arg: messageArg, wrongArgs: messageArgs("unpin", "a message id"), existing: true,
	},
	{
		name: "mentions", usage: []string{"mentions [--community ID] [--json]"}, help: []string{"the messages that @mention you, newest first"},
		flags: communityFlag, existing: true,
	},
	{
		name: "search", usage: []string{"search [--community ID] [--limit N] [--json] TEXT"},
		help:  []string{"the messages holding every word of TEXT, newest", "first (any script; a local index, no network)"},
		flags: func(fs *flag.FlagSet, r *peer.Request) { communityFlag(fs, r); fs.IntVar(&r.Limit, "limit", 50, "") },
		arg:   func(r *peer.Request) *string { return &r.Text },
		wrongArgs: func(*peer.Request, int) string {
			return `search takes the words as one argument: quote them ("kiln day")`
		},
		check: func(r *peer.Request) error {
			if r.Limit < 1 || r.Limit > 1000 {
				return errors.New("search: --limit is 1 to 1000")
			}
			return nil
		},
		existing: true,
	},
	{
		name: "pins", usage: []string{"pins [--community ID] [--channel NAME] [--json]"}, help: []string{"a channel's pinned messages, latest first"},
		flags: channel, existing: true,
	},
	{name: "leave", usage: []string{"leave [--community ID]"}, help: []string{"leave a community"}, flags: communityFlag, existing: true},
	{
		name: "forget", usage: []string{"forget [--community ID]"}, help: []string{"delete a community you left or were removed from"},
		flags: communityFlag, existing: true,
	},
	{
		name:  "recover",
		usage: []string{"recover [--community ID] (--cutoff SEQ | --keep-all | --list)", "", ""},
		help:  []string{"", "take ownership with the recovery words (read on", "standard input); --list: the owner key's acts"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			communityFlag(fs, r)
			fs.Uint64Var(&r.Cutoff, "cutoff", 0, "")
			fs.BoolVar(&r.KeepAll, "keep-all", false, "")
			fs.BoolVar(&r.List, "list", false, "")
		},
		check: func(r *peer.Request) error {
			if r.KeepAll && r.Cutoff != 0 {
				return errors.New("recover takes --cutoff SEQ or --keep-all, not both")
			}
			return nil
		},
		existing: true,
	},
	{
		name: "backup", usage: []string{"backup --out FILE [--json]", "", ""},
		help:  []string{"your identity, communities, invites and settings in one", "file sealed with a passphrase (asked for, or one line", "of stdin); FILE must be new"},
		flags: func(fs *flag.FlagSet, r *peer.Request) { fs.StringVar(&r.Out, "out", "", "") },
		check: func(r *peer.Request) error {
			return absOut(r, "backup: --out FILE says where to write it (a new file: keep it off this computer)")
		},
		existing: true,
	},
	{
		name: "restore", usage: []string{"restore [--replace] [--offline] [--timeout 60s] FILE", "", "", ""},
		help: []string{"bring a backup's identity back here (passphrase asked", "for, or one line of stdin), then the history from the",
			"members; --replace: move another identity aside;", "--offline: sync when Kith next runs"},
		flags: func(fs *flag.FlagSet, r *peer.Request) {
			fs.BoolVar(&r.Replace, "replace", false, "")
			fs.BoolVar(&r.Offline, "offline", false, "")
			fs.StringVar(&r.Timeout, "timeout", "60s", "")
		},
		arg: func(r *peer.Request) *string { return &r.Out },
		wrongArgs: func(*peer.Request, int) string {
			return "restore takes one file: the backup `kithd backup` or Back up… wrote"
		},
		check: func(r *peer.Request) error {
			if d, err := time.ParseDuration(r.Timeout); err != nil || d <= 0 {
				return fmt.Errorf("restore: --timeout takes a duration such as 60s or 2m, not %q", r.Timeout)
			}
			return nil
		},
	},
	{
		name:  "resync",
		usage: []string{"resync [--timeout 60s]", "", ""},
		help: []string{"rebuild a damaged store from other members, keeping", "your identity (the damaged one is kept aside);",
			"--timeout: for each member"},
		flags: func(fs *flag.FlagSet, r *peer.Request) { fs.StringVar(&r.Timeout, "timeout", "60s", "") },
		check: func(r *peer.Request) error {
			if d, err := time.ParseDuration(r.Timeout); err != nil || d <= 0 {
				return fmt.Errorf("resync: --timeout takes a duration such as 60s or 2m, not %q", r.Timeout)
			}
			return nil
		},
		existing: true,
	},
}

func communityFlag(fs *flag.FlagSet, r *peer.Request) {
	fs.StringVar(&r.Community, "community", "", "")
}

func channel(fs *flag.FlagSet, r *peer.Request) {
	communityFlag(fs, r)
	fs.StringVar(&r.Channel, "channel", "", "")
}

func member(r *peer.Request) *string { return &r.Member }

func requestArg(r *peer.Request) *string { return &r.Request }

func pollArg(r *peer.Request) *string { return &r.Poll }

// parseDate reads a date as 2026-12-01 (midnight UTC) or RFC 3339.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date: write it as 2026-12-01", s)
}

func pollArgs(cmd string) func(*peer.Request, int) string {
	return func(*peer.Request, int) string {
		return fmt.Sprintf("%s takes one poll ID (see `kithd polls`)", cmd)
	}
}

func requestArgs(cmd string) func(*peer.Request, int) string {
	return func(*peer.Request, int) string {
		return fmt.Sprintf("%s takes one request ID (see `kithd requests`)", cmd)
	}
}

func channelName(r *peer.Request) *string { return &r.Name }

func messageArg(r *peer.Request) *string { return &r.Message }

func messageArgs(cmd, what string) func(*peer.Request, int) string {
	return func(*peer.Request, int) string {
		return fmt.Sprintf("%s takes %s (ids: `kithd messages --json`)", cmd, what)
	}
}

func channelArgs(cmd, what string) func(*peer.Request, int) string {
	return func(*peer.Request, int) string {
		return fmt.Sprintf("%s takes %s (see `kithd channels`)", cmd, what)
	}
}

// groups are the words that start two-word commands (channel create, community edit).
var groups = map[string]bool{"channel": true, "community": true}

// setString declares a string flag that also records that it was given (so that --about ""
// clears the text, and a flag left out keeps it).
func setString(fs *flag.FlagSet, name string, v *string, set *bool) {
	fs.Func(name, "", func(s string) error {
		*v, *set = s, true
		return nil
	})
}

func memberArgs(cmd string) func(*peer.Request, int) string {
	return func(*peer.Request, int) string {
		return fmt.Sprintf("%s takes one member id (see `kithd members --json`)", cmd)
	}
}

// subcommands lists the second words of a group's commands.
func subcommands(group string) []string {
	var out []string
	for _, c := range commands {
		if sub, ok := strings.CutPrefix(c.name, group+" "); ok {
			out = append(out, sub)
		}
	}
	return out
}

// lookup returns the command named name.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// parseCommand reads one command's flags (anywhere among its arguments) and arguments.
func parseCommand(cmd string, args []string) (peer.Request, bool, error) {
	if groups[cmd] {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return peer.Request{Cmd: cmd}, false, fmt.Errorf("%s takes a subcommand: %s", cmd, strings.Join(subcommands(cmd), ", "))
		}
		cmd, args = cmd+" "+args[0], args[1:]
	}
	req := peer.Request{Cmd: cmd}
	c, ok := lookup(cmd)
	if !ok || cmd == "run" {
		return req, false, fmt.Errorf("unknown command %q", cmd)
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(discard{})
	asJSON := fs.Bool("json", false, "print one JSON document")
	if c.flags != nil {
		c.flags(fs, &req)
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return req, false, fmt.Errorf("%s: %w", cmd, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional, args = append(positional, args[0]), args[1:]
	}
	if c.rest != nil {
		if err := c.rest(&req, positional); err != nil {
			return req, false, err
		}
		if c.check != nil {
			if err := c.check(&req); err != nil {
				return req, false, err
			}
		}
		return req, *asJSON, nil
	}
	want := 0
	if c.arg != nil {
		want = 1
	}
	if c.arg2 != nil {
		want = 2
	}
	if len(positional) == 0 && want == 1 && ((c.noArg != nil && c.noArg(&req)) || (c.optionalArg != nil && c.optionalArg(&req))) {
		want = 0
	} else if len(positional) == 1 && c.noArg != nil && c.noArg(&req) {
		return req, false, fmt.Errorf("%s takes no argument %q with these flags", cmd, positional[0])
	}
	if len(positional) != want {
		if c.wrongArgs != nil {
			return req, false, errors.New(c.wrongArgs(&req, len(positional)))
		}
		return req, false, fmt.Errorf("%s takes no argument %q", cmd, positional[0])
	}
	if c.arg != nil && want > 0 {
		*c.arg(&req) = positional[0]
	}
	if c.arg2 != nil {
		*c.arg2(&req) = positional[1]
	}
	if c.check != nil {
		if err := c.check(&req); err != nil {
			return req, false, err
		}
	}
	return req, *asJSON, nil
}

// usageText is `kithd help`, made from the table; %s is the default data folder.
func usageText() string {
	const col = 58 // where the right column starts
	var b strings.Builder
	b.WriteString("usage: kithd [--data DIR] COMMAND [flags] [args]\n\ncommands:\n")
	for _, c := range commands {
		for i := range max(len(c.usage), len(c.help)) {
			left, right := "", ""
			if i < len(c.usage) {
				left = c.usage[i]
			}
			if i < len(c.help) {
				right = c.help[i]
			}
			line := "  " + left
			if right != "" {
				if len(line) >= col-1 {
					b.WriteString(line + "\n")
					line = ""
				}
				line += strings.Repeat(" ", col-len([]rune(line))) + right
			}
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	b.WriteString("\nDIR defaults to the desktop app's data folder (%s).\n")
	return b.String()
}

// discard is where a flag set's own messages go: kithd says parse errors itself, once.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
