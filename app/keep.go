package app

// What this device keeps of a community's files: its disk budget (a local preference), what the
// files take, and the files it lacks (for a community whose owner asks members to keep them all).

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/kith-app/kith/app/community"
)

// filesBudgetPref is this install's disk budget for a community's files, in MiB.
const filesBudgetPref = "files-budget"

// BackedUpPrefs are the preferences for a community that a backup carries: the person's own
// choices, not what this install can work out again (the search index's mark).
var BackedUpPrefs = []string{filesBudgetPref, mutePref}

// Bounds of the disk budget.
const (
	// DefaultFilesBudgetMiB is a community's budget until this install's person sets one.
	DefaultFilesBudgetMiB = 2048
	// MaxFilesBudgetMiB bounds the setting (1 TiB).
	MaxFilesBudgetMiB = 1 << 20
)

// FileKeeping is what this device keeps of a community's files: the owner's rules, and this
// install's budget and what the files take.
type FileKeeping struct {
	MaxFileMiB int   // the largest file a member may send (the owner's setting)
	KeepAll    bool  // the owner asks members to keep every file, not only those opened
	BudgetMiB  int   // this device keeps at most this many MiB of the community's files
	Used       int64 // bytes the files held take
}

// ErrOverBudget is FetchFile's answer when a file does not fit in the community's disk budget
// on this device; its sentence says how to make room.
var ErrOverBudget = errors.New("app: over this device's budget for the community's files")

// Keeping returns what this device keeps of a community's files.
func (s *Service) Keeping(id community.Hash) (FileKeeping, error) {
	st, err := s.state(id)
	if err != nil {
		return FileKeeping{}, err
	}
	used, err := s.store.ChunkBytes(id)
	if err != nil {
		return FileKeeping{}, err
	}
	return FileKeeping{MaxFileMiB: int(st.Settings.FileLimit() >> 20), KeepAll: st.Settings.KeepFiles,
		BudgetMiB: s.filesBudget(id), Used: used}, nil
}

// KeepsAll reports whether a community's owner asks members to keep every file.
func (s *Service) KeepsAll(id community.Hash) (bool, error) {
	st, err := s.state(id)
	if err != nil {
		return false, err
	}
	return st.Settings.KeepFiles, nil
}

