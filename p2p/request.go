package p2p

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Request/response streams (the join and sync protocols ride on them): the asker opens a stream,
// writes one frame and reads one answer; the stream is then closed.
//
//	request  = uvarint(len) | bytes
//	answer   = status[1] | uvarint(len) | bytes     status 0: the answer; 1: a refusal, bytes are
//	                                                a sentence for a person; 2: the peer cannot
//	                                                answer now (try again later), bytes say why
const (
	// DefaultRequestTimeout bounds a whole request when ctx has no earlier deadline.
	DefaultRequestTimeout = 30 * time.Second
	statusOK              = 0
	statusRefused         = 1
	statusUnavailable     = 2
	maxSentence           = 64 << 10 // a refusal's or a "not now"'s text, at most
)

// ErrRefused is what a RefusedError matches with errors.Is.
var ErrRefused = errors.New("p2p: the peer refused")

// RefusedError is a handler's refusal: the peer answered, and said no, in words.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Refused marks the error as an answer, not a failure to reach the peer (callers that do not
// import p2p test for it with an interface).
func (e *RefusedError) Refused() bool { return true }

// UnavailableError is a handler's "not now": the peer answered that it cannot serve the request
// at the moment (it lacks a key, its disk failed, ...), in words. Unlike a refusal, asking again
// later, or another peer, may work.
type UnavailableError struct{ Reason string }

func (e *UnavailableError) Error() string { return e.Reason }

// Unavailable marks the error, for callers that do not import p2p.
func (e *UnavailableError) Unavailable() bool { return true }

// Handler answers one request on a protocol. from is the asking peer's Ed25519 public key (its
// peer ID's key), which is also its member key: a handler checks membership itself. An error
// reaches the asker by its kind, found in its chain (errors.As) by a method returning true:
//
//   - Refused() bool: a refusal, final; its text is sent, so it must be a sentence fit for the
//     asker. The asker gets a RefusedError.
//   - Unavailable() bool: "not now"; its text is sent. The asker gets an UnavailableError.
//   - ResetStream() bool: the stream is reset with no answer; the asker gets a plain error. Use
//     it for outsiders, who deserve no sentence.
//   - anything else is this peer's own trouble (its disk, a bug): it is logged here, and the
//     asker is told only that the peer cannot answer now (an UnavailableError), never the text.
//
// It is an alias, so that packages declaring the same function type need not import p2p.
type Handler = func(ctx context.Context, from ed25519.PublicKey, req []byte) ([]byte, error)

// Handle serves protocol proto with h: requests over maxReq bytes are refused unread. The handler
// runs with a context that ends with the node or after DefaultRequestTimeout. Its error is sent
// as a refusal, or resets the stream (see Handler).
func (n *Node) Handle(proto string, maxReq int, h Handler) {
	n.HandleStream(proto, maxReq, func(ctx context.Context, from ed25519.PublicKey, req []byte) (func(io.Writer) error, error) {
		resp, err := h(ctx, from, req)
		if err != nil {
			return nil, err
		}
		return func(w io.Writer) error {
			if _, err := w.Write(binary.AppendUvarint(nil, uint64(len(resp)))); err != nil {
				return err
			}
			_, err := w.Write(resp)
			return err
		}, nil
	})
}

// A StreamHandler answers one request with a stream of bytes: it checks the request and returns
// the function that writes the answer as it goes (a large answer, sent while it is read from the
// disk), or an error, which reaches the asker as a Handler's does. A write that fails, or an
// error from the function, resets the stream: the asker never takes a cut answer for a whole one.
type StreamHandler = func(ctx context.Context, from ed25519.PublicKey, req []byte) (func(w io.Writer) error, error)

