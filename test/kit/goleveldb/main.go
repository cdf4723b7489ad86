// gf-goleveldb: Ghostfleet's goleveldb conformance tool. It writes CometBFT v0.37 homes with real goleveldb, reads
// and edits stores exactly as a node opens them, and runs CometBFT's own PruneBlocks/PruneStates on goleveldb as a
// baseline. Every subcommand prints one JSON object on stdout; errors go to stderr with a non-zero exit status.
// Built by @ghostfleet/testkit (test/kit/src/goleveldb.ts) in GOPATH mode from Debian's packages.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
)

type command struct {
	usage string
	run   func(args []string) (interface{}, error)
}

var commands = map[string]command{
	"gen":     {"--home DIR --chain-id ID --blocks N [--parts 2] [--part-size 3000] [--validators 4] [--validator-change-every N] [--params-change-every N] [--abci-response-size BYTES] [--seed N] [--no-close]", runGen},
	"digest":  {"--db DIR", runDigest},
	"dump":    {"--db DIR --out FILE [--prefix ASCII] [--keys-only]", runDump},
	"get":     {"--db DIR --key-hex HEX", runGet},
	"put":     {"--db DIR --key-hex HEX (value: raw bytes on stdin)", runPut},
	"del":     {"--db DIR --key-hex HEX", runDel},
	"open":    {"--db DIR", runOpen},
	"compact": {"--db DIR", runCompact},
	"prune":   {"--home DIR --until-height H [--states] [--compact]", runPrune},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gf-goleveldb <command> [flags]")
	for name, c := range commands {
		fmt.Fprintf(os.Stderr, "  %s %s\n", name, c.usage)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "gf-goleveldb: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	// GF_GOLEVELDB_CPUPROFILE=<file> writes a CPU profile of the run (go tool pprof) to see where time goes.
	if file := os.Getenv("GF_GOLEVELDB_CPUPROFILE"); file != "" {
		if _, err := startCPUProfile(file); err != nil {
			fmt.Fprintf(os.Stderr, "gf-goleveldb: cpu profile: %v\n", err)
		}
	}
	out, err := c.run(os.Args[2:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "gf-goleveldb %s: %v\n", os.Args[1], err)
		exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "gf-goleveldb %s: writing the result: %v\n", os.Args[1], err)
		exit(1)
	}
	exit(0)
}

// exitHooks run before the process exits (os.Exit skips deferred calls).
var exitHooks []func()

func exit(code int) {
	for _, f := range exitHooks {
		f()
	}
	os.Exit(code)
}

func startCPUProfile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	stop := func() {
		pprof.StopCPUProfile()
		f.Close()
	}
	exitHooks = append(exitHooks, stop)
	return stop, nil
}

// newFlags returns a flag set that reports errors instead of exiting, naming the subcommand.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

func requireString(name, value string) error {
	if value == "" {
		return fmt.Errorf("--%s is required", name)
	}
	return nil
}