// filesBudget is this install's budget for a community's files, in MiB.
func (s *Service) filesBudget(id community.Hash) int {
	v, err := s.store.Pref(id, filesBudgetPref)
	if err != nil || v == "" {
		return DefaultFilesBudgetMiB
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxFilesBudgetMiB {
		return DefaultFilesBudgetMiB
	}
	return n
}

// SetFilesBudget sets how many MiB of a community's files this device keeps at most (1 MiB to
// 1 TiB). Files already held stay; the budget stops new ones once they take it.
func (s *Service) SetFilesBudget(id community.Hash, mib int) error {
	if _, err := s.room(id); err != nil {
		return err
	}
	if mib < 1 || mib > MaxFilesBudgetMiB {
		return &sentenceError{msg: fmt.Sprintf("a budget for files is 1 MiB up to %d MiB (1 TiB), not %d", MaxFilesBudgetMiB, mib), kind: ErrBadInput}
	}
	if err := s.store.SetPref(id, filesBudgetPref, strconv.Itoa(mib)); err != nil {
		return err
	}
	s.Emit(CommunityChanged{Community: id})
	return nil
}

// checkBudget refuses to fetch need more bytes of a community's files when they would take the
// files held past this install's budget, in a sentence that says how to make room.
func (s *Service) checkBudget(id community.Hash, need int64) error {
	used, err := s.store.ChunkBytes(id)
	if err != nil {
		return err
	}
	budget := int64(s.filesBudget(id)) << 20
	if used+need <= budget {
		return nil
	}
	name := "this community"
	if st, err := s.state(id); err == nil {
		name = fmt.Sprintf("%q", st.Name)
	}
	return &sentenceError{msg: fmt.Sprintf("this device keeps at most %s of %s's files, and they take %s: this one (%s more) does not fit. Raise the budget (Community > Files…, or kithd files --budget MIB), or delete messages with large files",
		SizeWords(budget), name, SizeWords(used), SizeWords(need)), kind: ErrBadInput, err: ErrOverBudget}
}

// FileRef names a file of a message.
type FileRef struct {
	Message community.Hash
	Blob    community.Hash
	Size    int64
}

// MissingFiles lists the files of a community's messages that this device does not hold whole,
// newest first, those over the owner's limit left out (reading the channels' pages, at most
// maxScanned events each).
func (s *Service) MissingFiles(id community.Hash) ([]FileRef, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	st := r.folder.State()
	chans, limit := st.Channels(), st.Settings.FileLimit()
	r.mu.Unlock()
	var out []FileRef
	err = s.eachInChannels(id, chans, func(e *community.Event) bool {
		if !isPost(e.Kind) || !e.HasBody() {
			return true
		}
		c, err := r.keys.Open(e)
		if err != nil || len(c.Blobs) == 0 {
			return true
		}
		v, ok, err := s.Message(id, e.ID) // as views show it: none when deleted, voided, hidden
		if err != nil || !ok {
			return true
		}
		for _, a := range v.Attachments {
			if !a.Have && a.Size <= limit {
				out = append(out, FileRef{Message: e.ID, Blob: a.Blob, Size: a.Size})
			}
		}
		return true
	})
	return out, err
}

// CheckFilesAfterCrash checks, when the last run did not close (a crash, a power cut), every
// chunk this device holds of every community's files (posts' and members' pictures) against its
// hash, drops those that read wrong, and then tells the store the files are checked: chunks
// fetched from others are not synced, and a power cut can leave some marked held and empty. It
// says how many it dropped; ctx stops it (the next start checks again).
func (s *Service) CheckFilesAfterCrash(ctx context.Context) (dropped int, err error) {
	if !s.store.FilesUnchecked() {
		return 0, nil
	}
	cs, err := s.Communities()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 0, community.SealedChunkSize)
	for _, c := range cs {
		r, err := s.room(c.ID)
		if err != nil {
			continue // forgotten meanwhile
		}
		files := map[community.Hash]*community.Manifest{}
		where := map[community.Hash]community.Hash{} // a post's file: the post, for views
		r.mu.Lock()
		chans := r.folder.State().Channels()
		r.mu.Unlock()
		err = s.eachInChannels(c.ID, chans, func(e *community.Event) bool {
			if isPost(e.Kind) && e.HasBody() {
				if oc, err := r.keys.Open(e); err == nil {
					for _, m := range attachmentsOf(oc) {
						files[m.ID()], where[m.ID()] = m, e.ID
					}
				}
			}
			return ctx.Err() == nil
		})
		if err != nil {
			return dropped, err
		}
		if prof := r.profiles.Load(); prof != nil {
			for _, p := range *prof {
				if m, err := community.DecodeManifest(p.picture); p.picture != nil && err == nil {
					files[m.ID()] = m
				}
			}
		}
		for id, m := range files {
			if err := ctx.Err(); err != nil {
				return dropped, err
			}
			br, ok, err := s.store.ReadBlob(c.ID, id)
			if err != nil || !ok {
				continue
			}
			bad, err := damagedChunks(br, m, 0, buf)
			br.Close()
			if err != nil || len(bad) == 0 {
				continue
			}
			if _, err := s.store.DropChunks(c.ID, id, bad); err != nil {
				return dropped, err
			}
			dropped += len(bad)
			s.log.Info("pieces of a file damaged by the last run's end were dropped; they will be fetched again",
				"community", c.ID.Short(), "file", id.Short(), "pieces", len(bad))
			if msg, ok := where[id]; ok {
				if v, ok, err := s.Message(c.ID, msg); err == nil && ok {
					s.Emit(MessageUpdated{Community: c.ID, Message: v})
				}
			}
		}
	}
	s.store.FilesChecked()
	return dropped, nil
}
