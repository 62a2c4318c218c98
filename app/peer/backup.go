package peer

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/backup"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/storage"
)

// A backup holds what no other member can give back: the identity key, the communities this
// install belongs to with the members last seen in each (the lifeline), its own choices for
// each (app.BackedUpPrefs), the invites it issued (their secrets are nowhere else), and the
// settings that are the person's rather than the computer's. The history is not in it: after
// a restore it comes from the other members, as after `kithd resync`. The contents are JSON,
// sealed by app/backup:
//
//	{"version":1,"made":"…","build":"0.1.0 (…)","identity":"<key file, base64>",
//	 "lifeline":{…lifeline.json…},
//	 "communities":[{"id":"…","prefs":{"files-budget":"512"},"invites":["kith1…"]}],
//	 "settings":{"display_name":"Ana","theme":"dark",…}}

// SettingsFile is the desktop app's settings file in the data folder (app/ui reads it).
const SettingsFile = "settings.json"

// backedUpSettings are the keys of the settings file a backup carries: the person's choices.
// The rest (listen port, relay, window size, the tray) belong to the computer.
var backedUpSettings = []string{"display_name", "theme", "notifications", "recent_emoji", "public_dht", "bootstrap", "members_hidden"}

// settingOK says whether a backed-up setting's value has its type in app/ui's Settings.
func settingOK(key string, v json.RawMessage) bool {
	var err error
	switch key {
	case "display_name", "theme":
		var s string
		err = json.Unmarshal(v, &s)
	case "notifications", "public_dht", "members_hidden":
		var b bool
		err = json.Unmarshal(v, &b)
	case "recent_emoji", "bootstrap":
		var l []string
		err = json.Unmarshal(v, &l)
	default:
		return false
	}
	return err == nil
}

// BackupParams are the costs of the key derivation of the backups this process writes
// (backup.DefaultParams; tests lower them).
var BackupParams = backup.DefaultParams

// Bounds of what a backup's contents may hold, checked when one is read.
const (
	maxBackupInvites     = 10000
	maxBackupCommunities = 1000
	maxBackupPref        = 64 // bytes of a preference's value
)

type backupContents struct {
	Version     int                        `json:"version"`
	Made        time.Time                  `json:"made"`
	Build       string                     `json:"build"`
	Identity    []byte                     `json:"identity"`
	Lifeline    lifeline                   `json:"lifeline"`
	Communities []backupCommunity          `json:"communities"`
	Settings    map[string]json.RawMessage `json:"settings,omitempty"`
}

type backupCommunity struct {
	ID string `json:"id"`
	// OwnSeq is the number of this install's latest event there: a restored install writes
	// only once it holds that event again (app.OwnFloorPref).
	OwnSeq  uint64            `json:"own_seq,omitempty"`
	Prefs   map[string]string `json:"prefs,omitempty"`
	Invites []string          `json:"invites,omitempty"`
}

// BackedUp says what a backup holds.
type BackedUp struct {
	PeerID      string
	Made        time.Time
	Communities []NamedCommunity
}

// NamedCommunity is a community's ID and name.
type NamedCommunity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Backup seals this install's identity, its communities (with where their members were last
// seen), its own choices for each, the invites it issued and its portable settings into a
// backup file that passphrase opens (backup.ErrWeakPassphrase when it is too short).
func (p *Peer) Backup(passphrase string) ([]byte, BackedUp, error) {
	c, err := p.backupContents()
	if err != nil {
		return nil, BackedUp{}, err
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, BackedUp{}, err
	}
	file, err := backup.Seal(plain, passphrase, BackupParams, rand.Reader)
	clear(plain)
	if err != nil {
		return nil, BackedUp{}, err
	}
	return file, c.summary(), nil
}

