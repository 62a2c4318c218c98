package app

// Files and pictures sent with a message: sealed into chunks with the epoch key (see
// community.Manifest), stored here before the message is written, listed with the message, and
// saved back whole. (Fetching them from other members comes with the blob protocol.)

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // pictures a thumbnail is made of (and ReadPicture reads)
	"image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"github.com/kith-app/kith/app/community"
)

// A BlobFile stores chunks of a file fetched from others (see Store.OpenBlob).
type BlobFile interface {
	// Put stores chunk i, marked held once written, and says how many bytes it took (0: it was
	// held). It is not synced: after a crash a chunk may be marked held and read wrong, which
	// Service.CheckFilesAfterCrash finds.
	Put(i int, data []byte) (added int64, err error)
	// Close closes the file; safe to call twice.
	Close() error
}

// A BlobReader reads the chunks of a file held here (see Store.ReadBlob).
type BlobReader interface {
	// Chunk returns chunk i (ok false: not held), read into buf when it has room; one held but
	// damaged is an error wrapping ErrChunkDamaged, with ok true.
	Chunk(i int, buf []byte) (data []byte, ok bool, err error)
	// Close closes the file; safe to call twice.
	Close() error
}

// A BlobWriter stores a file of one's own as it is sealed (see Store.CreateBlob).
type BlobWriter interface {
	// Put stores chunk i.
	Put(i int, data []byte) error
	// Commit puts the file, every chunk stored, in its place under its ID, on the disk when it
	// returns. The BlobWriter is done with either way.
	Commit(blob community.Hash) error
	// Abort drops what was stored, unless Commit put it in place; safe to call twice.
	Abort()
}

// File is a file to send: its name, type ("" to guess it from the name), size, and a way to
// read it (opened once for a picture's thumbnail, once to seal it).
type File struct {
	Name string
	Mime string
	Size int64
	Open func() (io.ReadCloser, error)
}

// Attachment is a file of a message as views show it.
type Attachment struct {
	Blob          community.Hash // the blob's ID
	Name          string
	Mime          string
	Size          int64
	Width, Height int
	Thumb         []byte // the sender's small picture, or none
	Have          bool   // every chunk is on this device
}

// maxThumbSide bounds a thumbnail's sides (the sender makes them 320 at most), and
// maxPictureArea the pictures a sender makes a thumbnail of (a bigger one is sent without).
const (
	maxThumbSide   = 320
	maxPictureArea = 50_000_000
)

// safeThumb is a thumbnail a peer sent, if it is a JPEG or PNG whose header says it is at most
// maxThumbSide a side (a header claiming a huge picture would make its decoding take all the
// memory there is), else nil.
func safeThumb(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || (format != "jpeg" && format != "png") || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxThumbSide || cfg.Height > maxThumbSide {
		return nil
	}
	return b
}

// attachmentsOf reads a post's manifests (a malformed one is left out).
func attachmentsOf(c *community.Content) []*community.Manifest {
	var out []*community.Manifest
	for _, b := range c.Blobs {
		if m, err := community.DecodeManifest(b); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// withAttachments adds a post's files to its view, each saying whether this device holds it.
func (s *Service) withAttachments(id community.Hash, m Message, c *community.Content) Message {
	for _, man := range attachmentsOf(c) {
		a := Attachment{Blob: man.ID(), Name: man.Name, Mime: man.Mime, Size: int64(man.Size),
			Width: int(man.Width), Height: int(man.Height), Thumb: safeThumb(man.Thumb)}
		if have, err := s.store.HasChunks(id, a.Blob, len(man.Chunks)); err == nil {
			a.Have = !slices.Contains(have, false)
		}
		m.Attachments = append(m.Attachments, a)
	}
	return m
}

// thumbnail makes a small JPEG of a picture (its longer side at most 320 pixels), and gives its
// size; ok false when f is not a picture Kith reads.
func thumbnail(f File) (thumb []byte, w, h int, ok bool) {
	rc, err := f.Open()
	if err != nil {
		return nil, 0, 0, false
	}
	defer rc.Close()
	small, w, h, err := ReadPicture(io.LimitReader(rc, f.Size), maxThumbSide)
	if err != nil {
		return nil, 0, 0, false // not a picture Kith reads, or too big to decode safely: sent as a file
	}
	for _, q := range []int{75, 55, 35} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: q}); err == nil && buf.Len() <= community.MaxThumbSize {
			return buf.Bytes(), w, h, true
		}
	}
	return nil, w, h, true
}

