package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/backup"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/storage"
	"golang.org/x/term"
)

// readPassphrase reads a backup's passphrase: from a terminal without echo (twice when
// confirm, for a new backup), else one line of in (a pipe, a file: its line end is not part
// of it; spaces are).
func readPassphrase(in io.Reader, stderr io.Writer, confirm bool) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return "", fmt.Errorf("reading the passphrase: %w", err)
			}
			return string(b), nil
		}
		prompt := "Passphrase of the backup: "
		if confirm {
			prompt = fmt.Sprintf("A passphrase for the backup (%d characters or more; without it nobody can open the file, you neither): ", backup.MinPassphrase)
		}
		p, err := ask(prompt)
		if err != nil || !confirm {
			return p, err
		}
		again, err := ask("The same passphrase again: ")
		if err != nil {
			return "", err
		}
		if again != p {
			return "", errors.New("the two passphrases differ: nothing was written; run the command again")
		}
		return p, nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the passphrase: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("the passphrase is read from the terminal, or as one line of standard input: type it, or pipe it in")
	}
	return line, nil
}

// backupCmd is `kithd backup --out FILE`: the peer (running, or opened here) seals the backup,
// and kithd writes it, as a new file only this user can read.
func backupCmd(dir string, req peer.Request, asJSON bool, stdout, stderr io.Writer) int {
	if _, err := os.Lstat(req.Out); !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "kithd: %s exists already: choose another name, or move it away first\n", terminalSafe(req.Out))
		return 1
	}
	pass, err := readPassphrase(stdin, stderr, true)
	if err != nil {
		fmt.Fprintln(stderr, "kithd:", oneLine(err))
		return 1
	}
	req.Passphrase = pass
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := do(ctx, dir, req, stderr)
	var u *peer.UsageError
	switch {
	case errors.As(err, &u):
		return usageErr(stderr, u.Msg)
	case err != nil:
		fmt.Fprintln(stderr, "kithd:", oneLine(err))
		return 1
	}
	var ans peer.BackupAnswer
	if err := json.Unmarshal(res.JSON, &ans); err != nil {
		fmt.Fprintln(stderr, "kithd: the running Kith answered something else than a backup: update it, or stop it and try again")
		return 1
	}
	if err := writePrivate(req.Out, ans.File); err != nil {
		fmt.Fprintln(stderr, "kithd:", oneLine(err))
		return 1
	}
	if asJSON {
		j, _ := json.Marshal(struct {
			File        string                `json:"file"`
			Bytes       int                   `json:"bytes"`
			PeerID      string                `json:"peer_id"`
			Made        time.Time             `json:"made"`
			Communities []peer.NamedCommunity `json:"communities"`
		}{req.Out, len(ans.File), ans.PeerID, ans.Made, ans.Communities})
		fmt.Fprintln(stdout, string(j))
		return 0
	}
	var names []string
	for _, c := range ans.Communities {
		names = append(names, c.Name)
	}
	what := "no community yet"
	if len(names) > 0 {
		what = fmt.Sprintf("%d %s (%s)", len(names), pluralWord(len(names), "community", "communities"), strings.Join(names, ", "))
	}
	fmt.Fprintln(stdout, terminalSafe(fmt.Sprintf("wrote %s: the identity %s and %s, sealed with your passphrase.\n"+
		"Keep it off this computer (a USB stick, a password manager); `kithd restore %s` brings it back on another.", req.Out, ans.PeerID, what, req.Out)))
	return 0
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writePrivate writes a new file that only this user can read, synced; it never replaces a
// file, and leaves nothing behind when it fails.
func writePrivate(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists already: choose another name, or move it away first", path)
	}
	if err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	_, werr := f.Write(b)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w (nothing was kept: free some space, or choose another place)", path, err)
	}
	return nil
}

// restoreCmd is `kithd restore FILE`: kithd itself, on a folder no Kith runs on (it would
// replace what that Kith holds).
func restoreCmd(dir string, req peer.Request, asJSON bool, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "kithd:", oneLine(err))
		return 1
	}
	f, err := os.Open(req.Out)
	if err != nil {
		return fail(fmt.Errorf("cannot read the backup: %w", err))
	}
	file, err := io.ReadAll(io.LimitReader(f, backup.MaxSize+1))
	f.Close()
	if err != nil {
		return fail(fmt.Errorf("cannot read the backup: %w", err))
	}
	if err := backup.Check(file); err != nil {
		return fail(err) // said before asking for a passphrase that cannot help
	}
	pass, err := readPassphrase(stdin, stderr, false)
	if err != nil {
		return fail(err)
	}
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	opts := peer.Options{Logger: quiet, NoControl: true, NoMDNS: true, NoNAT: true}
	per, _ := time.ParseDuration(req.Timeout)
	progress := func(line string) { fmt.Fprintln(stderr, "kithd:", terminalSafe(line)) }
	res, err := peer.Restore(ctx, dir, b, opts, peer.RestoreOptions{Replace: req.Replace, Offline: req.Offline, PerMember: per, Progress: progress})
	if errors.Is(err, storage.ErrAlreadyRunning) {
		return fail(errors.New("Kith is running with this data folder: stop it first (a restore would take its place), then run `kithd restore` again"))
	}
	if err != nil {
		return fail(err)
	}
	held := b.Holds()
	type restored struct {
		ID     string   `json:"id"`
		Name   string   `json:"name"`
		From   []string `json:"from"`
		Events int      `json:"events"`
		Error  string   `json:"error,omitempty"`
	}
	out := struct {
		PeerID      string     `json:"peer_id"`
		MovedAside  string     `json:"moved_aside,omitempty"`
		Synced      bool       `json:"synced"`
		Communities []restored `json:"communities"`
	}{PeerID: held.PeerID, MovedAside: res.MovedAside, Synced: res.Synced, Communities: []restored{}}
	var missed []string
	lines := []string{"restored the identity " + held.PeerID}
	if res.MovedAside != "" {
		lines = append(lines, "what this folder held is kept in "+res.MovedAside)
	}
	if res.Synced {
		for _, c := range res.Resync.Communities {
			j := restored{ID: c.ID.String(), Name: c.Name, From: c.From, Events: c.Events}
			if j.From == nil {
				j.From = []string{}
			}
			if c.Err != nil {
				j.Error = app.Sentence(c.Err)
				missed = append(missed, fmt.Sprintf("%q", c.Name))
			}
			out.Communities = append(out.Communities, j)
		}
		summary, _ := res.Resync.Summary()
		if summary != "" {
			lines = append(lines, summary)
		}
	} else {
		for _, c := range held.Communities {
			out.Communities = append(out.Communities, restored{ID: c.ID, Name: c.Name, From: []string{}})
		}
		if len(held.Communities) > 0 {
			lines = append(lines, fmt.Sprintf("%d %s come back from their members when Kith runs here (`kithd run`, or the desktop app)",
				len(held.Communities), pluralWord(len(held.Communities), "community", "communities")))
		}
	}
	if len(missed) > 0 {
		fmt.Fprintln(stderr, "kithd: warning:", terminalSafe(fmt.Sprintf("no member of %s could be reached: it comes back when Kith runs here (`kithd run`, or the desktop app) and a member is online", strings.Join(missed, ", "))))
	}
	if asJSON {
		j, _ := json.Marshal(out)
		fmt.Fprintln(stdout, string(j))
		return 0
	}
	fmt.Fprintln(stdout, terminalSafe(strings.Join(lines, "\n")))
	return 0
}
