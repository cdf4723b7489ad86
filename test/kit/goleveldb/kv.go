package main

// Subcommands that read or edit one store: digest, dump, get, put, del, open, compact.

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"
)

type digestResult struct {
	Keys          int              `json:"keys"`
	SHA256        string           `json:"sha256"`
	Prefixes      map[string]int   `json:"prefixes"`
	BlockStore    *blockStoreState `json:"blockStore"`
	JournalErrors []string         `json:"journalErrors"`
}

type blockStoreState struct {
	Base   int64 `json:"base"`
	Height int64 `json:"height"`
}

// keyPrefix groups keys for the digest: the key up to and including its first ':' ("H:", "validatorsKey:"), the
// whole key for short printable keys without ':' ("blockStore"), "other" for anything else.
func keyPrefix(k []byte) string {
	for i, c := range k {
		if c == ':' {
			return string(k[:i+1])
		}
		if c < 0x20 || c > 0x7e {
			return "other"
		}
	}
	if len(k) > 64 {
		return "other"
	}
	return string(k)
}

func dbFlag(name string, args []string) (string, error) {
	fs := newFlags(name)
	db := fs.String("db", "", "store directory")
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	return *db, requireString("db", *db)
}

// runDigest reads every key in key order. The hash covers, per entry, uint32be(len(key)) key uint32be(len(value)) value.
func runDigest(args []string) (interface{}, error) {
	path, err := dbFlag("digest", args)
	if err != nil {
		return nil, err
	}
	db, err := openExisting(path)
	if err != nil {
		return nil, err
	}
	res := digestResult{Prefixes: map[string]int{}}
	h := sha256.New()
	var lenBuf [4]byte
	it := db.NewIterator(nil, nil)
	for it.Next() {
		k, v := it.Key(), it.Value()
		binary.BigEndian.PutUint32(lenBuf[:], uint32(len(k)))
		h.Write(lenBuf[:])
		h.Write(k)
		binary.BigEndian.PutUint32(lenBuf[:], uint32(len(v)))
		h.Write(lenBuf[:])
		h.Write(v)
		res.Keys++
		res.Prefixes[keyPrefix(k)]++
		if string(k) == string(keyBlockStore) {
			base, height, err := decodeBlockStoreState(v)
			if err != nil {
				it.Release()
				db.Close()
				return nil, fmt.Errorf("%s: blockStore value %x: %v", path, v, err)
			}
			res.BlockStore = &blockStoreState{Base: base, Height: height}
		}
	}
	it.Release()
	if err := it.Error(); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: iterating: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("%s: close: %w", path, err)
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	res.JournalErrors = db.journalErrors()
	return res, nil
}

func runDump(args []string) (interface{}, error) {
	fs := newFlags("dump")
	path := fs.String("db", "", "store directory")
	out := fs.String("out", "", "output file")
	prefix := fs.String("prefix", "", "only keys starting with this (ASCII) prefix")
	keysOnly := fs.Bool("keys-only", false, "write hex(key) lines without values")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := requireString("db", *path); err != nil {
		return nil, err
	}
	if err := requireString("out", *out); err != nil {
		return nil, err
	}
	db, err := openExisting(*path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	f, err := os.Create(*out)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	keys := 0
	var r *util.Range
	if *prefix != "" {
		r = util.BytesPrefix([]byte(*prefix))
	}
	it := db.NewIterator(r, nil)
	for it.Next() {
		if *keysOnly {
			fmt.Fprintf(w, "%x\n", it.Key())
		} else {
			fmt.Fprintf(w, "%x\t%x\n", it.Key(), it.Value())
		}
		keys++
	}
	it.Release()
	if err := it.Error(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: iterating: %w", *path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return map[string]interface{}{"keys": keys, "journalErrors": db.journalErrors()}, db.Close()
}

func keyFlags(name string, args []string) (string, []byte, error) {
	fs := newFlags(name)
	path := fs.String("db", "", "store directory")
	keyHex := fs.String("key-hex", "", "key, hex-encoded")
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if err := requireString("db", *path); err != nil {
		return "", nil, err
	}
	if err := requireString("key-hex", *keyHex); err != nil {
		return "", nil, err
	}
	key, err := hex.DecodeString(*keyHex)
	if err != nil {
		return "", nil, fmt.Errorf("--key-hex: %v", err)
	}
	return *path, key, nil
}

func runGet(args []string) (interface{}, error) {
	path, key, err := keyFlags("get", args)
	if err != nil {
		return nil, err
	}
	db, err := openExisting(path)
	if err != nil {
		return nil, err
	}
	v, err := db.Get(key, nil)
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err == leveldb.ErrNotFound {
		return map[string]interface{}{"found": false}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: get %x: %w", path, key, err)
	}
	return map[string]interface{}{"found": true, "valueHex": hex.EncodeToString(v)}, nil
}

// runPut writes with Sync, as a node's SetSync does; the value is read from stdin.
func runPut(args []string) (interface{}, error) {
	path, key, err := keyFlags("put", args)
	if err != nil {
		return nil, err
	}
	value, err := io.ReadAll(os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("reading the value from stdin: %w", err)
	}
	db, err := openExisting(path)
	if err != nil {
		return nil, err
	}
	err = db.Put(key, value, syncWrite)
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: put %x: %w", path, key, err)
	}
	return map[string]interface{}{"ok": true}, nil
}

func runDel(args []string) (interface{}, error) {
	path, key, err := keyFlags("del", args)
	if err != nil {
		return nil, err
	}
	db, err := openExisting(path)
	if err != nil {
		return nil, err
	}
	err = db.Delete(key, syncWrite)
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: delete %x: %w", path, key, err)
	}
	return map[string]interface{}{"ok": true}, nil
}

func runOpen(args []string) (interface{}, error) {
	path, err := dbFlag("open", args)
	if err != nil {
		return nil, err
	}
	db, err := openExisting(path)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("%s: close: %w", path, err)
	}
	return map[string]interface{}{"journalErrors": db.journalErrors()}, nil
}

// compactAll is what supervysor's ForceCompact(nil, nil) and CometBFT v1.0's db.Compact(nil, nil) do on goleveldb.
func compactAll(db *openedDB) (int64, error) {
	start := time.Now()
	err := db.CompactRange(util.Range{})
	return time.Since(start).Milliseconds(), err
}

func runCompact(args []string) (interface{}, error) {
	path, err := dbFlag("compact", args)
	if err != nil {
		return nil, err
	}
	before := dirBytes(path)
	db, err := openExisting(path)
	if err != nil {
		return nil, err
	}
	ms, err := compactAll(db)
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: compact: %w", path, err)
	}
	return map[string]interface{}{"bytesBefore": before, "bytesAfter": dirBytes(path), "durationMs": ms, "journalErrors": db.journalErrors()}, nil
}
