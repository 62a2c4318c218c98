// Package invite implements Kith invites: signed capabilities that let a
// person join a private community.
//
// An owner or moderator issues an invite ([Issue]); it travels as one line of
// text ([Invite.String], [Parse]); the joiner proves it holds the invite's
// secret by signing with the key derived from it ([Invite.ProveJoin]), and the
// admitter, and later any peer offline, re-checks the join ([VerifyJoin],
// [Check]). The signed part of an invite ([Signed]) is embedded in the join
// event exactly as it was signed ([Signed.Encode], [Decode]).
//
// This package imports only the standard library. It must never import other
// Kith packages: app/community imports it to re-check joins in its fold, and
// nothing here reads the clock (callers pass the time to [Check]).
//
// # Text format (version 1)
//
//	text    = "kith1" base32lower(payload)
//	payload = 0x01 | uvarint(len(Raw)) | Raw | sig[64] | secret[32] | sum[4]
//	sum     = SHA-256(everything before sum)[0:4]
//	sig     = Ed25519(issuer, "kith-invite-v1\x00" || Raw)
//	base32  = RFC 4648 alphabet in lower case (a-z, 2-7), no padding
//
// The text uses only [a-z0-9], so chat apps and mail neither wrap it at a
// hyphen nor "smarten" it. The trailing bits of the last base32 character are
// zero: each payload has exactly one text. A version-1 invite is at most
// [MaxInviteLen] characters; [Parse] refuses any input longer than
// [MaxTextLen] before looking at it.
//
// # Raw: the canonical capability encoding
//
// All integers are big-endian; uvarint is the minimal unsigned LEB128 of
// encoding/binary; times are Unix seconds, 0 meaning "not set".
//
//	0x01                       capability encoding version
//	community[32]
//	uvarint(len) name          1..100 bytes of UTF-8, no control characters
//	issuer[32]                 Ed25519 public key
//	role[1]                    1 member, 2 moderator (0 and 3 decode; Check refuses them)
//	max_uses[4]                0 = unlimited
//	not_before[8]              int64, 0 = valid from the start
//	expires[8]                 int64, 0 = never; if both set, expires > not_before
//	id[16]                     random
//	invite_key[32]             Ed25519 public key derived from the secret
//	count[1]                   0..8 bootstrap addresses, then for each:
//	uvarint(len) addr          1..256 bytes of printable ASCII starting with "/"
//
// Decoding is strict: a Raw is accepted only if encoding the decoded
// capability gives back the same bytes, so every capability has exactly one
// Raw.
//
// # Invite key and join proof
//
//	invite key = Ed25519 key from seed HKDF-SHA256(ikm = secret, salt = none, info = "kith invite key v1", 32 bytes)
//	proof      = Ed25519(invite key, "kith-invite-join-v1\x00" || community[32] || id[16] || joiner[32] || joiner_x25519[32] || admitter[32])
package invite