func (p *Peer) backupContents() (backupContents, error) {
	// The address book as the node knows it now (a no-op when it is not running): the members
	// online, where they are, written before the lifeline is built from it.
	p.saveAddrs()
	c := backupContents{Version: 1, Made: time.Now().UTC().Truncate(time.Second), Build: app.ThisBuild().String(),
		Identity: p.ID.KeyFile(), Communities: []backupCommunity{}}
	cs, err := p.Svc.Communities()
	if err != nil {
		return c, err
	}
	was, _ := os.ReadFile(filepath.Join(p.Dir, LifelineFile))
	if c.Lifeline, err = p.buildLifeline(cs, was); err != nil {
		return c, err
	}
	ls := localstore.Store{S: p.Store}
	for _, l := range c.Lifeline.Communities {
		id, err := community.ParseHash(l.ID)
		if err != nil {
			continue
		}
		bc := backupCommunity{ID: l.ID, Prefs: map[string]string{}}
		bc.OwnSeq, _ = p.Svc.OwnSeq(id) // (0 for a community the store lost: its lifeline entry stays)
		for _, name := range app.BackedUpPrefs {
			v, err := ls.Pref(id, name)
			if err != nil {
				return c, err
			}
			if v != "" {
				bc.Prefs[name] = v
			}
		}
		if bc.Invites, err = ls.Issued(id); err != nil {
			return c, err
		}
		c.Communities = append(c.Communities, bc)
	}
	c.Settings = portableSettings(filepath.Join(p.Dir, SettingsFile))
	return c, nil
}

