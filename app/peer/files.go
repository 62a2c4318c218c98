package peer

// kithd's files: post --file, fetch.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kith-app/kith/app"
)

// localFiles are the files at paths, to send (each opened when read; a folder or a missing file
// is a sentence).
func localFiles(paths []string) ([]app.File, error) {
	var out []app.File
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot send %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, usage("%s is not a file: send the files in it one by one", p)
		}
		out = append(out, app.File{Name: filepath.Base(p), Size: fi.Size(), Open: func() (io.ReadCloser, error) { return os.Open(p) }})
	}
	return out, nil
}

// humanSize is a size as people read it.
func humanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// doFetch saves a file to req.Out: written to a temporary file beside it, checked chunk by chunk,
// and renamed only when whole (nothing half-written takes the name); an existing file is kept.
func (p *Peer) doFetch(req Request) (Result, error) {
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
	err = p.Svc.SaveFile(id, msg, blob, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, app.ErrNotHere) {
		return Result{}, errors.New("this device does not hold all of that file, and this version of Kith cannot fetch it from other members yet: the sender's device has it")
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
