package storage

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkBlobPut stores 256 KiB chunks through one open file, as a fetch does (a new blob of
// 40 chunks every 40), beside the same writes to a plain file: what a chunk's checks, lock and
// mark cost. (It found that emptying a new file with Truncate made ext4 write the whole file at
// its Close, and that a Badger read per chunk cost a fifth of the write.)
func BenchmarkBlobPut(b *testing.B) {
	c := community(1)
	s := openTest(b, b.TempDir())
	_, err := s.Append(ev(c, author(1), 1, 1, channel(1), false, "a"))
	must(b, err)
	data := fullChunk(0, 'x').Data
	n := 0 // blobs made, across the runs: every blob new
	b.Run("store", func(b *testing.B) {
		b.SetBytes(ChunkSize)
		var f *BlobFile
		for i := 0; b.Loop(); i++ {
			if i%40 == 0 {
				if f != nil {
					f.Close()
				}
				n++
				f, err = s.OpenBlob(c, BlobID(hash32("blob", int64(n))), 41)
				must(b, err)
			}
			if _, err := f.Put(i%40, data); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(ChunkSize)
		dir := b.TempDir()
		var f *os.File
		for i := 0; b.Loop(); i++ {
			if i%40 == 0 {
				if f != nil {
					f.Close()
				}
				n++
				f, err = os.Create(filepath.Join(dir, strconv.Itoa(n)))
				must(b, err)
			}
			if _, err := f.WriteAt(data, int64(i%40)*ChunkSize); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	})
}