// HandleStream serves protocol proto with h, as Handle does; the answer is status 0 and then the
// bytes h writes, up to the end of the stream (RequestStream reads it).
func (n *Node) HandleStream(proto string, maxReq int, h StreamHandler) {
	n.host.SetStreamHandler(protocol.ID(proto), func(s network.Stream) {
		defer s.Close()
		ctx, cancel := context.WithTimeout(n.ctx, DefaultRequestTimeout)
		defer cancel()
		_ = s.SetDeadline(time.Now().Add(DefaultRequestTimeout))
		from, err := peerKey(s.Conn().RemotePeer())
		if err != nil {
			_ = s.Reset()
			return
		}
		r := bufio.NewReader(s)
		req, err := readFrame(r, maxReq)
		if err != nil {
			n.log.Debug("bad request", "proto", proto, "peer", s.Conn().RemotePeer(), "err", err)
			_ = s.Reset()
			return
		}
		write, herr := h(ctx, from, req)
		if herr == nil {
			w := bufio.NewWriterSize(s, 64<<10)
			err := w.WriteByte(statusOK)
			if err == nil {
				err = write(w)
			}
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				n.log.Debug("an answer was cut short", "proto", proto, "peer", s.Conn().RemotePeer(), "err", err)
				_ = s.Reset()
			}
			return
		}
		if resetStream(herr) {
			n.log.Debug("request answered with a reset", "proto", proto, "peer", s.Conn().RemotePeer(), "err", herr)
			_ = s.Reset()
			return
		}
		var status byte
		var resp []byte
		switch {
		case refused(herr):
			status, resp = statusRefused, []byte(herr.Error())
		case unavailable(herr):
			status, resp = statusUnavailable, []byte(herr.Error())
		default:
			n.log.Warn("a request could not be answered", "proto", proto, "peer", s.Conn().RemotePeer(), "err", herr)
			status, resp = statusUnavailable, []byte(cannotAnswer)
		}
		if _, err := s.Write(frame(status, resp)); err != nil {
			_ = s.Reset()
		}
	})
}

// Request asks peer (a peer ID in text form, already connected or known to the peerstore) on
// protocol proto and returns its answer, at most maxResp bytes. A refusal comes back as an error
// wrapping ErrRefused with the peer's sentence.
func (n *Node) Request(ctx context.Context, peerID, proto string, req []byte, maxResp int) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
	}
	s, r, stop, err := n.ask(ctx, peerID, proto, req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	defer stop()
	status, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("p2p: %s from %s: no answer: %w", proto, short(peerID), deadlineOr(ctx, err))
	}
	if status != statusOK {
		return nil, n.notOK(ctx, peerID, proto, status, r)
	}
	body, err := readFrame(r, maxResp)
	if err != nil {
		return nil, fmt.Errorf("p2p: %s from %s: %w", proto, short(peerID), deadlineOr(ctx, err))
	}
	return body, nil
}

// ask opens a stream of proto to peer and sends req; the stream is reset when ctx ends until
// stop is called. The caller closes the stream.
func (n *Node) ask(ctx context.Context, peerID, proto string, req []byte) (network.Stream, *bufio.Reader, func() bool, error) {
	if n.isClosed() {
		return nil, nil, nil, ErrClosed
	}
	id, err := peer.Decode(peerID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("p2p: request: %q is not a peer ID: %w", peerID, err)
	}
	s, err := n.host.NewStream(ctx, id, protocol.ID(proto))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("p2p: open %s to %s (is the peer reachable and running this version?): %w", proto, short(peerID), err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	fail := func(err error) (network.Stream, *bufio.Reader, func() bool, error) {
		stop()
		_ = s.Close()
		return nil, nil, nil, fmt.Errorf("p2p: send %s to %s: %w", proto, short(peerID), err)
	}
	if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(req))), req...)); err != nil {
		return fail(err)
	}
	if err := s.CloseWrite(); err != nil {
		return fail(err)
	}
	return s, bufio.NewReaderSize(s, 64<<10), stop, nil
}

// notOK is the error of an answer whose status is not 0: its sentence, read from r.
func (n *Node) notOK(ctx context.Context, peerID, proto string, status byte, r *bufio.Reader) error {
	body, err := readFrame(r, maxSentence)
	if err != nil {
		return fmt.Errorf("p2p: %s from %s: %w", proto, short(peerID), deadlineOr(ctx, err))
	}
	switch status {
	case statusRefused:
		return &RefusedError{Reason: string(body)}
	case statusUnavailable:
		return &UnavailableError{Reason: string(body)}
	}
	return fmt.Errorf("p2p: %s from %s: unknown answer status %d", proto, short(peerID), status)
}