// portableSettings are the backed-up keys of the settings file at path (nil: none, or a
// damaged file: the settings are a convenience, never a reason for no backup).
func portableSettings(path string) map[string]json.RawMessage {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(b, &all) != nil {
		return nil
	}
	out := map[string]json.RawMessage{}
	for _, k := range backedUpSettings {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

func (c backupContents) summary() BackedUp {
	s := BackedUp{Made: c.Made, Communities: []NamedCommunity{}}
	if id, err := identity.Parse(c.Identity); err == nil {
		s.PeerID, _ = PeerID(id.PublicKey())
	}
	for _, l := range c.Lifeline.Communities {
		s.Communities = append(s.Communities, NamedCommunity{ID: l.ID, Name: l.Name})
	}
	return s
}

// ErrBackupContents is ReadBackup's answer for a backup that opens but whose contents are not
// what Kith writes.
var ErrBackupContents = errors.New("this backup opens but what it holds is damaged: use another copy of it")

// decodeBackup reads a backup's contents and checks everything Restore will rely on.
func decodeBackup(b []byte) (backupContents, *identity.Identity, error) {
	var c backupContents
	if err := json.Unmarshal(b, &c); err != nil {
		return c, nil, fmt.Errorf("%w (%v)", ErrBackupContents, err)
	}
	bad := func(format string, a ...any) (backupContents, *identity.Identity, error) {
		return c, nil, fmt.Errorf("%w (%s)", ErrBackupContents, fmt.Sprintf(format, a...))
	}
	if c.Version != 1 {
		return c, nil, fmt.Errorf("%w (its contents are version %d)", backup.ErrVersion, c.Version)
	}
	id, err := identity.Parse(c.Identity)
	if err != nil {
		return bad("its identity key: %v", err)
	}
	if c.Lifeline.Version != 1 {
		return bad("its list of communities is version %d", c.Lifeline.Version)
	}
	if len(c.Lifeline.Communities) > maxBackupCommunities || len(c.Communities) > maxBackupCommunities || len(c.Lifeline.Members) > maxLifelineMembers {
		return bad("more communities or members than Kith keeps")
	}
	named := map[string]bool{}
	for _, l := range c.Lifeline.Communities {
		if h, err := community.ParseHash(l.ID); err != nil || h.String() != l.ID || named[l.ID] {
			return bad("a community's ID %q (or twice)", l.ID)
		}
		named[l.ID] = true
	}
	for _, m := range c.Lifeline.Members {
		for _, id := range m.Communities {
			if !named[id] {
				return bad("a member of a community it does not list")
			}
		}
	}
	invites := 0
	listed := map[string]bool{}
	for _, bc := range c.Communities {
		if !named[bc.ID] || listed[bc.ID] {
			return bad("settings for a community it does not list, or twice")
		}
		listed[bc.ID] = true
		for name, v := range bc.Prefs {
			if !slices.Contains(app.BackedUpPrefs, name) || len(v) > maxBackupPref {
				return bad("a preference %q", name)
			}
		}
		invites += len(bc.Invites)
		for _, text := range bc.Invites {
			inv, err := invite.Parse(text)
			if err != nil {
				return bad("an invite it issued: %v", err)
			}
			if community.Hash(inv.Community).String() != bc.ID {
				return bad("an invite to another community than the one it is listed under")
			}
		}
	}
	if invites > maxBackupInvites {
		return bad("%d invites", invites)
	}
	for k, v := range c.Settings {
		if !settingOK(k, v) {
			delete(c.Settings, k) // a newer Kith's setting, or not of its type: not this one's to write
		}
	}
	return c, id, nil
}

// A Backup is a backup file read back, ready to restore.
type Backup struct {
	c  backupContents
	id *identity.Identity
}

// ReadBackup opens a backup file with its passphrase and checks what it holds; the errors wrap
// app/backup's (a wrong passphrase, a damaged, cut or newer file) or ErrBackupContents.
func ReadBackup(file []byte, passphrase string) (*Backup, error) {
	plain, err := backup.Open(file, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	c, id, err := decodeBackup(plain)
	if err != nil {
		return nil, err
	}
	return &Backup{c: c, id: id}, nil
}

// Holds says what the backup holds.
func (r *Backup) Holds() BackedUp { return r.c.summary() }

// RestoreOptions say how Restore goes.
type RestoreOptions struct {
	// Replace moves the data folder's contents aside (storage.MoveAside: nothing is deleted)
	// when it holds another identity; without it Restore refuses such a folder.
	Replace bool
	// Offline puts the identity and the rest in place but syncs nothing: the communities come
	// back from their members when Kith next runs on the folder (lifelineLoop).
	Offline bool
	// PerMember bounds the sync from each member (0: a minute).
	PerMember time.Duration
	// Progress gets a sentence per step, when not nil.
	Progress func(string)
}

// Restored says what Restore did.
type Restored struct {
	// MovedAside is where the folder's earlier contents went (Replace); empty when none moved.
	MovedAside string
	// Same: the folder held this identity already; what it held stays and the backup adds to it.
	Same bool
	// Synced says the communities were synced (not Offline); Resync says how it went.
	Synced bool
	Resync ResyncResult
}

// ErrOtherIdentity is Restore's refusal of a data folder that holds another install's identity
// (or a store with no key): the backup would take its place.
var ErrOtherIdentity = errors.New("this data folder holds another identity")

// Restore puts backup r into data folder dir: the identity key, the lifeline, its choices for
// each community, the invites it issued and the settings (when the folder has none); then,
// unless ro.Offline, it syncs every community from the members the backup names (as Resync
// does), each for at most ro.PerMember. A folder holding the same identity is added to, not
// replaced. A folder holding another identity is refused with ErrOtherIdentity unless
// ro.Replace; a folder Kith runs on, with storage.ErrAlreadyRunning. The network starts with
// opts (no control socket).
func Restore(ctx context.Context, dir string, r *Backup, opts Options, ro RestoreOptions) (Restored, error) {
	var res Restored
	say := func(format string, a ...any) {
		if ro.Progress != nil {
			ro.Progress(fmt.Sprintf(format, a...))
		}
	}
	if err := CheckFolder(dir, true); err != nil {
		return res, err
	}
	keyLost, err := r.ownStoreWithoutKey(dir, opts)
	if err != nil {
		return res, err
	}
	// From the check to the last file written, under the folder's lock: no Kith starting
	// meanwhile makes a key of its own or reads half of what is put back.
	err = storage.Locked(dir, func(h *storage.Held) error {
		var other string // why the folder is another install's ("" when it is not)
		id, err := identity.Load(dir, opts.Logger)
		switch {
		case err == nil && id.PublicKey().Equal(r.id.PublicKey()):
			res.Same = true
		case err == nil:
			pid, _ := PeerID(id.PublicKey())
			other = fmt.Sprintf("%s, not the backup's %s", shortID(pid), shortID(r.Holds().PeerID))
		case errors.Is(err, identity.ErrMissing):
			had, err := storage.Exists(dir)
			if err != nil {
				return err
			}
			if had && !keyLost {
				other = "a store of communities the backup does not name, with no identity key"
			}
			res.Same = had && keyLost
		default:
			other = "an identity key that does not load (" + app.Sentence(err) + ")"
		}
		if other != "" {
			if !ro.Replace {
				return fmt.Errorf("%w (%s): restore into a new folder (--data), or pass --replace to move what is here aside (nothing is deleted)", ErrOtherIdentity, other)
			}
			if res.MovedAside, err = h.MoveAside(); err != nil {
				return err
			}
			say("what the folder held is kept in %s", res.MovedAside)
		}
		// The floor first: whatever stops the restore after this, the key never goes in without
		// it (Open applies it to the store).
		if err := r.writeFloor(dir); err != nil {
			return err
		}
		if _, err := os.Lstat(filepath.Join(dir, identity.FileName)); errors.Is(err, fs.ErrNotExist) {
			if err := identity.Install(dir, r.id, opts.Logger); err != nil {
				return err
			}
		}
		if err := r.writeLifeline(dir, res.Same); err != nil {
			return err
		}
		return r.writeSettings(dir)
	})
	if err != nil {
		return res, err
	}
	opts.NoControl = true
	p, err := Open(dir, opts)
	if err != nil {
		return res, err
	}
	err = r.restoreStore(p)
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	say("the identity %s is back, in %s", shortID(r.Holds().PeerID), plural(len(r.c.Lifeline.Communities), "community", "communities"))
	if ro.Offline || len(r.c.Lifeline.Communities) == 0 {
		return res, nil
	}
	per := ro.PerMember
	if per <= 0 {
		per = time.Minute
	}
	res.Synced = true
	res.Resync, err = Resync(ctx, dir, opts, per, ro.Progress)
	if err != nil {
		return res, fmt.Errorf("the identity is back, but the sync stopped (%w): start Kith here, or run the restore again, to finish it", err)
	}
	return res, nil
}

// ownStoreWithoutKey says whether dir holds a store but no key file, and every community in
// the store is one the backup names: this identity's store, whose key was lost (the restore
// puts the key back and keeps the store).
func (r *Backup) ownStoreWithoutKey(dir string, opts Options) (bool, error) {
	if _, err := os.Lstat(filepath.Join(dir, identity.FileName)); !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if had, err := storage.Exists(dir); err != nil || !had {
		return false, err
	}
	st, err := storage.Open(dir, storage.Options{Logger: opts.Logger, MinFreeBytes: opts.MinFreeBytes})
	if err != nil {
		return false, err
	}
	defer st.Close()
	cs, err := st.Communities()
	if err != nil {
		return false, err
	}
	named := map[string]bool{}
	for _, c := range r.c.Lifeline.Communities {
		named[c.ID] = true
	}
	for _, c := range cs {
		if !named[community.Hash(c).String()] {
			return false, nil
		}
	}
	return true, nil
}

// RestoreFloorFile holds, from a restore until the next Open applies it to the store, the own
// event numbers below which the restored install must not write (app.OwnFloorPref): it is
// written before the key, so a restore cut short anywhere after cannot leave the key without it.
const RestoreFloorFile = "restore-floor.json"

type restoreFloor struct {
	Version int                   `json:"version"`
	Since   int64                 `json:"since"` // Unix seconds
	Floors  []floorOfOneCommunity `json:"floors"`
}

type floorOfOneCommunity struct {
	ID   string   `json:"id"`
	Seq  uint64   `json:"seq"`
	From []string `json:"from"` // the other members the backup named there
}

// writeFloor writes RestoreFloorFile for the backup's communities where this install had
// written and other members may hold its latest events (none named: no floor; nobody to
// contradict).
func (r *Backup) writeFloor(dir string) error {
	f := restoreFloor{Version: 1, Since: time.Now().Unix(), Floors: []floorOfOneCommunity{}}
	me := r.Holds().PeerID
	for _, bc := range r.c.Communities {
		var others []string
		for _, m := range r.c.Lifeline.Members {
			if slices.Contains(m.Communities, bc.ID) && m.PeerID != me && !strings.Contains(m.PeerID, ",") {
				others = append(others, m.PeerID)
			}
		}
		if bc.OwnSeq > 0 && len(others) > 0 {
			f.Floors = append(f.Floors, floorOfOneCommunity{ID: bc.ID, Seq: bc.OwnSeq, From: others})
		}
	}
	if len(f.Floors) == 0 {
		return nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return storage.WriteFileAtomic(filepath.Join(dir, RestoreFloorFile), b)
}

// applyRestoreFloor puts the floors of RestoreFloorFile in dir into the store (a floor there
// already stays when higher), then removes the file.
func applyRestoreFloor(dir string, ls localstore.Store) error {
	path := filepath.Join(dir, RestoreFloorFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var f restoreFloor
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		return fmt.Errorf("peer: %s is damaged (%v): restore the backup again", path, err)
	}
	for _, fl := range f.Floors {
		id, err := community.ParseHash(fl.ID)
		if err != nil {
			continue
		}
		cur, err := ls.Pref(id, app.OwnFloorPref)
		if err != nil {
			return err
		}
		if n, _ := strconv.ParseUint(cur, 10, 64); n >= fl.Seq {
			continue
		}
		err = errors.Join(ls.SetPref(id, app.OwnFloorPref, strconv.FormatUint(fl.Seq, 10)),
			ls.SetPref(id, app.OwnFloorFromPref, strings.Join(fl.From, ",")),
			ls.SetPref(id, app.OwnFloorSincePref, strconv.FormatInt(f.Since, 10)))
		if err != nil {
			return err
		}
	}
	if err := ls.S.Sync(); err != nil { // the floors durable before the file goes
		return err
	}
	return os.Remove(path)
}

// writeLifeline writes the backup's lifeline into dir, with what the folder's own lifeline
// names when it is the same identity's (merge).
func (r *Backup) writeLifeline(dir string, merge bool) error {
	l := r.c.Lifeline
	if merge {
		if old, err := readLifeline(dir); err == nil {
			l = mergeLifelines(old, l)
		}
	}
	b, err := json.MarshalIndent(l, "", " ")
	if err != nil {
		return err
	}
	return storage.WriteFileAtomic(filepath.Join(dir, LifelineFile), b)
}

// mergeLifelines is a with the communities and members of b it lacks.
func mergeLifelines(a, b lifeline) lifeline {
	for _, c := range b.Communities {
		if !slices.ContainsFunc(a.Communities, func(x lifelineCommunity) bool { return x.ID == c.ID }) {
			a.Communities = append(a.Communities, c)
		}
	}
	for _, m := range b.Members {
		if !slices.ContainsFunc(a.Members, func(x lifelineMember) bool { return x.PeerID == m.PeerID }) && len(a.Members) < maxLifelineMembers {
			a.Members = append(a.Members, m)
		}
	}
	return a
}

// writeSettings writes the backup's settings into dir when the folder has no settings file
// (a folder's own settings are never replaced).
func (r *Backup) writeSettings(dir string) error {
	if len(r.c.Settings) == 0 {
		return nil
	}
	path := filepath.Join(dir, SettingsFile)
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	b, err := json.MarshalIndent(r.c.Settings, "", "  ")
	if err != nil {
		return err
	}
	return storage.WriteFileAtomic(path, b)
}

// restoreStore puts the backup's choices, invites and address book into p's store: a choice
// made here already stays, and an invite listed already is not listed twice.
func (r *Backup) restoreStore(p *Peer) error {
	ls := localstore.Store{S: p.Store}
	for _, bc := range r.c.Communities {
		id, err := community.ParseHash(bc.ID)
		if err != nil {
			continue
		}
		for name, v := range bc.Prefs {
			if cur, err := ls.Pref(id, name); err != nil {
				return err
			} else if cur == "" {
				if err := ls.SetPref(id, name, v); err != nil {
					return err
				}
			}
		}
		have, err := ls.Issued(id)
		if err != nil {
			return err
		}
		for _, text := range bc.Invites {
			if !slices.Contains(have, text) {
				if err := ls.AddIssued(id, text); err != nil {
					return err
				}
			}
		}
	}
	for _, m := range r.c.Lifeline.Members {
		var cs []community.Hash
		for _, c := range m.Communities {
			if id, err := community.ParseHash(c); err == nil {
				cs = append(cs, id)
			}
		}
		p.remember(m.PeerID, m.fullAddrs(), cs, false)
	}
	return nil
}

// BackupAnswer is the control socket's answer to "backup": the file, for kithd to write where
// its caller said (a running peer's sandbox may not reach there), and what it holds.
type BackupAnswer struct {
	File        []byte           `json:"file"`
	PeerID      string           `json:"peer_id"`
	Made        time.Time        `json:"made"`
	Communities []NamedCommunity `json:"communities"`
}

func (p *Peer) doBackup(req Request) (Result, error) {
	if req.Passphrase == "" {
		return Result{}, usage("backup: the passphrase is read from the terminal or standard input")
	}
	file, held, err := p.Backup(req.Passphrase)
	if errors.Is(err, backup.ErrWeakPassphrase) {
		return Result{}, usage("backup: %s", err)
	}
	if err != nil {
		return Result{}, err
	}
	return jsonResult("", BackupAnswer{File: file, PeerID: held.PeerID, Made: held.Made, Communities: held.Communities})
}
