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
	maxSearchTerms     = 16     // words of a query that count
	maxSearchCandidate = 20_000 // postings of the rarest word read at most
	searchMarkPref     = "search-mark"
)

// isPaired reports whether r belongs to a script written without spaces between words, indexed
// by pairs of characters.
func isPaired(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r == 'ー' || r == '々' || r == '〆' // marks of those scripts that Unicode files as common
}

var folder = cases.Fold()

// searchWords are the distinct terms of text: runs of letters and digits, folded (case, width,
// accents), and for Chinese, Japanese and Korean runs every pair of neighbouring characters (a
// run of one: the character).
func searchWords(text string) []string {
	text = norm.NFKD.String(text)
	text = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1 // accents go: "café" finds "cafe"
		}
		return r
	}, text)
	text = norm.NFC.String(folder.String(text))
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	var word strings.Builder
	var run []rune
	flushRun := func() {
		if len(run) == 1 {
			add(string(run))
		}
		for i := 0; i+1 < len(run); i++ {
			add(string(run[i : i+2]))
		}
		run = run[:0]
	}
	for _, r := range text {
		switch {
		case isPaired(r):
			add(word.String())
			word.Reset()
			run = append(run, r)
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
// install can read (the others when their key comes: see indexOpened).
func (s *Service) catchUpIndex(r *room) error {
	r.search.mu.Lock()
	defer r.search.mu.Unlock()
	if err := s.loadIndexLocked(r); err != nil {
		return err
	}
	for {
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
			return err
		}
		if n == 0 || last == r.search.mark {
			return nil
		}
		if err := s.store.Index(r.id, add, nil); err != nil {
			return err
		}
		r.search.mark = last
		if err := s.store.SetPref(r.id, searchMarkPref, strconv.FormatUint(last, 10)); err != nil {
			return err
		}
	}
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
	if err := s.loadIndexLocked(r); err != nil {
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

// unindex drops a deleted post's words from the index (its text is read before it goes).
func (s *Service) unindex(r *room, target *community.Event) {
	c, err := r.keys.Open(target)
	if err != nil {
		return
	}
	r.search.mu.Lock()
	defer r.search.mu.Unlock()
	if err := s.loadIndexLocked(r); err != nil {
		return
	}
	if err := s.store.Index(r.id, nil, postingsOf(r.search.key, target.Position(), c.Text)); err != nil {
		s.log.Warn("dropping a deleted message from the search index", "community", r.id.Short(), "err", err)
	}
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
// query (folded as the index folds them), the newest first, at most limit (0: 50).
func (s *Service) Search(id community.Hash, query string, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 50
	}
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	if err := s.catchUpIndex(r); err != nil {
		return nil, err
	}
	words := searchWords(query)
	if len(words) == 0 {
		return nil, ErrEmptySearch
	}
	words = words[:min(len(words), maxSearchTerms)]
	terms := make([]uint64, len(words))
	for i, w := range words {
		terms[i] = termHash(r.search.key, w)
	}
	// Read the rarest word's postings (counted up to a bound), checking the others by key.
	rarest, fewest := 0, -1
	for i, t := range terms {
		n := 0
		if err := s.store.Postings(id, t, community.Position{}, func(uint64, [8]byte) bool { n++; return n < 2000 }); err != nil {
			return nil, err
		}
		if fewest < 0 || n < fewest {
			rarest, fewest = i, n
		}
	}
	if fewest == 0 {
		return []Message{}, nil
	}
	var out []Message
	var readErr error
	scanned := 0
	err = s.store.Postings(id, terms[rarest], community.Position{}, func(lamport uint64, id8 [8]byte) bool {
		scanned++
		for i, t := range terms {
			if i == rarest {
				continue
			}
			ok, err := s.store.HasPosting(id, t, lamport, id8)
			if err != nil {
				readErr = err
				return false
			}
			if !ok {
				return scanned < maxSearchCandidate
			}
		}
		mid, ok, err := s.store.ResolveID(id, id8)
		if err != nil {
			readErr = err
			return false
		}
		if ok {
			m, ok, err := s.Message(id, mid)
			if err != nil {
				readErr = err
				return false
			}
			if ok && m.Text != "" && holdsAll(m.Text, words) { // the text as it stands: edits, deletions
				out = append(out, m)
			}
		}
		return len(out) < limit && scanned < maxSearchCandidate
	})
	if readErr != nil {
		return nil, readErr
	}
	if out == nil {
		out = []Message{}
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
