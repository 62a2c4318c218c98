package app

// A readable copy of a community: its channels and messages, with the names they were shown with
// and the files this device holds, as a folder that opens in any browser with no network (html)
// or that programs read (json).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kith-app/kith/app/community"
)

// ExportSummary says what Export wrote.
type ExportSummary struct {
	Dir          string `json:"dir"`
	Channels     int    `json:"channels"`
	Messages     int    `json:"messages"`
	Files        int    `json:"files"`         // files written beside the messages
	FilesMissing int    `json:"files_missing"` // files this device does not hold (named, not written)
}

// exportPage is how many messages Export reads at a time.
const exportPage = 500

// The export's document (export.json; index.html shows the same).
type (
	exportDoc struct {
		Format    string          `json:"format"` // "kith export v1"
		Community exportCommunity `json:"community"`
		Exported  string          `json:"exported"` // when, RFC 3339
		Channels  []exportChannel `json:"channels"`
	}
	exportCommunity struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		About string `json:"about,omitempty"`
	}
	exportChannel struct {
		ID       string          `json:"id"`
		Name     string          `json:"name"`
		Archived bool            `json:"archived,omitempty"`
		Messages []exportMessage `json:"messages"`
	}
	exportMessage struct {
		ID          string             `json:"id"`
		Author      string             `json:"author"` // the member's key, hex
		Name        string             `json:"name"`
		Time        string             `json:"time"` // the author's clock, RFC 3339
		Text        string             `json:"text"`
		Kind        string             `json:"kind,omitempty"` // "poll", "feedback", "offer"; "" for a post
		ReplyTo     string             `json:"reply_to,omitempty"`
		Edited      bool               `json:"edited,omitempty"`
		Pinned      bool               `json:"pinned,omitempty"`
		Reactions   []exportReaction   `json:"reactions,omitempty"`
		Attachments []exportAttachment `json:"attachments,omitempty"`
	}
	exportReaction struct {
		Emoji string `json:"emoji"`
		Count int    `json:"count"`
	}
	exportAttachment struct {
		Name   string `json:"name"`
		Size   int64  `json:"size"`
		Mime   string `json:"mime"`
		BlobID string `json:"blob_id"`
		File   string `json:"file,omitempty"` // its path in the export; "" when this device does not hold it

		message, blob community.Hash
	}
)

