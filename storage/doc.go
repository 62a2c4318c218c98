// Package storage is the local Badger store of one Kith install: the signed
// events of each community (opaque envelope bytes plus the few header fields
// needed to index them), a page index per channel, the authority index (the
// membership log), local marks for delta sync, the folded state of each
// community (opaque bytes), the address book of peers, and settings.
//
// It stores records it defines itself and must never import anything under
// github.com/kith-app/kith (no app/..., no p2p): callers copy the header
// fields they need into an Event.
//
// # Data folder
//
//	dir/LOCK   our exclusive lock (flock; LockFileEx on Windows), taken before
//	           Badger opens, so a second Kith gets ErrAlreadyRunning
//	dir/db/    the Badger database
//	dir/MARK   the high-water mark: how many events the store held in each
//	           community (see Damage)
//	dir/damaged-YYYYMMDD-HHMMSS/
//	           a damaged db/ and its MARK, moved there by SetAside
//	dir/blobs/<community>/<blob>
//	           the encrypted files sent with messages, one file each, named by the
//	           hex ID of its manifest
//	dir/blobs/tmp/
//	           files being sealed, renamed into place once whole; cleared by Open
//	dir/blobs/IN-USE
//	           the store is open (or the last run did not close): see Files
//
// # Files
//
// Files sent with messages live outside Badger: kept in Badger, every chunk was copied through
// its log, memtables, flushes and compactions, which held a transfer to a few tens of MiB/s; a
// file of its own for every chunk cost a file made and renamed per 256 KiB (about 110 µs on a
// small VM, most of what a fetch spent beyond hashing). So a blob is one file: a 16-byte header
// (`kithblob`, version 1, 3 zero bytes, the chunk count as 4 bytes big-endian), a byte per chunk
// (1: held), then, from the next 4 KiB boundary, chunk i at i × ChunkSize (256 KiB and the
// AEAD's tag; the last chunk ends the file). One's own file is written in tmp/ as it is sealed,
// fsynced, and renamed under its ID (the ID covers every chunk, so it is known last), its folder
// synced (blobs/ and dir too when the community's folder was made): a file under its ID is
// whole. A file fetched from others is written in place, each chunk before the byte that marks
// it held, and neither is synced (a fetch would wait for the disk at every chunk): after a power
// cut a chunk marked held may read wrong. So Open makes blobs/IN-USE (synced) and a clean Close
// removes it; found at Open, FilesUnchecked says the files are to be checked against their
// hashes (the app does, in the background, and drops what reads wrong), and the mark stays
// until FilesChecked. A chunk cut short reads as ErrDamaged. A file with no whole header (a crash
// while it was made) holds nothing and starts again empty. What changes a blob's file (its
// header, a chunk and its mark, a failed write cut back, a drop) is done under a lock of the
// blob's, so two fetches of one file never undo each other's work; a file open to be written
// that a drop deleted meanwhile is opened again. Blobs are named by their ID, not their chunks'
// hashes, so a copy of a manifest changed in any way is another file and cannot reach the
// original's. OpenBlob and Put refuse a community the store does not hold. Forget renames the
// community's folder into tmp/ under the locks, drops its keys, and deletes the folder after
// releasing them (Open clears what is left); where the rename is refused (Windows, a file in it
// open) it deletes the files in place. On Windows blob files are opened so that they can be
// deleted while open. (Key prefix 0x0C is not used: development builds kept chunks there.)
//
// # Durability
//
// Badger runs with SyncWrites=false. AppendOwn hands its events to one
// committer goroutine that writes whatever is waiting in one transaction and
// calls db.Sync() once before acknowledging every caller: an acknowledged own
// event survives a crash of the process and of the machine. Badger's Sync
// covers only the active write-ahead log, so the committer holds the write
// lock from its transaction through the Sync (no other write can switch logs
// in between), a group always fits one transaction (AppendOwn refuses more at
// once), and an own event already stored by Append is written again so that
// it sits in the synced log. Everything else (Append, state, peers, settings)
// survives a crash of the process (Badger's files are memory-mapped), but a
// power cut may lose the last writes. Append writes in chunks of 512 events,
// releasing the lock in between, so one's own messages never wait behind a
// whole catch-up.
//
// # Full disk
//
// Badger writes through memory-mapped files, and on a full disk such a write
// kills the process (SIGBUS) instead of returning ENOSPC. So Open and every
// write first check the free space of the disk and refuse with ErrDiskFull
// when less
// than Options.MinFreeBytes (128 MiB: room for the flushes and compactions
// Badger runs on its own) is left; an ENOSPC (or its Windows
// equivalent) that still comes back from Badger, even flattened to text, is
// reported as ErrDiskFull too. Reads keep working; what was committed stays.
//
// # Damage
//
// A damaged store is refused with ErrDamaged and one sentence that names the damaged part and says
// what to do; Open never panics, never starts an empty store over a damaged one and never serves
// one that came back smaller. Before Badger opens, Open reads Badger's MANIFEST and opens every
// table it lists, in goroutines of its own that recover (Badger panics on a table cut short, in
// goroutines where nothing can recover, and silently drops a table whose index fails its
// checksum). It refuses a MANIFEST that is missing while the store's other files are there, that
// does not read, that lists a table whose file is gone, or that lists far fewer tables than the
// folder holds (Badger would start an empty store over them and delete the tables it does not
// know); a crash leaves at most a flush's table unlisted. A panic inside Badger while it opens, or
// while a method of the Store reads or writes, becomes ErrDamaged too (a panic in a caller's
// callback goes on as it was).
//
// The high-water mark (dir/MARK, outside Badger) catches the rest: it records the last local
// number of each community, and Open refuses a store holding less ("holds less than it did
// (N of M events)"). The mark only ever records what is durable: Close writes it after Badger
// has flushed everything into synced tables, and while the store is open it is raised every
// Options.MarkEvery (30 s) after events were added, under writeMu, after a db.Sync(), and only
// when no memtable waits to be flushed (one .mem file), so a crash, a kill -9 or a power cut
// never leaves it above what the store comes back with. It is written to a temporary file,
// fsynced and renamed. Options.AcceptLoss opens a store holding less and lowers the mark
// (`kithd resync`); SetAside moves a database that does not open out of the way.
//
// # Key schema
//
// All integers are big-endian uint64 (8 bytes), so byte order is numeric
// order. c is a CommunityID, a an AuthorKey, ch a ChannelID, id an EventID
// (32 bytes each). Every key is built by a typed function in keys.go.
//
//	prefix  key layout                              value
//	0x00    0x00                                    schema version (1 byte, now 1)
//	0x01    0x01 c a seq                            event record (below)
//	0x02    0x02 c id                               pointer: a seq (40 bytes)
//	0x03    0x03 c ch lamport id                    pointer: a seq
//	0x04    0x04 c lamport id                       pointer: a seq
//	0x05    0x05 c local                            pointer: a seq
//	0x06    0x06 c a                                head: seq id (40 bytes)
//	0x07    0x07 c                                  folded state (opaque bytes)
//	0x08    0x08 c                                  community record (below)
//	0x09    0x09 peerID (text bytes)                peer record (below)
//	0x0A    0x0A name (text bytes)                  setting value (opaque bytes)
//	0x0B    0x0B c term lamport id[:8]              nothing: a search posting
//
// 0x01 (eventKey) holds each event's envelope, once. The indexes point at
// (a, seq): 0x02 (eventIDKey) finds an event by ID; 0x03 (pageKey) lists the
// events of a channel in (Lamport, ID) order, read backwards for pages; 0x04
// (authorityKey) lists authority events in (Lamport, ID) order; 0x05
// (localKey) numbers events in the order this install stored them, 1, 2, ...
// per community (delta sync). 0x06 (headKey) holds the highest stored seq of
// each author. 0x08 (communityKey) exists for every community with an event
// or a state, and holds the last local number given. 0x0B (searchKey) is the search index:
// one key per (term, event), the term an 8-byte keyed hash its caller computes (no word in
// clear), read backwards for the newest first; ResolveID finds the event by its ID's first 8
// bytes in 0x02.
//
// Records this package defines start with a version byte (now 1, the peer record 2):
//
//	event record      1 | id (32) | lamport (8) | ch (32, zero: no channel) |
//	                  flags (1; bit 0: authority) | envelope (rest)
//	community record  1 | last local number (8)
//	peer record       2 | uvarint len, peer ID | uvarint n, n × (uvarint len, addr) |
//	                  seen (1: 0 or 1) | if seen: last seen, Unix nanoseconds (8) |
//	                  uvarint n, n × community ID (32) | flags (1; bit 0: relay)
//	                  (version 1, still read, has no flags)
//
// Pointers (index values) and heads are fixed 40-byte layouts without a
// version byte; a change to them is a new schema version (0x00).
//
// Every write that reads before it writes (events and their indexes, heads,
// local marks, community records, state, envelopes) runs under one mutex, so
// Badger's conflict detection is off.
package storage
