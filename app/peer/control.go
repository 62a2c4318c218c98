package peer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The control socket lets kithd's commands reach the peer that runs on a data folder (kithd run
// or the desktop app hold its store). It is a Unix socket in the data folder, owner-only (the
// folder is 0700 and the socket 0600). One connection carries one request and one answer, each
// a line of JSON:
//
//	→ {"cmd":"post","channel":"general","text":"hello"}
//	← {"ok":true,"result":{"text":"…","json":{…}}}   or   {"ok":false,"error":"…","usage":false}

// ControlSocket is the socket's file name in the data folder.
const ControlSocket = "kithd.sock"

const (
	maxControlLine  = 1 << 20 // a request: what people type is bounded far below (community.Limits)
	maxAnswer       = 1 << 30 // an answer: 10,000 messages of the longest text fit many times over
	maxControlConns = 16      // commands served at once
	answerTimeout   = time.Minute
)

type controlAnswer struct {
	OK       bool   `json:"ok"`
	Result   Result `json:"result"`
	Error    string `json:"error,omitempty"`
	Usage    bool   `json:"usage,omitempty"`
	Progress string `json:"progress,omitempty"` // set in a progress line only (see progressLine)
}

// progressLine is what a request with "progress":true gets before its answer, a line each:
// {"progress":"…"}.
type progressLine struct {
	Progress string `json:"progress"`
}

type controlServer struct {
	ln    net.Listener
	path  string
	stop  context.CancelFunc
	conns sync.WaitGroup
	once  sync.Once
}

// listenControl starts the control socket of p's data folder; this process holds the folder's
// store, so a socket file left by a crash is stale and is replaced.
func listenControl(p *Peer) (*controlServer, error) {
	path := filepath.Join(p.Dir, ControlSocket)
	if len(path) > 100 {
		return nil, fmt.Errorf("the data folder's path is too long for a control socket (%d characters; at most ~100)", len(path))
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &controlServer{ln: ln, path: path, stop: stop}
	slots := make(chan struct{}, maxControlConns)
	c.conns.Add(1)
	go func() {
		defer c.conns.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed
			}
			if err := checkCaller(conn); err != nil {
				p.log.Warn("control socket: refused a connection", "err", err)
				conn.Close()
				continue
			}
			select {
			case slots <- struct{}{}:
			default:
				conn.Close() // a runaway script: the peer keeps serving its own work
				continue
			}
			c.conns.Add(1)
			go func() {
				defer c.conns.Done()
				defer func() { <-slots }()
				defer conn.Close()
				c.serve(ctx, p, conn)
			}()
		}
	}()
	return c, nil
}

func (c *controlServer) serve(ctx context.Context, p *Peer, conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReaderSize(conn, maxControlLine).ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) && (!errors.Is(err, io.EOF) || len(line) == 0) {
		return // nothing came (a request without its newline is still answered)
	}
	// Progress lines and the answer share the connection: one writer at a time, nothing after
	// the answer.
	var (
		wmu      sync.Mutex
		answered bool
	)
	// The answer streams through a buffer as it is encoded: its size has no bound of its own.
	w := bufio.NewWriterSize(conn, 64<<10)
	enc := json.NewEncoder(w)
	send := func(v any, last bool) {
		wmu.Lock()
		defer wmu.Unlock()
		if answered {
			return
		}
		answered = last
		_ = conn.SetWriteDeadline(time.Now().Add(answerTimeout))
		if enc.Encode(v) == nil { // one line: Encode ends it with '\n'
			_ = w.Flush()
		}
	}
	write := func(ans controlAnswer, last bool) { send(ans, last) }
	writeLine := func(l progressLine) { send(l, false) }
	req, err := decodeRequest(line)
	if err != nil {
		write(controlAnswer{Error: err.Error(), Usage: true}, true)
		return
	}
	// A command lives as long as its client waits (a join takes up to its timeout).
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		buf := make([]byte, 1)
		_ = conn.SetReadDeadline(time.Time{})
		_, _ = conn.Read(buf) // returns when the client goes away
		cancel()
	}()
	var progress func(string)
	if req.Progress {
		progress = func(line string) { writeLine(progressLine{Progress: line}) }
	}
	res, err := p.DoWithProgress(cctx, req, progress)
	ans := controlAnswer{OK: err == nil, Result: res}
	if err != nil {
		var u *UsageError
		ans.Error, ans.Usage = err.Error(), errors.As(err, &u)
	}
	write(ans, true)
}

