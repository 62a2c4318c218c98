package peer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzControlSocket feeds the control socket's two decoders (the peer's reading of a request
// line, kithd's reading of progress lines and the answer) the same bytes: neither panics, a
// request that decodes re-encodes to one that decodes the same, and an answer is returned
// only for a line that is one.
func FuzzControlSocket(f *testing.F) {
	for _, s := range []string{
		`{"cmd":"post","channel":"general","text":"hello"}`,
		`{"cmd":"messages","limit":10000,"progress":true}`,
		`{"cmd":"join","invite":"kith1abc","bootstrap":["/ip4/127.0.0.1/tcp/4001"]}`,
		`{"ok":true,"result":{"text":"hi","json":{"a":1}}}`,
		"{\"progress\":\"finding a member\"}\n{\"progress\":\"verifying\"}\n{\"ok\":false,\"error\":\"no\",\"usage\":true}\n",
		`{"ok":true,"result":{"json":[1,2`,
		`{"cmd":7}`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if req, err := decodeRequest(b); err == nil {
			again, err := json.Marshal(req)
			if err != nil {
				t.Fatalf("a decoded request does not encode: %v", err)
			}
			back, err := decodeRequest(again)
			if err != nil {
				t.Fatalf("a re-encoded request does not decode: %v", err)
			}
			if third, _ := json.Marshal(back); !bytes.Equal(third, again) {
				t.Fatalf("a request changed on the way: %s → %s", again, third)
			}
		}
		lines := 0
		ans, err := readAnswer(bytes.NewReader(b), func(string) { lines++ })
		if err == nil && ans.Progress != "" && !ans.OK && ans.Error == "" {
			t.Fatalf("a progress line came back as the answer: %+v", ans)
		}
		if lines > strings.Count(string(b), "{") { // each progress line is an object of its own
			t.Fatalf("%d progress lines from %q", lines, b)
		}
	})
}
