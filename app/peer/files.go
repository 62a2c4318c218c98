package peer

// kithd's files: post --file, fetch.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// localFiles are the files at paths, to send (each opened when read; a folder or a missing file
// is a sentence).
func localFiles(paths []string) ([]app.File, error) {
	var out []app.File
	for _, p := range paths {
		f, err := app.LocalFile(p)
		if err != nil {
			return nil, asUsage(err)
		}
		out = append(out, f)
	}
	return out, nil
}

// doFetch saves a file to req.Out: written to a temporary file beside it, checked chunk by chunk,
// and renamed only when whole (nothing half-written takes the name); an existing file is kept.
func (p *Peer) doFetch(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	msg, blob, err := p.Svc.FindFile(id, req.Blob)
	if err != nil {
		return Result{}, asUsage(err)
	}
	if _, err := os.Lstat(req.Out); err == nil {
		return Result{}, fmt.Errorf("%s exists already: choose another name, or move it away first", req.Out)
	}
	tmp, err := os.CreateTemp(filepath.Dir(req.Out), ".kith-fetch-*")
	if err != nil {
		return Result{}, fmt.Errorf("cannot write beside %s: %w", req.Out, err)
	}
	defer os.Remove(tmp.Name())
	if err := p.FetchFile(ctx, id, msg, blob); err != nil {
		tmp.Close()
		return Result{}, err
	}
	err = p.Svc.SaveFile(id, msg, blob, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{}, fmt.Errorf("saving the file: %w", err)
	}
	if err := os.Link(tmp.Name(), req.Out); err != nil { // never over a file that appeared meanwhile
		if _, serr := os.Lstat(req.Out); serr == nil {
			return Result{}, fmt.Errorf("%s exists already: choose another name, or move it away first", req.Out)
		}
		if err := os.Rename(tmp.Name(), req.Out); err != nil { // a file system with no links
			return Result{}, fmt.Errorf("saving the file as %s: %w", req.Out, err)
		}
	}
	return jsonResult("saved "+req.Out, map[string]any{"blob_id": blob.String(), "message": msg.String(), "out": req.Out})
}

// FetchFile fetches what this device lacks of a message's file from the members online, all at
// once (see app.Service.FetchFile); nothing to do when it holds it all.
func (p *Peer) FetchFile(ctx context.Context, id, message, blob community.Hash) error {
	var peers []string
	if node := p.Node(); node != nil {
		for _, pi := range node.Peers() {
			if member, _ := p.Svc.IsMember(id, pi.Key); member {
				peers = append(peers, pi.ID)
			}
		}
	}
	err := p.Svc.FetchFile(ctx, id, message, blob, peers)
	if errors.Is(err, app.ErrNobodyHasIt) {
		if len(peers) == 0 {
			return errors.New("no member holding that file is reachable: it comes once one is online (keep Kith running)")
		}
		return fmt.Errorf("none of the %d members online holds all of that file: it comes once one that does is online", len(peers))
	}
	return err
}

// keepName is a community's file keeping as kithd's flags and JSON say it.
func keepName(all bool) string {
	if all {
		return "all"
	}
	return "opened"
}

// keepWords says it for a person.
func keepWords(all bool) string {
	if all {
		return "every file (each member's Kith fetches them all, within its budget)"
	}
	return "the files they open"
}

// doFiles says what this device keeps of a community's files, and sets its budget (files
// --budget MIB).
func (p *Peer) doFiles(req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Budget != nil {
		if err := p.Svc.SetFilesBudget(id, *req.Budget); err != nil {
			return Result{}, asUsage(err)
		}
	}
	k, err := p.Svc.Keeping(id)
	if err != nil {
		return Result{}, err
	}
	missing, err := p.Svc.MissingFiles(id)
	if err != nil {
		return Result{}, err
	}
	var missingBytes int64
	for _, f := range missing {
		missingBytes += f.Size
	}
	text := fmt.Sprintf("files on this device: %s of a budget of %s\nmembers keep: %s\nthe largest file: %d MiB\nnot on this device: %d file(s), %s",
		app.SizeWords(k.Used), app.SizeWords(int64(k.BudgetMiB)<<20), keepWords(k.KeepAll), k.MaxFileMiB, len(missing), app.SizeWords(missingBytes))
	return jsonResult(text, map[string]any{"used_bytes": k.Used, "budget_mib": k.BudgetMiB, "keep_files": keepName(k.KeepAll),
		"max_file_mib": k.MaxFileMiB, "missing_files": len(missing), "missing_bytes": missingBytes})
}