// Export writes community id's history as this device reads it into dir, which must not exist
// or be an empty folder (nothing is written over; a link is refused): format "html" writes
// index.html, format "json" export.json, and both the files this device holds under
// files/<blob ID>/. It is written in a folder of its own and put in place when whole, so a
// failure leaves no half export.
func (s *Service) Export(ctx context.Context, id community.Hash, format, dir string) (ExportSummary, error) {
	if format != "html" && format != "json" {
		return ExportSummary{}, &sentenceError{msg: fmt.Sprintf("the export's format is html or json, not %q", format), kind: ErrBadInput}
	}
	dir = filepath.Clean(dir)
	notEmpty := &sentenceError{msg: fmt.Sprintf("%s is not empty: export into a new or empty folder (nothing was written)", dir), kind: ErrBadInput}
	exists := false
	switch st, err := os.Lstat(dir); {
	case err == nil && st.Mode()&fs.ModeSymlink != 0:
		return ExportSummary{}, &sentenceError{msg: fmt.Sprintf("%s is a link: give the folder it points to (nothing was written)", dir), kind: ErrBadInput}
	case err == nil && !st.IsDir():
		return ExportSummary{}, notEmpty
	case err == nil:
		if entries, err := os.ReadDir(dir); err != nil {
			return ExportSummary{}, fmt.Errorf("app: export into %s: %w", dir, err)
		} else if len(entries) > 0 {
			return ExportSummary{}, notEmpty
		}
		exists = true
	case !errors.Is(err, fs.ErrNotExist):
		return ExportSummary{}, fmt.Errorf("app: export into %s: %w", dir, err)
	}
	doc, err := s.exportDoc(ctx, id)
	if err != nil {
		return ExportSummary{}, err
	}
	// Written in a folder of its own, then put in place: inside dir when it exists (an empty
	// folder, perhaps a drive's root), else beside it.
	parent := filepath.Dir(dir)
	if exists {
		parent = dir
	} else if err := os.MkdirAll(parent, 0o700); err != nil {
		return ExportSummary{}, fmt.Errorf("app: export into %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, ".kith-export-part-")
	if err != nil {
		return ExportSummary{}, fmt.Errorf("app: export into %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone once in place; else what was written
	sum := ExportSummary{Dir: dir, Channels: len(doc.Channels)}
	if err := s.exportFiles(ctx, id, doc, tmp, &sum); err != nil {
		return ExportSummary{}, err
	}
	var name string
	var body []byte
	if format == "json" {
		name = "export.json"
		body, _ = json.MarshalIndent(doc, "", "  ")
		body = append(body, '\n')
	} else {
		name, body = "index.html", []byte(exportHTML(doc))
	}
	if err := os.WriteFile(filepath.Join(tmp, name), body, 0o600); err != nil {
		return ExportSummary{}, fmt.Errorf("app: export into %s: %w", dir, err)
	}
	if err := putInPlace(tmp, dir, exists); err != nil {
		return ExportSummary{}, fmt.Errorf("app: export into %s: %w", dir, err)
	}
	for _, ch := range doc.Channels {
		sum.Messages += len(ch.Messages)
	}
	return sum, nil
}

// putInPlace moves the export written in tmp to dir: its entries up into dir when dir existed
// (tmp is inside it), else tmp itself, renamed.
func putInPlace(tmp, dir string, exists bool) error {
	if !exists {
		return os.Rename(tmp, dir)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// exportDoc reads the community's channels and their messages, oldest first.
func (s *Service) exportDoc(ctx context.Context, id community.Hash) (*exportDoc, error) {
	cs, err := s.Communities()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(cs, func(c Summary) bool { return c.ID == id })
	if i < 0 {
		return nil, &sentenceError{msg: "this install is not in that community", kind: ErrBadInput}
	}
	doc := &exportDoc{Format: "kith export v1", Exported: s.now().UTC().Format(time.RFC3339),
		Community: exportCommunity{ID: fmt.Sprintf("%x", id[:]), Name: cs[i].Name, About: cs[i].About}}
	chans, err := s.Channels(id)
	if err != nil {
		return nil, err
	}
	for _, ch := range chans {
		ec := exportChannel{ID: fmt.Sprintf("%x", ch.ID[:]), Name: ch.Name, Archived: ch.Archived, Messages: []exportMessage{}}
		var msgs []Message
		for before := (community.Position{}); ; {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			// The channel's events a page at a time (edits and reactions among them), and the
			// messages of that page as views show them.
			evs, err := s.store.Page(id, ch.ID, before, exportPage)
			if err != nil {
				return nil, err
			}
			if len(evs) == 0 {
				break
			}
			page, err := s.Messages(id, ch.ID, before, exportPage)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, page...)
			// On from the last message read (an event that arrived between the two reads shifts the
			// messages' page: none is skipped, none read twice), or past a page of none.
			if len(page) > 0 {
				before = page[len(page)-1].At
			} else {
				before = evs[len(evs)-1].Position()
			}
		}
		slices.Reverse(msgs)
		for _, m := range msgs {
			ec.Messages = append(ec.Messages, exportMessageOf(m))
		}
		doc.Channels = append(doc.Channels, ec)
	}
	return doc, nil
}

func exportMessageOf(m Message) exportMessage {
	em := exportMessage{ID: fmt.Sprintf("%x", m.ID[:]), Author: fmt.Sprintf("%x", m.Author), Name: m.Name,
		Time: m.Time.UTC().Format(time.RFC3339), Text: m.Text, Edited: m.Edited, Pinned: m.Pinned}
	switch {
	case m.Poll != nil:
		em.Kind = "poll"
		for i, o := range m.Poll.Options {
			em.Text += fmt.Sprintf("\n%d. %s", i+1, o)
		}
	case m.Feedback != nil:
		em.Kind = "feedback"
	case m.Offer != nil:
		em.Kind = "offer"
	}
	if !m.ReplyTo.IsZero() {
		em.ReplyTo = fmt.Sprintf("%x", m.ReplyTo[:])
	}
	for _, r := range m.Reactions {
		em.Reactions = append(em.Reactions, exportReaction{Emoji: r.Emoji, Count: r.Count})
	}
	for _, a := range m.Attachments {
		ea := exportAttachment{Name: a.Name, Size: a.Size, Mime: a.Mime, BlobID: fmt.Sprintf("%x", a.Blob[:]), message: m.ID, blob: a.Blob}
		if a.Have {
			ea.File = "files/" + ea.BlobID + "/" + exportName(a.Name, a.Mime)
		}
		em.Attachments = append(em.Attachments, ea)
	}
	return em
}

// exportFiles writes the files this device holds into dir/files, each checked chunk by chunk
// as SaveFile does; one that turns out not whole is named, not written.
func (s *Service) exportFiles(ctx context.Context, id community.Hash, doc *exportDoc, dir string, sum *ExportSummary) error {
	written := map[community.Hash]bool{} // a file two messages carry is written once
	for c := range doc.Channels {
		for m := range doc.Channels[c].Messages {
			msg := &doc.Channels[c].Messages[m]
			for a := range msg.Attachments {
				at := &msg.Attachments[a]
				if at.File == "" {
					sum.FilesMissing++
					continue
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if written[at.blob] {
					continue
				}
				if err := s.exportFile(id, at.message, at.blob, filepath.Join(dir, filepath.FromSlash(at.File))); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					// Dropped since the listing, damaged here, or a name this system refuses: the
					// file is named, not written, and the rest goes on.
					s.log.Warn("a file was left out of the export", "file", at.Name, "err", err)
					at.File = ""
					sum.FilesMissing++
					continue
				}
				written[at.blob] = true
				sum.Files++
			}
		}
	}
	return nil
}

func (s *Service) exportFile(id, message, blob community.Hash, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("app: export a file: %w", err)
	}
	err = s.SaveFile(id, message, blob, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// exportHTML is the export as one page: plain HTML and CSS, everything written by members
// escaped, no script, and a policy that keeps a browser from fetching anything but the export's
// own files.
func exportHTML(doc *exportDoc) string {
	var b strings.Builder
	e := html.EscapeString
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s — Kith export</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 860px; margin: 0 auto; padding: 1em; color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 1em; }
nav a { margin-right: 1em; }
article { padding: .5em 0; border-bottom: 1px solid #f0f0f0; }
.who { font-weight: 600; } .when, .note { color: #777; font-size: 90%%; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
img { max-width: 100%%; max-height: 480px; width: auto; height: auto; display: block; margin: .3em 0; }
.reply { color: #555; font-size: 90%%; }
</style>
</head>
<body>
<header>
<h1>%s</h1>
`, e(doc.Community.Name), e(doc.Community.Name))
	if doc.Community.About != "" {
		w("<p>%s</p>\n", e(doc.Community.About))
	}
	w("<p class=\"note\">Exported from Kith on %s. Names as this member's Kith showed them; times by each author's clock, in UTC.</p>\n<nav>", e(readableTime(doc.Exported)))
	for _, ch := range doc.Channels {
		w("<a href=\"#c-%s\">#%s</a>", ch.ID, e(ch.Name))
	}
	w("</nav>\n</header>\n")
	for _, ch := range doc.Channels {
		archived := ""
		if ch.Archived {
			archived = " <span class=\"note\">(archived)</span>"
		}
		w("<section id=\"c-%s\">\n<h2>#%s%s</h2>\n", ch.ID, e(ch.Name), archived)
		if len(ch.Messages) == 0 {
			w("<p class=\"note\">No messages.</p>\n")
		}
		for _, m := range ch.Messages {
			name := m.Name
			if name == "" {
				name = "a member"
			}
			w("<article id=\"m-%s\">\n<div><span class=\"who\">%s</span> <time class=\"when\" datetime=\"%s\">%s</time>", m.ID, e(name), e(m.Time), e(readableTime(m.Time)))
			for _, tag := range []struct {
				on   bool
				text string
			}{{m.Kind != "", m.Kind}, {m.Edited, "edited"}, {m.Pinned, "pinned"}} {
				if tag.on {
					w(" <span class=\"note\">%s</span>", tag.text)
				}
			}
			w("</div>\n")
			if m.ReplyTo != "" {
				w("<div class=\"reply\"><a href=\"#m-%s\">in reply</a></div>\n", m.ReplyTo)
			}
			if m.Text != "" {
				w("<div class=\"text\">%s</div>\n", e(m.Text))
			}
			for _, a := range m.Attachments {
				switch {
				case a.File == "":
					w("<div class=\"note\">📎 %s (%s, not on this device)</div>\n", e(a.Name), SizeWords(a.Size))
				case strings.HasPrefix(a.Mime, "image/") && !activeFile(a.Name, a.Mime):
					w("<a href=\"%s\"><img src=\"%s\" alt=\"%s\" loading=\"lazy\"></a>\n", e(fileHref(a.File)), e(fileHref(a.File)), e(a.Name))
				default:
					w("<div>📎 <a href=\"%s\">%s</a> <span class=\"note\">%s</span></div>\n", e(fileHref(a.File)), e(a.Name), SizeWords(a.Size))
				}
			}
			if len(m.Reactions) > 0 {
				w("<div class=\"note\">")
				for _, r := range m.Reactions {
					w("%s %d ", e(r.Emoji), r.Count)
				}
				w("</div>\n")
			}
			w("</article>\n")
		}
		w("</section>\n")
	}
	w("</body>\n</html>\n")
	return b.String()
}

// exportName is a file's name in the export: as sent, but safe on every system the folder may
// be copied to (no character Windows refuses, no trailing dot or space, at most 200 bytes with
// its extension kept), and with ".txt" after a page or script (HTML, SVG, XML, JavaScript),
// which a browser would otherwise run from the export with no policy over it.
func exportName(name, mime string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`<>:"/\|?*`, r) {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimRight(name, ". ")
	if name == "" {
		name = "file"
	}
	if activeFile(name, mime) {
		name += ".txt"
	}
	if len(name) > 200 {
		ext := filepath.Ext(name)
		if len(ext) > 20 {
			ext = ""
		}
		cut := 200 - len(ext)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + ext
	}
	return name
}

// activeFile says a file is one a browser runs (a page, an SVG, a script).
func activeFile(name, mime string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".html", ".htm", ".xhtml", ".xht", ".svg", ".svgz", ".xml", ".js", ".mjs", ".mht", ".mhtml", ".shtml":
		return true
	}
	return strings.Contains(mime, "html") || strings.Contains(mime, "svg") || strings.Contains(mime, "xml") || strings.Contains(mime, "javascript")
}

// readableTime is an RFC 3339 time as people read it: "7 December 2026, 12:29 UTC".
func readableTime(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.UTC().Format("2 January 2006, 15:04 UTC")
}

// fileHref is a file's path in the export as a relative URL (each part percent-encoded).
func fileHref(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
