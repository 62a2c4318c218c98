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
// # Text format
//
//	text    = "kith1" base32lower(payload)
//	base32  = RFC 4648 alphabet in lower case (a-z, 2-7), no padding
//	sum     = SHA-256(everything before sum)[0:4]
//	sig     = Ed25519(issuer, "kith-invite-v1\x00" || Raw)
//
// Version 2, which [Issue] makes:
//
//	payload = 0x02 | uvarint(len body) | body | sum[4]
//	body    = Raw without its version byte and its invite key | sig[64] | secret[32] | members
//	members = uvarint n (0..3) | n × (flags[1] | key[32] unless flags = 1 | uvarint k (0..8) | k × entry)
//	entry   = kind[1] | ip4[4] (kind&3 = 1) or ip6[16] (kind&3 = 2) | port[2]   kind&4: TCP, kind&8: QUIC
//	        | kind[1] = 3 | index[1]                                          relayed by member #index
//	        | kind[1] = 4 | key[32] | entry of kind 1 or 2                     relayed by a relay not listed
//
// flags = 1 marks the issuer, whose key the capability holds already. The
// invite key is derived from the secret, so the text leaves it out. The
// members ([Member]) are hints the checksum guards but the issuer does not
// sign: they stay out of the join events, which carry the signed capability
// into the log for good.
//
// Version 1 (read, no longer issued):
//
//	payload = 0x01 | uvarint(len(Raw)) | Raw | sig[64] | secret[32] | sum[4]
//
// The text uses only [a-z0-9], so chat apps and mail neither wrap it at a
// hyphen nor "smarten" it. The trailing bits of the last base32 character are
// zero: each payload has exactly one text. An invite is at most
// [MaxInviteLen] characters; [Parse] refuses any input longer than
// [MaxTextLen] before looking at it.
//
// # Raw: the canonical capability encoding
//
// Version 2: uvarint is the minimal unsigned LEB128 of encoding/binary;
// times are Unix seconds, 0 meaning "not set".
//
//	0x02                       capability encoding version
//	community[32]
//	uvarint(len) name          1..100 bytes of UTF-8, no control characters
//	issuer[32]                 Ed25519 public key
//	role[1]                    1 member, 2 moderator (0 and 3 decode; Check refuses them)
//	uvarint max_uses           0 = unlimited, at most 2^32-1
//	uvarint not_before         0 = valid from the start
//	uvarint expires            0 = never; if both set, expires > not_before
//	id[16]                     random
//	invite_key[32]             Ed25519 public key derived from the secret
//
// Version 1: integers big-endian.
//
//	0x01 | community[32] | uvarint(len) name | issuer[32] | role[1]
//	max_uses[4] | not_before[8] | expires[8] | id[16] | invite_key[32]
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
