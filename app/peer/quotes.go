package peer

// kithd's testimonial commands: quote-ok, testimonials.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

func (p *Peer) doQuotes(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Cmd == "quote-ok" {
		msg, err := community.ParseHash(strings.TrimSpace(req.Message))
		if err != nil {
			return Result{}, usage("quote-ok takes a message id (see `kithd messages --json`), not %q", req.Message)
		}
		if err := p.Svc.QuoteOK(ctx, id, msg, req.WithName, req.Revoke); err != nil {
			return Result{}, asUsage(err)
		}
		text := "OK to quote: the owner may export it as a testimonial"
		switch {
		case req.Revoke:
			text = "no longer OK to quote"
		case req.WithName:
			text += ", with your name"
		default:
			text += ", without your name"
		}
		return jsonResult(text, map[string]any{"message": msg.String(), "quote_ok": !req.Revoke, "with_name": req.WithName && !req.Revoke})
	}
	ts, err := p.Svc.Testimonials(id)
	if err != nil {
		return Result{}, err
	}
	info, err := p.Svc.Info(id)
	if err != nil {
		return Result{}, err
	}
	out, err := app.ExportTestimonials(info.Name, ts, req.Format)
	if err != nil {
		return Result{}, asUsage(err)
	}
	return Result{Text: out}, nil
}

// doExport writes a community's history into req.Out (absolute: the client resolved it).
func (p *Peer) doExport(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if !filepath.IsAbs(req.Out) {
		return Result{}, usage("export: --out takes a folder's full path, not %q", req.Out)
	}
	sum, err := p.Svc.Export(ctx, id, req.Format, req.Out)
	if err != nil {
		return Result{}, err // a folder not empty is not a mistyped command: exit 1
	}
	open := "index.html"
	if req.Format == "json" {
		open = "export.json"
	}
	text := fmt.Sprintf("wrote %s: %d messages in %d channels, %d files (%d not on this device); open %s",
		sum.Dir, sum.Messages, sum.Channels, sum.Files, sum.FilesMissing, filepath.Join(sum.Dir, open))
	return jsonResult(text, sum)
}