// RequestStream asks peer on protocol proto (a HandleStream) and returns its answer as a
// reader, to be read to its end and closed; the answer is whole when the reader reaches io.EOF
// (a cut answer ends in another error). A refusal comes back as Request's does. ctx bounds the
// whole exchange, the reading included.
func (n *Node) RequestStream(ctx context.Context, peerID, proto string, req []byte) (io.ReadCloser, error) {
	s, r, stop, err := n.ask(ctx, peerID, proto, req)
	if err != nil {
		return nil, err
	}
	status, err := r.ReadByte()
	if err != nil {
		err = fmt.Errorf("p2p: %s from %s: no answer: %w", proto, short(peerID), deadlineOr(ctx, err))
	} else if status != statusOK {
		err = n.notOK(ctx, peerID, proto, status, r) // a refusal comes back as Request's does
	}
	if err != nil {
		stop()
		_ = s.Close()
		return nil, err
	}
	return &answerReader{r: r, s: s, ctx: ctx, stop: func() { stop() }}, nil
}

// answerReader is a streamed answer; Close closes its stream.
type answerReader struct {
	r    *bufio.Reader
	s    network.Stream
	ctx  context.Context
	stop func()
	once sync.Once
}

func (a *answerReader) Read(p []byte) (int, error) {
	k, err := a.r.Read(p)
	if err != nil && err != io.EOF {
		err = deadlineOr(a.ctx, err)
	}
	return k, err
}

func (a *answerReader) Close() error {
	a.once.Do(func() {
		a.stop()
		_ = a.s.Close()
	})
	return nil
}

// resetStream reports whether a handler's error asks for the stream to be reset (see Handler).
func resetStream(err error) bool {
	var r interface{ ResetStream() bool }
	return errors.As(err, &r) && r.ResetStream()
}

// cannotAnswer is what the asker learns of a handler's error that is not meant for it.
const cannotAnswer = "this peer could not answer now: Kith asks again later, or another member"

// refused reports whether a handler's error is a refusal meant for the asker (see Handler).
func refused(err error) bool {
	var r interface{ Refused() bool }
	return errors.As(err, &r) && r.Refused()
}

// unavailable reports whether a handler's error says "not now" (see Handler).
func unavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}

// deadlineOr says that ctx ended when it did (the stream was reset because of it), else err.
func deadlineOr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

func frame(status byte, b []byte) []byte {
	out := make([]byte, 0, 1+binary.MaxVarintLen64+len(b))
	out = append(out, status)
	out = binary.AppendUvarint(out, uint64(len(b)))
	return append(out, b...)
}

// readFrame reads uvarint(len) | bytes of at most max bytes, refusing a larger length unread.
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("reading a frame: %w", err)
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("a frame of %d bytes is over the %d-byte limit", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("reading a frame: %w", err)
	}
	return b, nil
}

// peerKey is the Ed25519 public key behind a peer ID.
func peerKey(id peer.ID) (ed25519.PublicKey, error) {
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return nil, err
	}
	raw, err := pk.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("p2p: peer %s does not have an Ed25519 key", id)
	}
	return ed25519.PublicKey(raw), nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[len(id)-8:]
	}
	return id
}

// KeyOf returns the Ed25519 public key of a peer ID (in text form): the key a peer proves in
// every connection, and Kith's member key.
func (n *Node) KeyOf(peerID string) (ed25519.PublicKey, error) { return KeyOfID(peerID) }

// KeyOfID is Node.KeyOf with no node (an invite made offline needs it too).
func KeyOfID(peerID string) (ed25519.PublicKey, error) {
	id, err := peer.Decode(peerID)
	if err != nil {
		return nil, fmt.Errorf("p2p: %q is not a peer ID: %w", peerID, err)
	}
	return peerKey(id)
}
