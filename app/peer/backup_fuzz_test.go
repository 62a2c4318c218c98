package peer

import (
	"encoding/json"
	"testing"

	"github.com/kith-app/kith/app/identity"
)

// FuzzDecodeBackup feeds a backup's contents decoder (what a passphrase opened, so written by
// whoever made the file) any bytes: it never panics, and contents it accepts hold an identity
// that loads, communities that parse, and only settings Kith backs up, and encode again to
// contents it accepts the same.
func FuzzDecodeBackup(f *testing.F) {
	id, err := identity.New(nil)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(backupContents{Version: 1, Identity: id.KeyFile(), Lifeline: lifeline{Version: 1}})
	f.Add(good)
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"identity":"AAAA","lifeline":{"version":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, id, err := decodeBackup(b)
		if err != nil {
			return
		}
		if id == nil {
			t.Fatal("accepted with no identity")
		}
		for k := range c.Settings {
			found := false
			for _, s := range backedUpSettings {
				found = found || s == k
			}
			if !found {
				t.Fatalf("kept the setting %q", k)
			}
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := decodeBackup(again); err != nil {
			t.Fatalf("re-encoded contents refused: %v", err)
		}
	})
}