// ErrNotAPicture is ReadPicture's answer for bytes it does not read as a picture, or one too
// large to decode safely.
var ErrNotAPicture = errors.New("app: not a picture Kith reads (JPEG, PNG, GIF or WebP of at most 50 million pixels)")

// ReadPicture decodes a picture (JPEG, PNG, GIF, WebP), refusing one whose header claims more
// than maxPictureArea pixels before decoding it, and scales it to maxSide a side at most; w and
// h are its own size.
func ReadPicture(r io.Reader, maxSide int) (img image.Image, w, h int, err error) {
	head := bufio.NewReader(r)
	peek, _ := head.Peek(64 << 10)
	cfg, _, err := image.DecodeConfig(bytes.NewReader(peek))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxPictureArea {
		return nil, 0, 0, ErrNotAPicture
	}
	pic, _, err := image.Decode(head)
	if err != nil {
		return nil, 0, 0, ErrNotAPicture
	}
	b := pic.Bounds()
	w, h = b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || w > 1<<16 || h > 1<<16 {
		return nil, 0, 0, ErrNotAPicture
	}
	if longest := max(w, h); longest > maxSide {
		small := image.NewRGBA(image.Rect(0, 0, max(1, w*maxSide/longest), max(1, h*maxSide/longest)))
		draw.CatmullRom.Scale(small, small.Bounds(), pic, b, draw.Src, nil)
		return small, w, h, nil
	}
	return pic, w, h, nil
}

// sealFile reads f, seals it with the epoch key and stores its chunks a few at a time (a file
// is never whole in memory): its manifest, a picture's with a thumbnail. ctx stops it between
// chunks.
func (s *Service) sealFile(ctx context.Context, id community.Hash, key community.Key, f File) (*community.Manifest, error) {
	name, err := community.CleanFileName(f.Name)
	if err != nil {
		return nil, err
	}
	typ := f.Mime
	if typ == "" {
		typ = mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	}
	if typ == "" {
		typ = "application/octet-stream"
	}
	if i := strings.IndexByte(typ, ';'); i >= 0 {
		typ = strings.TrimSpace(typ[:i])
	}
	var thumb []byte
	var w, h int
	if strings.HasPrefix(typ, "image/") {
		thumb, w, h, _ = thumbnail(f)
	}
	var salt [16]byte
	if _, err := io.ReadFull(rand.Reader, salt[:]); err != nil {
		return nil, err
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("app: opening %s: %w", name, err)
	}
	defer rc.Close()
	if f.Size < 0 || f.Size > community.MaxBlobSize {
		return nil, fmt.Errorf("app: %s: %w", name, community.ErrTooLong)
	}
	bw, err := s.store.CreateBlob(id, community.ChunksFor(uint64(f.Size)))
	if err != nil {
		return nil, fmt.Errorf("app: %s: %w", name, err)
	}
	defer bw.Abort() // when it is not sealed whole (cut short, a full disk)
	m, err := community.SealBlobTo(key, salt, name, typ, uint64(f.Size), rc, func(i int, ct []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return bw.Put(i, ct)
	})
	if err == nil {
		m.Thumb, m.Width, m.Height = thumb, uint32(w), uint32(h)
		err = bw.Commit(m.ID()) // the message will name it: durable as it is
	}
	if err != nil {
		return nil, fmt.Errorf("app: %s: %w", name, err)
	}
	return m, nil
}

