package app

// Search: a local full-text index of the messages this install can read, kept in the store as
// keyed hashes of their words (no word in clear on disk), caught up from the log as messages
// arrive, and read newest first. Words are folded (case, accents, width); Chinese, Japanese and
// Korean text is indexed by pairs of characters.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/kith-app/kith/app/community"
)

// Posting says that the event at a position holds a term (its keyed hash).
type Posting struct {
	Term uint64
	At   community.Position
}

// Bounds of a search.
const (
	maxSearchTerms = 16 // words of a query that count
	searchMarkPref = "search-mark"
)

// isPaired reports whether r belongs to a script written without spaces between words, indexed
// by single characters and pairs of them.
func isPaired(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar) ||
		r == 'ー' || r == '々' || r == '〆' // marks of those scripts that Unicode files as common
}

// accented reports whether a combining mark after base is an accent that searches ignore: on
// Latin, Greek and Cyrillic letters ("café" finds "cafe"). Elsewhere marks are part of the
// letter (Japanese voicing marks, Thai vowels) and stay.
func accented(base rune) bool {
	return unicode.In(base, unicode.Latin, unicode.Greek, unicode.Cyrillic)
}

var folder = cases.Fold()

// searchWords are the distinct terms of text as the index holds them: runs of letters and digits,
// folded (case, width, and accents on Latin, Greek and Cyrillic letters); for scripts written
// without spaces (Chinese, Japanese, Korean, Thai, Lao, Khmer, Burmese) every character of a run
// and every pair of neighbouring characters, a character's marks with it.
func searchWords(text string) []string { return termsOf(text, false) }

// queryWords are the terms a search looks up: the same, but a run of several characters of a
// script without spaces is looked up by its pairs only (each character alone matches more).
func queryWords(query string) []string { return termsOf(query, true) }

func termsOf(text string, query bool) []string {
	var b strings.Builder
	var base rune
	for _, r := range norm.NFKD.String(text) {
		if unicode.Is(unicode.Mn, r) && accented(base) {
			continue
		}
		if !unicode.Is(unicode.M, r) {
			base = r
		}
		b.WriteRune(r)
	}
	text = norm.NFC.String(folder.String(b.String()))
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	var word strings.Builder
	var run []string // the characters of a run, each with its marks
	flushRun := func() {
		for i, c := range run {
			if !query || len(run) == 1 {
				add(c)
			}
			if i+1 < len(run) {
				add(c + run[i+1])
			}
		}
		run = run[:0]
	}
	for _, r := range text {
		switch {
		case isPaired(r):
			add(word.String())
			word.Reset()
			run = append(run, string(r))
		case unicode.Is(unicode.M, r) && len(run) > 0:
			run[len(run)-1] += string(r)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r):
			flushRun()
			word.WriteRune(r)
		default:
			flushRun()
			add(word.String())
			word.Reset()
		}
	}
	flushRun()
	add(word.String())
	return out
}

// searchKey is this install's key for a community's term hashes: derived from its identity's
// signature (deterministic), so it is never stored and differs between installs.
func (s *Service) searchKey(id community.Hash) ([]byte, error) {
	sig, err := s.id.Sign(append([]byte("kith search index v1\x00"), id[:]...))
	if err != nil {
		return nil, err
	}
	k := sha256.Sum256(sig)
	return k[:], nil
}

// termHash is a term's keyed hash.
func termHash(key []byte, term string) uint64 {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(term))
	return binary.BigEndian.Uint64(m.Sum(nil))
}

// searchIndex is a room's index state: how far in the log it has indexed (the local mark,
// remembered in the store), and its key. Its own lock: searches and the indexer take it.
type searchIndex struct {
	mu     sync.Mutex
	loaded bool
	dead   bool // the community was forgotten here: nothing more is indexed
	mark   uint64
	key    []byte
	kick   chan struct{} // wakes the room's indexer
	once   sync.Once
}

// postingsOf are the postings of an opened post or edit: its words, at the message it shows
// in (an edit's target).
func postingsOf(key []byte, at community.Position, text string) []Posting {
	var out []Posting
	for _, w := range searchWords(text) {
		out = append(out, Posting{Term: termHash(key, w), At: at})
	}
	return out
}

