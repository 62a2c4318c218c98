// Command kithd is Kith's headless peer and command-line client: `kithd run` keeps an install
// online (for an always-on host); the other commands act on a data folder, through the running
// peer's control socket when one runs there, else on the store directly. No Fyne: it builds
// with CGO_ENABLED=0.
//
//	kithd [--data DIR] create --name NAME [--about TEXT] [--max-members N] [--display-name NAME]
//	kithd [--data DIR] invite [--community ID] [--role member|moderator] [--uses N] [--expires DURATION]
//	kithd [--data DIR] invites [--community ID] [--json]
//	kithd [--data DIR] revoke [--community ID] INVITE_ID
//	kithd [--data DIR] join [--name DISPLAY_NAME] [--timeout 60s] [--bootstrap MULTIADDR]... [--public-dht] [--no-mdns] INVITE
//	kithd [--data DIR] join --cancel (COMMUNITY | INVITE)
//	kithd [--data DIR] run [--listen MULTIADDR]... [--relay] [--bootstrap MULTIADDR]... [--public-dht] [--dht-server]
//	                       [--no-mdns] [--no-nat] [--log-format text|json]
//	kithd [--data DIR] post [--community ID] [--channel NAME] TEXT
//	kithd [--data DIR] messages [--community ID] [--channel NAME] [--limit N] [--json]
//	kithd [--data DIR] members [--community ID] [--json]
//	kithd [--data DIR] status [--json]
//	kithd [--data DIR] remove [--community ID] [--reason TEXT] [--revoke-invite] MEMBER
//	kithd [--data DIR] promote|demote [--community ID] MEMBER
//	kithd [--data DIR] delete [--community ID] MESSAGE_ID
//	kithd [--data DIR] leave [--community ID]
//	kithd [--data DIR] recover [--community ID] (--cutoff SEQ | --keep-all | --list) < words
//	kithd [--data DIR] resync [--timeout 60s]
//	kithd [--data DIR] backup --out FILE
//	kithd [--data DIR] restore [--replace] [--offline] [--timeout 60s] FILE
//	kithd version [--json]
//
// Exit status: 0 on success, 1 on an error (one line on stderr says what to do), 2 on a usage
// error.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
	"golang.org/x/term"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its exit status returned.
func run(args []string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("kithd", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	dir := global.String("data", peer.DefaultDir(), "data folder")
	if err := global.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, usageText(), peer.DefaultDir())
		return 0
	} else if err != nil {
		return usageErr(stderr, err.Error())
	}
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprintf(stderr, usageText(), peer.DefaultDir())
		return 2
	}
	cmd, rest := rest[0], rest[1:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprintf(stdout, usageText(), peer.DefaultDir())
		return 0
	}
	if cmd == "run" {
		return runPeer(*dir, rest, stderr)
	}
	req, asJSON, err := parseCommand(cmd, rest)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, usageText(), peer.DefaultDir())
		return 0
	}
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	if req.Cmd == "verify-badge" { // offline: no data folder, no network
		return verifyBadge(req.Out, req.Community, asJSON, stdout, stderr)
	}
	if req.Cmd == "version" { // nor this
		b := app.ThisBuild()
		if asJSON {
			j, _ := json.Marshal(b)
			fmt.Fprintln(stdout, string(j))
		} else {
			fmt.Fprintln(stdout, "kithd", b)
		}
		return 0
	}
	switch req.Cmd {
	case "backup":
		return backupCmd(*dir, req, asJSON, stdout, stderr)
	case "restore":
		return restoreCmd(*dir, req, asJSON, stdout, stderr)
	}
	if req.Cmd == "recover" && !req.List {
		if req.Words, err = readWords(stdin, stderr); err != nil {
			fmt.Fprintln(stderr, "kithd:", oneLine(err))
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := do(ctx, *dir, req, stderr)
	if res.Warning != "" {
		fmt.Fprintln(stderr, "kithd: warning:", terminalSafe(res.Warning))
	}
	var u *peer.UsageError
	switch {
	case errors.As(err, &u):
		return usageErr(stderr, u.Msg)
	case req.Cmd == "join" && !req.Cancel && errors.Is(err, context.Canceled):
		// Interrupted while a running Kith waited for a member: the join goes on there.
		fmt.Fprintln(stderr, "kithd: stopped waiting; the join is kept, and Kith tries again while it runs until the invite expires: `kithd status` shows it, `kithd join --cancel COMMUNITY` drops it")
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "kithd:", oneLine(err))
		return 1
	}
	if req.Cmd == "badge-card" && req.Out != "" {
		if err := writeNew(req.Out, res.Text); err != nil {
			fmt.Fprintln(stderr, "kithd:", oneLine(err))
			return 1
		}
		res.Text = "wrote " + req.Out + ": anyone can check it with `kithd verify-badge " + req.Out + "`"
	}
	out := terminalSafe(res.Text)
	if asJSON {
		out = string(res.JSON) // JSON escapes control characters itself
	}
	if out != "" {
		fmt.Fprintln(stdout, out)
	}
	return 0
}