// PostFiles writes a message with files (text may be empty). The files are sealed with the
// current key and their chunks stored on this device before the message is written — without
// holding the community's lock, so that receiving and posting go on meanwhile — so that the
// message never names what this device cannot serve.
func (s *Service) PostFiles(ctx context.Context, id, channel community.Hash, text string, replyTo community.Hash, files []File) (Message, error) {
	if len(files) == 0 {
		return s.Post(ctx, id, channel, text, replyTo)
	}
	if len(files) > community.MaxFiles {
		return Message{}, &sentenceError{msg: fmt.Sprintf("a message carries up to %d files: send the others in another", community.MaxFiles), kind: ErrBadInput}
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text != "" {
		var err error
		if text, err = community.LimitText.CleanText(text); err != nil {
			return Message{}, err
		}
	}
	r, err := s.room(id)
	if err != nil {
		return Message{}, err
	}
	if channel.IsZero() {
		return Message{}, &sentenceError{msg: "pick a channel to post in", kind: ErrBadInput}
	}
	blobs, key, epoch, err := s.sealFiles(ctx, r, channel, files)
	if err != nil {
		return Message{}, err
	}
	defer r.mu.Unlock()
	m, err := s.writeFilesLocked(ctx, r, channel, text, replyTo, blobs, key, epoch)
	if err != nil {
		s.dropSealed(r.id, blobs)
	}
	return m, err
}

// dropSealed deletes files sealed for an event that was not written (each sealing has a salt of
// its own: no other message names them).
func (s *Service) dropSealed(id community.Hash, blobs [][]byte) {
	for _, b := range blobs {
		if m, err := community.DecodeManifest(b); err == nil {
			if _, err := s.store.DropChunks(id, m.ID(), nil); err != nil {
				s.log.Debug("a file sealed for nothing stays", "err", err)
			}
		}
	}
}

// sealFiles seals files with the current key for a post in channel (checked against the
// owner's limit first, and, for a post, against the channel) and returns their manifests with
// r.mu held, the key still current: the caller writes the event that names them, then unlocks.
// The files are sealed without holding the lock, so that receiving and posting go on meanwhile;
// when the key changes while they are, they are sealed again, the second time under the lock.
func (s *Service) sealFiles(ctx context.Context, r *room, channel community.Hash, files []File) ([][]byte, community.Key, community.Hash, error) {
	check := func(st *community.State) error { return checkFiles(st, files) }
	r.mu.Lock()
	key, epoch, err := s.postingKeyLocked(ctx, r, channel, check)
	r.mu.Unlock()
	if err != nil {
		return nil, community.Key{}, community.Hash{}, err
	}
	seal := func(key community.Key) ([][]byte, error) {
		var blobs [][]byte
		for _, f := range files {
			m, err := s.sealFile(ctx, r.id, key, f)
			if err != nil {
				s.dropSealed(r.id, blobs) // the files before it (its own chunks: see sealFile)
				return nil, err
			}
			blobs = append(blobs, m.Encode())
		}
		return blobs, nil
	}
	for attempt := 0; ; attempt++ {
		blobs, err := seal(key)
		if err != nil {
			return nil, community.Key{}, community.Hash{}, err
		}
		r.mu.Lock()
		nkey, nepoch, err := s.postingKeyLocked(ctx, r, channel, check)
		switch {
		case err != nil:
			r.mu.Unlock()
			return nil, community.Key{}, community.Hash{}, err
		case nepoch == epoch:
			return blobs, nkey, nepoch, nil
		case attempt == 0: // the key changed meanwhile: seal again with the new one
			key, epoch = nkey, nepoch
			r.mu.Unlock()
			s.dropSealed(r.id, blobs)
			continue
		}
		// It changed again: this time seal under the lock, so that it cannot.
		s.dropSealed(r.id, blobs)
		if blobs, err = seal(nkey); err != nil {
			r.mu.Unlock()
			return nil, community.Key{}, community.Hash{}, err
		}
		return blobs, nkey, nepoch, nil
	}
}

// LocalFile is a file on this computer to send, opened when it is read; a folder is refused in
// a sentence (ErrBadInput).
func LocalFile(path string) (File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return File{}, fmt.Errorf("cannot send %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return File{}, &sentenceError{msg: fmt.Sprintf("%s is not a file: send the files in it one by one", path), kind: ErrBadInput}
	}
	return File{Name: filepath.Base(path), Size: fi.Size(), Open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
}

// checkFiles checks a post's files against the community's file limit, and that their manifests
// fit in one message (a manifest names each chunk; a picture's carries a thumbnail).
func checkFiles(st *community.State, files []File) error {
	limit := st.Settings.FileLimit()
	room := community.MaxBodySize - 8<<10 // the text, the reply, the body's other fields
	for _, f := range files {
		name, err := community.CleanFileName(f.Name)
		if err != nil {
			return err
		}
		if f.Size < 0 || f.Size > limit {
			return &sentenceError{msg: fmt.Sprintf("%s is larger than the %s a file may be in %s: send a smaller one, or ask the owner to allow larger files", name, SizeWords(limit), st.Name), kind: ErrBadInput}
		}
		room -= int(f.Size/community.BlobChunkSize+1)*32 + 512
		if typ := mime.TypeByExtension(strings.ToLower(filepath.Ext(name))); strings.HasPrefix(typ, "image/") || strings.HasPrefix(f.Mime, "image/") {
			room -= community.MaxThumbSize
		}
	}
	if room < 0 {
		return &sentenceError{msg: "these files are too many or too large for one message: send them in two or more", kind: ErrBadInput}
	}
	return nil
}

// SizeWords is a size as people read it: "300 bytes", "740 KiB", "12 MiB", "2.5 MiB", "1.5 GiB".
func SizeWords(n int64) string {
	one := func(v float64, unit string) string {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") + " " + unit
	}
	switch {
	case n >= 1<<30:
		return one(float64(n)/(1<<30), "GiB")
	case n >= 1<<20:
		return one(float64(n)/(1<<20), "MiB")
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// postingKeyLocked checks that this install may post in channel (zero: it writes no post but a
// profile), and what more says of the post when not nil, and returns the key to seal with and
// its epoch. r.mu must be held.
func (s *Service) postingKeyLocked(ctx context.Context, r *room, channel community.Hash, more func(*community.State) error) (community.Key, community.Hash, error) {
	st := r.folder.State()
	role := st.RoleOf(s.id.PublicKey())
	ch, ok := st.Channel(channel)
	switch {
	case role == community.RoleNone && channel.IsZero():
		return community.Key{}, community.Hash{}, notAllowed("you are no longer a member of %q", st.Name)
	case role == community.RoleNone:
		return community.Key{}, community.Hash{}, notAllowed("you are no longer a member of %q, so you cannot post there", st.Name)
	case channel.IsZero(): // not a post (a profile): no channel to check
	case !ok:
		return community.Key{}, community.Hash{}, fmt.Errorf("app: %q has no such channel (it may not have reached this device yet)", st.Name)
	case ch.Archived:
		return community.Key{}, community.Hash{}, fmt.Errorf("app: #%s is archived: post in another channel", ch.Name)
	case ch.Type == community.ChannelAnnouncements && role < community.RoleModerator:
		return community.Key{}, community.Hash{}, notAllowed("%s", announcementsSentence(st, ch.Name))
	}
	if more != nil {
		if err := more(st); err != nil {
			return community.Key{}, community.Hash{}, err
		}
	}
	st, err := s.sealingStateLocked(ctx, r)
	if err != nil {
		return community.Key{}, community.Hash{}, err
	}
	key, ok := r.keys.Key(st.Current)
	if !ok {
		return community.Key{}, community.Hash{}, fmt.Errorf("app: this device does not have the current key of %q yet: it arrives from a member when one is online", st.Name)
	}
	return key, st.Current, nil
}

// writeFilesLocked writes the message that carries the files' manifests. r.mu must be held.
func (s *Service) writeFilesLocked(ctx context.Context, r *room, channel community.Hash, text string, replyTo community.Hash, blobs [][]byte, key community.Key, epoch community.Hash) (Message, error) {
	me := s.id.PublicKey()
	c := community.NewContent(community.KindMessage)
	c.Channel, c.Text, c.Target, c.Blobs = channel, text, replyTo, blobs
	body, err := community.SealContent(key, r.id, epoch, me, c, s.rand)
	if err != nil {
		return Message{}, err
	}
	if len(body) > community.MaxBodySize-1024 {
		return Message{}, &sentenceError{msg: "these files together are too many for one message: send them in two", kind: ErrBadInput}
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindMessage, body, channel)
	if err != nil {
		return Message{}, err
	}
	m := s.withAttachments(r.id, r.view(r.folder.State(), e, c, me), c)
	s.Emit(MessageAdded{Community: r.id, Message: m})
	return m, nil
}

// ErrChunkDamaged is BlobReader.Chunk's answer for a chunk its file says is held but that cannot be
// read whole (cut short on the disk): its reader drops it, so that it is fetched again.
var ErrChunkDamaged = errors.New("app: a piece of a file is damaged on this device")

// ErrNotHere is SaveFile's answer for a file whose chunks are not all on this device.
var ErrNotHere = errors.New("app: this device does not hold all of that file yet")

// SaveFile writes a message's file, whole and checked chunk by chunk, to w.
func (s *Service) SaveFile(id, message, blob community.Hash, w io.Writer) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	m, e, err := s.manifestOf(id, message, blob)
	if err != nil {
		return err
	}
	key, ok := r.keys.Key(e.Epoch)
	if !ok {
		return errors.New("app: this device does not hold the key of that message's time")
	}
	// Nothing is written unless every chunk is here: no file is left half-written for want of one.
	have, err := s.store.HasChunks(id, blob, len(m.Chunks))
	if err != nil {
		return err
	}
	if slices.Contains(have, false) {
		return ErrNotHere
	}
	br, ok, err := s.store.ReadBlob(id, blob)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotHere // deleted meanwhile
	}
	defer br.Close()
	buf := make([]byte, 0, community.SealedChunkSize)
	for i := range m.Chunks {
		ct, ok, err := br.Chunk(i, buf)
		if err != nil && !errors.Is(err, ErrChunkDamaged) {
			return err
		}
		if !ok {
			return ErrNotHere // deleted meanwhile
		}
		var p []byte
		if err == nil {
			p, err = m.OpenChunk(key, i, ct)
		}
		if err != nil && (ct == nil || m.CheckChunk(i, ct) != nil) {
			// Damaged on this disk since it was checked (a power cut can damage many): drop it and
			// the others, so that one fetch mends them all.
			bad, _ := damagedChunks(br, m, i+1, buf)
			_, _ = s.store.DropChunks(id, blob, append(bad, i))
			if v, ok, err := s.Message(id, message); err == nil && ok { // views: not here any more
				s.Emit(MessageUpdated{Community: id, Message: v})
			}
			return fmt.Errorf("%w: a piece of this file was damaged on this device, and Kith dropped it: get the file again from the members online (%v)", community.ErrMalformed, err)
		}
		if err != nil {
			// The chunk is the one its hash names, but this message's key does not open it: the
			// message is wrong (a copy of someone's manifest, under another key). It stays.
			return fmt.Errorf("%w: this file does not open: its sender's message describes it wrongly (%v)", community.ErrMalformed, err)
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// damagedChunks reads a held file's chunks from chunk from on, and returns those held whose bytes
// do not match their hashes (cut short, or zeros after a power cut).
func damagedChunks(br BlobReader, m *community.Manifest, from int, buf []byte) ([]int, error) {
	var bad []int
	for i := from; i < len(m.Chunks); i++ {
		ct, ok, err := br.Chunk(i, buf)
		if err != nil && !errors.Is(err, ErrChunkDamaged) {
			return bad, err
		}
		if ok && (err != nil || m.CheckChunk(i, ct) != nil) {
			bad = append(bad, i)
		}
	}
	return bad, nil
}

// FindFile finds the message that carries a file (or the profile, for a member's picture), by the
// file's ID or a prefix of 8 hex digits or more (reading the channels' pages, at most maxScanned
// events each).
func (s *Service) FindFile(id community.Hash, ref string) (message, blob community.Hash, err error) {
	r, err := s.room(id)
	if err != nil {
		return community.Hash{}, community.Hash{}, err
	}
	r.mu.Lock()
	chans := r.folder.State().Channels()
	r.mu.Unlock()
	var ids []community.Hash
	where := map[community.Hash]community.Hash{}
	err = s.eachInChannels(id, chans, func(e *community.Event) bool {
		if !isPost(e.Kind) || !e.HasBody() {
			return true
		}
		if c, err := r.keys.Open(e); err == nil {
			for _, m := range attachmentsOf(c) {
				ids = append(ids, m.ID())
				where[m.ID()] = e.ID
			}
		}
		return true
	})
	if err != nil {
		return community.Hash{}, community.Hash{}, err
	}
	if ms, err := s.Members(id); err == nil { // members' pictures, named by their profiles
		for _, m := range ms {
			if len(m.Picture) > 0 {
				ids = append(ids, m.PictureBlob)
				where[m.PictureBlob] = m.PictureEvent
			}
		}
	}
	b, err := byPrefix(ids, ref, "file", "kithd messages --json")
	if err != nil {
		return community.Hash{}, community.Hash{}, err
	}
	msg, ok := where[b]
	if !ok {
		return community.Hash{}, community.Hash{}, &sentenceError{msg: "no message here carries that file", kind: ErrBadInput}
	}
	return msg, b, nil
}

// dropFilesOf deletes a deleted message's files, but those another message or a profile stored
// here names too (a member could post a copy of someone's manifest, or of someone's picture,
// then delete the copy to delete the original's file everywhere). r.mu is held.
func (s *Service) dropFilesOf(r *room, message community.Hash, c *community.Content) error {
	return s.dropUnnamed(r, message, attachmentsOf(c))
}

// dropUnnamed deletes the files of mans that nothing here names but except: no post (reading
// the channels' pages, at most maxScanned events each; deletions are rare) and no member's
// current picture. Files that will not go are logged, never an error: the event that asked
// stands. r.mu is held.
func (s *Service) dropUnnamed(r *room, except community.Hash, mans []*community.Manifest) error {
	drop := map[community.Hash]bool{}
	for _, m := range mans {
		drop[m.ID()] = true
	}
	if len(drop) == 0 {
		return nil
	}
	spare := func(e *community.Event) bool {
		if e.ID == except || !e.HasBody() {
			return true
		}
		if oc, err := r.keys.Open(e); err == nil && len(oc.Blobs) > 0 {
			for _, m := range attachmentsOf(oc) {
				delete(drop, m.ID()) // still named: kept
			}
		}
		return len(drop) > 0
	}
	err := s.eachInChannels(r.id, r.folder.State().Channels(), func(e *community.Event) bool { return !isPost(e.Kind) || spare(e) })
	if err != nil {
		return err
	}
	if prof := r.profiles.Load(); prof != nil { // members' pictures, as their latest profiles name them
		for _, p := range *prof {
			if p.picture == nil {
				continue
			}
			if m, err := community.DecodeManifest(p.picture); err == nil {
				delete(drop, m.ID())
			}
		}
	}
	for b := range drop {
		if _, err := s.store.DropChunks(r.id, b, nil); err != nil {
			s.log.Warn("a file of a deleted message is still on this device", "community", r.id.Short(), "err", err)
		}
	}
	return nil
}
