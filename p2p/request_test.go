package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestRequestResponse(t *testing.T) {
	a, b := newNode(t), newNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var seen ed25519.PublicKey
	b.Handle("/kith/test/echo/1", 1024, func(_ context.Context, from ed25519.PublicKey, req []byte) ([]byte, error) {
		seen = from
		if string(req) == "no" {
			return nil, no{errors.New("you are not a member of this community")}
		}
		if string(req) == "disk" {
			return nil, errors.New("storage: read /home/ana/.config/kith/db/000042.sst: input/output error")
		}
		if string(req) == "later" {
			return nil, notNow{errors.New("this member cannot admit you right now")}
		}
		return append([]byte("echo: "), req...), nil
	})
	if err := a.Connect(ctx, b.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	got, err := a.Request(ctx, b.ID(), "/kith/test/echo/1", []byte("hello"), 1024)
	if err != nil || string(got) != "echo: hello" {
		t.Fatalf("answer %q, %v", got, err)
	}
	akey, _ := peerKey(a.host.ID())
	if !bytes.Equal(seen, akey) {
		t.Fatal("the handler did not learn who asked")
	}
	_, err = a.Request(ctx, b.ID(), "/kith/test/echo/1", []byte("no"), 1024)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not a member") {
		t.Fatalf("refusal: %v", err)
	}
	// "Not now" is neither a refusal nor a failure to reach the peer.
	_, err = a.Request(ctx, b.ID(), "/kith/test/echo/1", []byte("later"), 1024)
	var u *UnavailableError
	if !errors.As(err, &u) || errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "right now") {
		t.Fatalf("not now: %v", err)
	}
	// An error not meant for the asker (a disk error here) is "not now", without its text.
	_, err = a.Request(ctx, b.ID(), "/kith/test/echo/1", []byte("disk"), 1024)
	if !errors.As(err, &u) || errors.Is(err, ErrRefused) || strings.Contains(err.Error(), "sst") || !strings.Contains(err.Error(), "could not answer now") {
		t.Fatalf("a handler's own trouble: %v, want \"not now\" without its text", err)
	}
	// A request over the handler's limit is cut off, not read.
	if _, err := a.Request(ctx, b.ID(), "/kith/test/echo/1", make([]byte, 4096), 1024); err == nil {
		t.Fatal("an oversized request was answered")
	}
	// An answer over the asker's limit is refused.
	if _, err := a.Request(ctx, b.ID(), "/kith/test/echo/1", make([]byte, 1000), 100); err == nil {
		t.Fatal("an oversized answer was accepted")
	}
	// A protocol the peer does not serve fails with a sentence.
	if _, err := a.Request(ctx, b.ID(), "/kith/test/none/1", nil, 10); err == nil {
		t.Fatal("an unknown protocol answered")
	}
}

// A handler that never answers does not hold the asker past its deadline.
func TestRequestDeadline(t *testing.T) {
	a, b := newNode(t), newNode(t)
	block := make(chan struct{})
	defer close(block)
	b.Handle("/kith/test/slow/1", 64, func(ctx context.Context, _ ed25519.PublicKey, _ []byte) ([]byte, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Connect(ctx, b.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	_, err := a.Request(short, b.ID(), "/kith/test/slow/1", []byte("x"), 64)
	var timeout interface{ Timeout() bool }
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &timeout) && timeout.Timeout()) {
		t.Fatalf("a request to a silent peer ended with %v, want its deadline", err)
	}
}

// resetErr asks Handle to reset the stream instead of answering.
type resetErr struct{ reset bool }

func (e resetErr) Error() string     { return "you are not a member" }
func (e resetErr) ResetStream() bool { return e.reset }

// A handler's ResetStream error leaves the asker with no answer and no refusal.
func TestHandlerResetStream(t *testing.T) {
	a, b := newNode(t), newNode(t)
	b.Handle("/kith/test/sync/1", 64, func(_ context.Context, _ ed25519.PublicKey, req []byte) ([]byte, error) {
		switch string(req) {
		case "outsider":
			return nil, fmt.Errorf("sync: %w", resetErr{reset: true})
		case "no-reset":
			return nil, no{resetErr{reset: false}}
		}
		return []byte("ok"), nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	connect(t, a, b)

	_, err := a.Request(ctx, b.ID(), "/kith/test/sync/1", []byte("outsider"), 64)
	var refused *RefusedError
	if err == nil || errors.As(err, &refused) || errors.Is(err, ErrRefused) {
		t.Fatalf("request answered by a reset: err = %v, want a plain error", err)
	}
	if strings.Contains(err.Error(), "not a member") {
		t.Errorf("the handler's sentence reached the asker: %v", err)
	}
	// ResetStream false is an ordinary refusal.
	if _, err := a.Request(ctx, b.ID(), "/kith/test/sync/1", []byte("no-reset"), 64); !errors.As(err, &refused) {
		t.Errorf("ResetStream() false: err = %v, want a RefusedError", err)
	}
	// The connection is still fine.
	if got, err := a.Request(ctx, b.ID(), "/kith/test/sync/1", []byte("member"), 64); err != nil || string(got) != "ok" {
		t.Errorf("request after a reset: %q %v", got, err)
	}
}

// no is a handler's refusal as a package that does not import p2p writes it.
type no struct{ error }

func (no) Refused() bool { return true }

// notNow is a handler's "not now" as a package that does not import p2p writes it.
type notNow struct{ error }

func (notNow) Unavailable() bool { return true }

// A streamed answer reaches the asker as written, to io.EOF; one the handler cannot finish ends
// in an error, never in io.EOF; a refusal before the answer is a RefusedError, as for Request;
// closing a reader halfway lets the handler go.
func TestRequestStream(t *testing.T) {
	a, b := newNode(t), newNode(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	b.HandleStream("/kith/test/stream/1", 64, func(_ context.Context, _ ed25519.PublicKey, req []byte) (func(io.Writer) error, error) {
		switch string(req) {
		case "no":
			return nil, no{errors.New("only members get the community's files")}
		case "cut":
			return func(w io.Writer) error {
				if _, err := w.Write(big[:100<<10]); err != nil {
					return err
				}
				return errors.New("a chunk could not be read")
			}, nil
		}
		return func(w io.Writer) error {
			for i := 0; i < len(big); i += 64 << 10 {
				if _, err := w.Write(big[i : i+64<<10]); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	connect(t, a, b)

	r, err := a.RequestStream(ctx, b.ID(), "/kith/test/stream/1", []byte("all"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("a whole answer: %d bytes, %v", len(got), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// (The reset may overtake the bytes before it: the error comes at once, or after them.)
	r, err = a.RequestStream(ctx, b.ID(), "/kith/test/stream/1", []byte("cut"))
	if err == nil {
		got, err = io.ReadAll(r)
		r.Close()
	}
	if err == nil {
		t.Fatalf("an answer cut short after %d bytes read as whole", len(got))
	}

	if _, err := a.RequestStream(ctx, b.ID(), "/kith/test/stream/1", []byte("no")); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "only members") {
		t.Fatalf("a refusal: %v", err)
	}

	// A reader closed halfway: the handler's writes fail, and the next request is answered.
	r, err = a.RequestStream(ctx, b.ID(), "/kith/test/stream/1", []byte("all"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r, err = a.RequestStream(ctx, b.ID(), "/kith/test/stream/1", []byte("all"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || len(got) != len(big) {
		t.Fatalf("after a reader closed halfway: %d bytes, %v", len(got), err)
	}
	r.Close()
}