// stdin is where recover reads the recovery words (never from the command line, which other
// users of the machine and the shell's history can see).
var stdin io.Reader = os.Stdin

// readWords reads the recovery words: one line of standard input.
func readWords(in io.Reader, stderr io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) { // not /dev/null, a pipe or a file
		fmt.Fprintln(stderr, "Type the recovery words you wrote down when the community was created, then Enter:")
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the recovery words: %w", err)
	}
	if strings.TrimSpace(line) == "" {
		return "", errors.New("recover reads the recovery words on standard input: type them, or pipe them in")
	}
	return line, nil
}

func usageErr(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "kithd: %s (see `kithd help`)\n", terminalSafe(oneLine(errors.New(msg))))
	return 2
}

// oneLine keeps an error to one line, with nothing a terminal would act on (names and text in
// errors come from other members).
func oneLine(err error) string { return terminalSafe(app.Sentence(err)) }

// terminalSafe is text for a terminal: escape sequences, other control characters and
// direction overrides from members' names and text are shown as \u{…}; lines and tabs stay.
// Every text kithd prints goes through it (JSON escapes on its own).
func terminalSafe(s string) string { return community.Printable(s, true) }

// do runs a command through the running peer's control socket or, when none runs, on the data
// folder itself. A join says what it is doing on stderr while it waits.
func do(ctx context.Context, dir string, req peer.Request, stderr io.Writer) (peer.Result, error) {
	var progress func(string)
	if req.Cmd == "join" && !req.Cancel {
		progress = func(line string) { fmt.Fprintln(stderr, "kithd:", terminalSafe(line)) }
	}
	res, err := peer.CallWithProgress(ctx, dir, req, progress)
	if !errors.Is(err, peer.ErrNoControl) {
		return res, err
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	opts := peer.Options{Logger: quiet, NoControl: true, NoMDNS: true, NoNAT: true}
	if c, ok := lookup(req.Cmd); ok && c.existing {
		// A command on a folder that holds Kith already: a mistyped --data makes nothing new.
		opts.NoCreate = true
	}
	if req.Cmd == "resync" {
		return resync(ctx, dir, req, opts, stderr)
	}
	if req.Cmd == "join" && !req.Cancel {
		// This process is the one online while the join waits: it looks for members on the LAN
		// (unless --no-mdns) and through the DHT nodes given.
		opts.NoMDNS, opts.Bootstrap, opts.PublicDHT = req.NoMDNS, req.Bootstrap, req.PublicDHT
	}
	p, err := peer.Open(dir, opts)
	if errors.Is(err, storage.ErrAlreadyRunning) {
		// Starting or stopping: its socket may be about to appear.
		for range 25 {
			time.Sleep(200 * time.Millisecond)
			if res, err := peer.CallWithProgress(ctx, dir, req, progress); !errors.Is(err, peer.ErrNoControl) {
				return res, err
			}
		}
		return peer.Result{}, errors.New("Kith is already running with this data folder but does not answer: wait for it to start, or stop it")
	}
	if err != nil {
		return peer.Result{}, err
	}
	defer p.Close()
	if req.Cmd == "join" && !req.Cancel {
		if err := p.Start(ctx); err != nil {
			if ctx.Err() != nil {
				return peer.Result{}, errors.New("interrupted before the join started: nothing is kept")
			}
			return peer.Result{}, err
		}
	}
	return p.DoWithProgress(ctx, req, progress)
}

// resync is `kithd resync`: no Kith runs on the folder (else the running one answered).
func resync(ctx context.Context, dir string, req peer.Request, opts peer.Options, stderr io.Writer) (peer.Result, error) {
	per, _ := time.ParseDuration(req.Timeout)
	res, err := peer.Resync(ctx, dir, opts, per, func(line string) { fmt.Fprintln(stderr, "kithd:", terminalSafe(line)) })
	if errors.Is(err, storage.ErrAlreadyRunning) {
		return peer.Result{}, errors.New("Kith is running with this data folder: stop it first (its store opens, and it syncs with the members itself)")
	}
	if err != nil {
		return peer.Result{}, err
	}
	type resynced struct {
		ID     string   `json:"id"`
		Name   string   `json:"name"`
		From   []string `json:"from"`
		Events int      `json:"events"`
		Error  string   `json:"error,omitempty"`
	}
	out := struct {
		SetAside    string     `json:"set_aside,omitempty"`
		Communities []resynced `json:"communities"`
	}{SetAside: res.SetAside, Communities: []resynced{}}
	for _, c := range res.Communities {
		j := resynced{ID: c.ID.String(), Name: c.Name, From: c.From, Events: c.Events}
		if j.From == nil {
			j.From = []string{}
		}
		if c.Err != nil {
			j.Error = app.Sentence(c.Err)
		}
		out.Communities = append(out.Communities, j)
	}
	b, _ := json.Marshal(out)
	text, err := res.Summary()
	return peer.Result{Text: text, JSON: b}, err
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runPeer is `kithd run`: the peer stays online until SIGINT or SIGTERM.
func runPeer(dir string, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var listen listFlag
	fs.Var(&listen, "listen", "")
	relay := fs.Bool("relay", false, "")
	format := fs.String("log-format", "text", "")
	level := fs.String("log-level", "info", "")
	noMDNS := fs.Bool("no-mdns", false, "")
	noNAT := fs.Bool("no-nat", false, "")
	syncEvery := fs.Duration("sync-every", time.Minute, "")
	var bootstrap listFlag
	fs.Var(&bootstrap, "bootstrap", "")
	publicDHT := fs.Bool("public-dht", false, "")
	dhtServer := fs.Bool("dht-server", false, "")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, usageText(), peer.DefaultDir())
		return 0
	} else if err != nil {
		return usageErr(stderr, "run: "+err.Error())
	}
	if fs.NArg() > 0 {
		return usageErr(stderr, fmt.Sprintf("run takes no argument %q", fs.Arg(0)))
	}
	if err := p2p.CheckListen(listen); err != nil {
		return usageErr(stderr, "run: "+err.Error())
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageErr(stderr, "--log-level is debug, info, warn or error")
	}
	var h slog.Handler
	switch *format {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl})
	default:
		return usageErr(stderr, "--log-format is text or json")
	}
	log := slog.New(h)
	opts := peer.Options{Logger: log, Listen: listen, Relay: *relay, NoMDNS: *noMDNS, NoNAT: *noNAT, SyncEvery: *syncEvery,
		Bootstrap: bootstrap, PublicDHT: *publicDHT, DHTServer: *dhtServer}
	p, err := peer.Open(dir, opts)
	// A one-off command may hold the folder for a moment; a running peer answers on its socket.
	for i := 0; i < 25 && errors.Is(err, storage.ErrAlreadyRunning); i++ {
		if _, cerr := peer.Call(context.Background(), dir, peer.Request{Cmd: "status"}); !errors.Is(cerr, peer.ErrNoControl) {
			break
		}
		time.Sleep(200 * time.Millisecond)
		p, err = peer.Open(dir, opts)
	}
	if errors.Is(err, storage.ErrAlreadyRunning) {
		fmt.Fprintln(stderr, "kithd: Kith is already running with this data folder: stop it first, or pass another --data")
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "kithd:", oneLine(err))
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = p.Start(startCtx)
	cancel()
	if err != nil {
		p.Close()
		fmt.Fprintln(stderr, "kithd:", oneLine(err))
		return 1
	}
	addrs, _ := p.Addrs()
	log.Info("kithd is online", "data", dir, "addrs", addrs, "relay", *relay, "dht", len(bootstrap) > 0 || *publicDHT || *dhtServer)
	<-ctx.Done()
	log.Info("kithd is stopping")
	if err := p.Close(); err != nil {
		log.Error("stopping", "err", err)
		return 1
	}
	return 0
}

