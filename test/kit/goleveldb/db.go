package main

// Opening a store exactly as a CometBFT node does (cometbft-db NewGoLevelDBWithOpts → leveldb.OpenFile(path, nil))
// and collecting what goleveldb's journal recovery wrote to the LOG file during that open.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/syndtr/goleveldb/leveldb"
)

// openedDB is a goleveldb handle plus where its LOG ended before the open.
type openedDB struct {
	*leveldb.DB
	path      string
	logOffset int64
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// openExisting opens an existing store with goleveldb's defaults. A missing store is an error here (OpenFile would
// silently create an empty one, which no caller of the kit wants).
func openExisting(path string) (*openedDB, error) {
	if _, err := os.Stat(filepath.Join(path, "CURRENT")); err != nil {
		return nil, fmt.Errorf("%s is not a LevelDB store (no CURRENT file): %v", path, err)
	}
	return openDB(path)
}

// openDB opens (creating if missing) with leveldb.OpenFile(path, nil), as CometBFT does.
func openDB(path string) (*openedDB, error) {
	offset := fileSize(filepath.Join(path, "LOG"))
	db, err := leveldb.OpenFile(path, nil)
	if err != nil {
		return nil, fmt.Errorf("goleveldb open %s: %w", path, err)
	}
	return &openedDB{DB: db, path: path, logOffset: offset}, nil
}

// journalErrors returns the LOG lines appended since the open that report skipped or corrupted journal data
// (goleveldb db.go recoverJournal: "journal error: ... (skipped)"). goleveldb appends to LOG and rotates it to
// LOG.old past 1 MiB; if that happened, the tail of LOG.old is read as well.
func (db *openedDB) journalErrors() []string {
	logPath := filepath.Join(db.path, "LOG")
	var text []byte
	if fileSize(logPath) < db.logOffset {
		text = append(text, readFrom(filepath.Join(db.path, "LOG.old"), db.logOffset)...)
		text = append(text, readFrom(logPath, 0)...)
	} else {
		text = readFrom(logPath, db.logOffset)
	}
	out := []string{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "journal error") || strings.Contains(line, "corrupted") {
			out = append(out, line)
		}
	}
	return out
}

func readFrom(path string, offset int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(f)
	return b
}

// dirBytes is the sum of the sizes of the regular files in dir (what the store occupies on disk).
func dirBytes(dir string) int64 {
	var total int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
	}
	return total
}
