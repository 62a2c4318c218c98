package backup

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzOpen: Open never panics nor allocates past its bounds, whatever the file; every failure is
// one of its errors; what it opens is what was sealed.
func FuzzOpen(f *testing.F) {
	contents := []byte("the seed's contents")
	file, err := Seal(contents, pass, small, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(file)
	f.Add(file[:len(file)/2])
	v2 := bytes.Clone(file)
	v2[12] = 2
	resum(v2)
	f.Add(v2)
	huge := bytes.Clone(file)
	binary.BigEndian.PutUint32(huge[16:20], 4<<20)
	resum(huge)
	f.Add(huge)
	f.Add([]byte(magic))
	f.Add(append(bytes.Clone(file), 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Open(b, pass)
		if err != nil {
			for _, known := range []error{ErrNotBackup, ErrTruncated, ErrDamaged, ErrVersion, ErrPassphrase} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("an error of no kind: %v", err)
		}
		if !bytes.Equal(got, contents) {
			t.Fatalf("opened %q", got)
		}
	})
}