// writeNew writes a new file, and refuses to replace one that exists.
func writeNew(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists already: choose another name, or move it away first", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// verifyBadge checks a badge card offline: a file (or - for standard input) holding the card's
// page or its text, of the community communityID names when it is not "". Exit 0: it checks
// out; 1: it does not, or the file cannot be read.
func verifyBadge(path, communityID string, asJSON bool, stdout, stderr io.Writer) int {
	var in io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(stderr, "kithd: cannot read the card:", oneLine(err))
			return 1
		}
		defer f.Close()
		in = f
	}
	b, err := io.ReadAll(io.LimitReader(in, 4<<20))
	if err != nil {
		fmt.Fprintln(stderr, "kithd: cannot read the card:", oneLine(err))
		return 1
	}
	badge, err := app.CheckCardOf(string(b), communityID)
	if err != nil {
		fmt.Fprintln(stderr, "kithd: not valid:", oneLine(err))
		return 1
	}
	if !asJSON {
		fmt.Fprintln(stdout, terminalSafe(app.BadgeSentence(badge)))
		return 0
	}
	j, _ := json.Marshal(map[string]any{"valid": true, "community": badge.Community.String(), "community_name": badge.CommunityName,
		"member_id": fmt.Sprintf("%x", badge.Member), "member_name": badge.MemberName, "title": badge.Title, "note": badge.Note,
		"issued": badge.IssuedAt().UTC().Format(time.RFC3339), "owner": fmt.Sprintf("%x", badge.Owner)})
	fmt.Fprintln(stdout, string(j))
	return 0
}