// Close stops accepting, ends the commands under way and removes the socket file. It is safe
// to call twice.
func (c *controlServer) Close() error {
	var err error
	c.once.Do(func() {
		err = c.ln.Close()
		c.stop()
		c.conns.Wait()
		_ = os.Remove(c.path)
	})
	return err
}

// ErrNoControl is returned by Call when no running peer serves the data folder.
var ErrNoControl = errors.New("peer: no running Kith serves this data folder")

// Call sends one command to the peer running on data folder dir. It returns ErrNoControl when
// none runs there, a *UsageError for a usage mistake, and the command's own error otherwise.
func Call(ctx context.Context, dir string, req Request) (Result, error) {
	return CallWithProgress(ctx, dir, req, nil)
}

// CallWithProgress is Call for a command that says what it is doing while it waits (join):
// progress gets each sentence, when not nil.
func CallWithProgress(ctx context.Context, dir string, req Request, progress func(string)) (Result, error) {
	req.Progress = progress != nil
	path := filepath.Join(dir, ControlSocket)
	// Nothing is sent to a socket this user does not own: another user's could be listening for
	// the recovery words.
	if err := checkSocketOwner(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Result{}, fmt.Errorf("%w (%v)", ErrNoControl, err)
		}
		return Result{}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return Result{}, fmt.Errorf("%w (%v)", ErrNoControl, err)
	}
	defer conn.Close()
	if err := checkServer(conn); err != nil {
		return Result{}, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	b, _ := json.Marshal(req)
	if len(b) >= maxControlLine {
		return Result{}, &UsageError{Msg: fmt.Sprintf("this command is %d bytes long: the most is %d", len(b), maxControlLine-1)}
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return Result{}, fmt.Errorf("sending the command to the running Kith: %w", err)
	}
	ans, err := readAnswer(conn, progress)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, err
	}
	if !ans.OK {
		if ans.Usage {
			return ans.Result, &UsageError{Msg: ans.Error}
		}
		return ans.Result, errors.New(ans.Error)
	}
	return ans.Result, nil
}

// decodeRequest reads one request line of the control socket.
func decodeRequest(line []byte) (Request, error) {
	var req Request
	if len(line) > maxControlLine {
		return Request{}, fmt.Errorf("a command of %d bytes: the most is %d", len(line), maxControlLine)
	}
	if err := json.Unmarshal(line, &req); err != nil {
		return Request{}, fmt.Errorf("a damaged command (%v): update kithd to the version of the Kith that runs", err)
	}
	return req, nil
}

// readAnswer reads what the control socket sends back: progress lines, given to progress (when
// not nil), then the answer. An answer streams in whole, whatever its size up to maxAnswer.
func readAnswer(r io.Reader, progress func(string)) (controlAnswer, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxAnswer))
	for {
		var ans controlAnswer
		if err := dec.Decode(&ans); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
			return controlAnswer{}, fmt.Errorf("the running Kith did not answer (it may be shutting down): %w", err)
		} else if err != nil {
			var syn *json.SyntaxError
			var typ *json.UnmarshalTypeError
			if errors.As(err, &syn) || errors.As(err, &typ) {
				return controlAnswer{}, fmt.Errorf("the running Kith sent a damaged answer (%v): update kithd to its version", err)
			}
			return controlAnswer{}, fmt.Errorf("the running Kith did not answer (it may be shutting down): %w", err)
		}
		if ans.Progress == "" || ans.OK || ans.Error != "" {
			return ans, nil
		}
		if progress != nil {
			progress(ans.Progress)
		}
	}
}
