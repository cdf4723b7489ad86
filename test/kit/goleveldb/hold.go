package main

// hold: opens a store exactly as a running node does (goleveldb takes its flock on LOCK) and keeps it open until
// stdin reaches EOF, so tests can check what Ghostfleet does with a database the node holds. Prints
// "holding <db>" on stderr once the store is open.

import (
	"fmt"
	"io"
	"os"
)

func init() {
	commands["hold"] = command{"--db DIR (keeps the store open, as a running node does, until stdin reaches EOF)", runHold}
}

type holdResult struct {
	Released bool `json:"released"`
}

func runHold(args []string) (interface{}, error) {
	path, err := dbFlag("hold", args)
	if err != nil {
		return nil, err
	}
	db, err := openExisting(path)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "holding %s\n", path)
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("closing %s: %w", path, err)
	}
	return holdResult{Released: true}, nil
}