// loadIndexLocked reads the index's mark and key once. r.search.mu must be held.
func (s *Service) loadIndexLocked(r *room) error {
	if r.search.loaded {
		return nil
	}
	key, err := s.searchKey(r.id)
	if err != nil {
		return err
	}
	v, err := s.store.Pref(r.id, searchMarkPref)
	if err != nil {
		return err
	}
	mark, _ := strconv.ParseUint(v, 10, 64) // none or damaged: index from the start
	r.search.key, r.search.mark, r.search.loaded = key, mark, true
	return nil
}

// catchUpIndex indexes what the room stored since the index's mark: posts and edits this
// install can read (the others when their key comes: see indexOpened). It takes the index's lock
// one batch at a time, so that a deletion or a key that came waits a batch at most, and stops
// when the service closes or the community is forgotten.
func (s *Service) catchUpIndex(r *room) error {
	for {
		done, err := s.indexBatch(r)
		if done || err != nil {
			return err
		}
	}
}

// indexBatch indexes one batch (done: nothing was left).
func (s *Service) indexBatch(r *room) (done bool, err error) {
	r.search.mu.Lock()
	defer r.search.mu.Unlock()
	if r.search.dead {
		return true, nil
	}
	if err := s.ctx.Err(); err != nil {
		return true, ErrClosed
	}
	if err := s.loadIndexLocked(r); err != nil {
		return true, err
	}
	var add []Posting
	n := 0
	last, err := s.store.Since(r.id, r.search.mark, 500, func(e *community.Event) error {
		n++
		if !e.HasBody() || (!isPost(e.Kind) && e.Kind != community.KindEdit) {
			return nil
		}
		c, err := r.keys.Open(e)
		if err != nil {
			return nil // not readable yet: indexed when its key comes
		}
		add = append(add, s.postingsFor(r, e, c)...)
		return nil
	})
	if err != nil {
		return true, err
	}
	if n == 0 || last == r.search.mark {
		return true, nil
	}
	if err := s.store.Index(r.id, add, nil); err != nil {
		return true, err
	}
	r.search.mark = last
	return false, s.store.SetPref(r.id, searchMarkPref, strconv.FormatUint(last, 10))
}

// forgetIndex stops indexing a community this install forgets. r.mu is held.
func (r *room) forgetIndex() {
	r.search.mu.Lock()
	r.search.dead = true
	r.search.mu.Unlock()
}

// postingsFor are an opened post's or edit's postings (an edit's at its target, when stored).
func (s *Service) postingsFor(r *room, e *community.Event, c *community.Content) []Posting {
	at := e.Position()
	if e.Kind == community.KindEdit {
		k, ok, err := s.store.Lookup(r.id, c.Target)
		if err != nil || !ok {
			return nil
		}
		at = community.Position{Lamport: k.Lamport, ID: c.Target}
	}
	return postingsOf(r.search.key, at, c.Text)
}

// indexOpened indexes posts and edits that became readable (their key came after them).
func (s *Service) indexOpened(r *room, evs []opened) {
	r.search.mu.Lock()
	defer r.search.mu.Unlock()
	if r.search.dead || s.loadIndexLocked(r) != nil {
		return
	}
	var add []Posting
	for _, o := range evs {
		if isPost(o.e.Kind) || o.e.Kind == community.KindEdit {
			add = append(add, s.postingsFor(r, o.e, o.c)...)
		}
	}
	if err := s.store.Index(r.id, add, nil); err != nil {
		s.log.Warn("indexing messages for search", "community", r.id.Short(), "err", err)
	}
}

// dropWithIndex drops a deleted post's text with drop (the store's DropBody) and its words from
// the index — those of its text and of its edits — under the index's lock, so that no batch
// indexes it again in between. r.mu is held.
func (s *Service) dropWithIndex(r *room, target *community.Event, drop func() error) error {
	texts := []string{}
	var evs []*community.Event
	if c, err := r.keys.Open(target); err == nil {
		texts = append(texts, c.Text)
		evs, _ = s.pageInOrder(r.id, annotationsPage(c.Channel)) // its edits
	}
	for _, e := range evs {
		if e.Kind != community.KindEdit || !e.HasBody() {
			continue
		}
		if c, err := r.keys.Open(e); err == nil && c.Target == target.ID {
			texts = append(texts, c.Text)
		}
	}
	r.search.mu.Lock()
	defer r.search.mu.Unlock()
	if err := drop(); err != nil {
		return err
	}
	if r.search.dead || s.loadIndexLocked(r) != nil {
		return nil
	}
	var postings []Posting
	for _, t := range texts {
		postings = append(postings, postingsOf(r.search.key, target.Position(), t)...)
	}
	if err := s.store.Index(r.id, nil, postings); err != nil {
		s.log.Warn("dropping a deleted message from the search index", "community", r.id.Short(), "err", err)
	}
	return nil
}

// Pacing of the background indexer: it waits for the room to be quiet this long, or at most
// indexLatest after the first event it was woken for, so that it does not compete with a
// catch-up batch by batch; a search catches up at once anyway.
const (
	indexQuiet  = 300 * time.Millisecond
	indexLatest = 5 * time.Second
)

// indexSoon wakes the room's indexer, started on first use, which catches the index up in the
// background so that a search finds it done.
func (s *Service) indexSoon(r *room) {
	r.search.once.Do(func() {
		r.search.kick = make(chan struct{}, 1)
		s.spawn(func() {
			for {
				select {
				case <-s.ctx.Done():
					return
				case <-r.search.kick:
				}
				quiet, latest := time.NewTimer(indexQuiet), time.NewTimer(indexLatest)
			wait:
				for {
					select {
					case <-s.ctx.Done():
						quiet.Stop()
						latest.Stop()
						return
					case <-r.search.kick:
						quiet.Reset(indexQuiet)
					case <-quiet.C:
						break wait
					case <-latest.C:
						break wait
					}
				}
				quiet.Stop()
				latest.Stop()
				r.search.mu.Lock()
				dead := r.search.dead
				r.search.mu.Unlock()
				if dead {
					return
				}
				if err := s.catchUpIndex(r); err != nil && !errors.Is(err, ErrClosed) {
					s.log.Warn("indexing messages for search", "community", r.id.Short(), "err", err)
				}
			}
		})
	})
	select {
	case r.search.kick <- struct{}{}:
	default:
	}
}

// ErrEmptySearch is Search's answer to a query with no word in it.
var ErrEmptySearch = &sentenceError{msg: "type a word to search for", kind: ErrBadInput}

// Search finds the messages of a community this install can read that hold every word of
// query (folded as the index folds them), the newest first, at most limit (0: 50). The index is
// caught up first; when that fails (a full disk), what it holds is searched.
func (s *Service) Search(id community.Hash, query string, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 50
	}
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	if err := s.catchUpIndex(r); err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, err
		}
		s.log.Warn("search: the index could not catch up; searching what it holds", "community", id.Short(), "err", err)
	}
	words := queryWords(query)
	if len(words) == 0 {
		return nil, ErrEmptySearch
	}
	words = words[:min(len(words), maxSearchTerms)]
	r.search.mu.Lock()
	key := r.search.key
	r.search.mu.Unlock()
	if key == nil {
		if key, err = s.searchKey(id); err != nil {
			return nil, err
		}
	}
	terms := make([]uint64, len(words))
	for i, w := range words {
		terms[i] = termHash(key, w)
	}
	out := []Message{}
	var readErr error
	err = s.store.Intersect(id, terms, func(lamport uint64, id8 [8]byte) bool {
		ids, err := s.store.ResolveID(id, id8)
		if err != nil {
			readErr = err
			return false
		}
		for _, mid := range ids {
			if k, ok, err := s.store.Lookup(id, mid); err != nil || !ok || k.Lamport != lamport {
				continue // another event that shares 8 bytes of ID
			}
			m, ok, err := s.Message(id, mid)
			if err != nil {
				readErr = err
				return false
			}
			if ok && m.Text != "" && holdsAll(m.Text, words) { // the text as it stands: edits, deletions
				out = append(out, m)
			}
		}
		return len(out) < limit
	})
	if readErr != nil {
		return nil, readErr
	}
	return out, err
}

// holdsAll reports whether text holds every one of words (as searchWords finds them).
func holdsAll(text string, words []string) bool {
	have := map[string]bool{}
	for _, w := range searchWords(text) {
		have[w] = true
	}
	for _, w := range words {
		if !have[w] {
			return false
		}
	}
	return true
}
