package main

// prune: CometBFT v0.37's offline prune on goleveldb, the baseline Ghostfleet's pruner is measured against:
// BlockStore.PruneBlocks(untilHeight) (cometbft.md §1.5), then, with --states, Store.PruneStates(base, untilHeight)
// (§2.4), where base is the block store base before pruning, as every CometBFT caller passes it.

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
)

type pruneResult struct {
	BlocksPruned  uint64   `json:"blocksPruned"`
	StatesPruned  uint64   `json:"statesPruned"`
	Base          int64    `json:"base"`
	DurationMs    int64    `json:"durationMs"`
	BlocksMs      int64    `json:"blocksMs"`
	StatesMs      int64    `json:"statesMs"`
	CompactMs     *int64   `json:"compactMs,omitempty"`
	WallMs        int64    `json:"wallMs"`
	BytesBefore   int64    `json:"bytesBefore"`
	BytesAfter    int64    `json:"bytesAfter"`
	JournalErrors []string `json:"journalErrors"`
}

func runPrune(args []string) (interface{}, error) {
	fs := newFlags("prune")
	home := fs.String("home", "", "CometBFT home (stores in <home>/data)")
	until := fs.Int64("until-height", 0, "PruneBlocks(untilHeight): heights [base, untilHeight) are deleted")
	states := fs.Bool("states", false, "also run PruneStates(base, untilHeight)")
	compact := fs.Bool("compact", false, "afterwards run CompactRange(util.Range{}) on both stores")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := requireString("home", *home); err != nil {
		return nil, err
	}
	bsPath := filepath.Join(*home, "data", "blockstore.db")
	ssPath := filepath.Join(*home, "data", "state.db")
	wallStart := time.Now()
	res := pruneResult{BytesBefore: dirBytes(bsPath) + dirBytes(ssPath), JournalErrors: []string{}}
	bs, err := openExisting(bsPath)
	if err != nil {
		return nil, err
	}
	defer bs.Close()
	ss, err := openExisting(ssPath)
	if err != nil {
		return nil, err
	}
	defer ss.Close()

	start := time.Now()
	raw, err := bs.Get(keyBlockStore, nil)
	if err != nil && err != leveldb.ErrNotFound {
		return nil, fmt.Errorf("%s: reading blockStore: %w", bsPath, err)
	}
	base, height, err := decodeBlockStoreState(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bsPath, err)
	}
	res.BlocksPruned, err = pruneBlocks(bs.DB, *until, base, height)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bsPath, err)
	}
	res.Base = *until
	res.BlocksMs = time.Since(start).Milliseconds()
	if *states && base < *until {
		statesStart := time.Now()
		res.StatesPruned, err = pruneStates(ss.DB, base, *until)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ssPath, err)
		}
		res.StatesMs = time.Since(statesStart).Milliseconds()
	}
	res.DurationMs = time.Since(start).Milliseconds()
	if *compact {
		ms1, err := compactAll(bs)
		if err != nil {
			return nil, fmt.Errorf("%s: compact: %w", bsPath, err)
		}
		ms2, err := compactAll(ss)
		if err != nil {
			return nil, fmt.Errorf("%s: compact: %w", ssPath, err)
		}
		total := ms1 + ms2
		res.CompactMs = &total
	}
	if err := bs.Close(); err != nil {
		return nil, fmt.Errorf("%s: close: %w", bsPath, err)
	}
	if err := ss.Close(); err != nil {
		return nil, fmt.Errorf("%s: close: %w", ssPath, err)
	}
	res.WallMs = time.Since(wallStart).Milliseconds()
	res.JournalErrors = append(bs.journalErrors(), ss.journalErrors()...)
	res.BytesAfter = dirBytes(bsPath) + dirBytes(ssPath)
	return res, nil
}

// pruneBlocks is v0.37 BlockStore.PruneBlocks(height): one point lookup of H:<h> per height, every 1000 pruned
// heights a flush that first SetSyncs blockStore with base = the height just deleted, then WriteSyncs the batch;
// a final flush with base = height.
func pruneBlocks(db *leveldb.DB, height, base, top int64) (uint64, error) {
	if height <= 0 {
		return 0, fmt.Errorf("height must be greater than 0")
	}
	if height > top {
		return 0, fmt.Errorf("cannot prune beyond the latest height %v", top)
	}
	if height < base {
		return 0, fmt.Errorf("cannot prune to height %v, it is lower than base height %v", height, base)
	}
	var pruned uint64
	batch := new(leveldb.Batch)
	flush := func(b *leveldb.Batch, newBase int64) error {
		// "We can't trust batches to be atomic, so update base first to make sure noone tries to access missing blocks."
		if err := db.Put(keyBlockStore, encBlockStoreState(newBase, top), syncWrite); err != nil {
			return err
		}
		return db.Write(b, syncWrite)
	}
	for h := base; h < height; h++ {
		meta, err := db.Get(keyBlockMeta(h), nil)
		if err == leveldb.ErrNotFound {
			continue // "assume already deleted"
		}
		if err != nil {
			return pruned, err
		}
		hash, total, err := decodeBlockMetaIDs(meta)
		if err != nil {
			return pruned, fmt.Errorf("H:%d: %w", h, err)
		}
		batch.Delete(keyBlockMeta(h))
		batch.Delete([]byte("BH:" + hex.EncodeToString(hash)))
		batch.Delete(keyCommit(h))
		batch.Delete(keySeenCommit(h))
		for p := 0; p < int(total); p++ {
			batch.Delete(keyPart(h, p))
		}
		pruned++
		if pruned%1000 == 0 {
			if err := flush(batch, h); err != nil {
				return pruned, err
			}
			batch = new(leveldb.Batch)
		}
	}
	return pruned, flush(batch, height)
}

// pruneStates is v0.37 Store.PruneStates(from, to): keep sets from the pointers at `to`, reverse iteration, a
// non-synced Write every 1000 heights and a WriteSync at the end.
//
// CometBFT materialises a kept height that only holds a pointer (writing the full set/params there). Stores from
// gen always hold full objects at the kept heights (lhc heights and multiples of 100000), so that branch never
// fires on them; when it would, this baseline keeps the pointer and its target instead (cometbft.md §2.4's safe
// alternative), which leaves a loadable store but is not byte-identical to CometBFT's.
func pruneStates(db *leveldb.DB, from, to int64) (uint64, error) {
	if from <= 0 || to <= 0 {
		return 0, fmt.Errorf("from height %v and to height %v must be greater than 0", from, to)
	}
	if from >= to {
		return 0, fmt.Errorf("from height %v must be lower than to height %v", from, to)
	}
	raw, err := db.Get(keyValidators(to), nil)
	if err != nil {
		return 0, fmt.Errorf("validators at height %v not found: %w", to, err)
	}
	valsFull, valsLHC, err := decodeValidatorsInfo(raw)
	if err != nil {
		return 0, err
	}
	raw, err = db.Get(keyParams(to), nil)
	if err != nil {
		return 0, fmt.Errorf("consensus params at height %v not found: %w", to, err)
	}
	paramsFull, paramsLHC, err := decodeConsensusParamsInfo(raw)
	if err != nil {
		return 0, err
	}
	keepVals := map[int64]bool{}
	if !valsFull {
		keepVals[valsLHC] = true
		keepVals[lastStoredHeightFor(to, valsLHC)] = true
	}
	keepParams := map[int64]bool{}
	if !paramsFull {
		keepParams[paramsLHC] = true
	}
	batch := new(leveldb.Batch)
	var pruned uint64
	for h := to - 1; h >= from; h-- {
		if keepVals[h] {
			if raw, err := db.Get(keyValidators(h), nil); err == nil {
				full, lhc, err := decodeValidatorsInfo(raw)
				if err != nil {
					return pruned, fmt.Errorf("validatorsKey:%d: %w", h, err)
				}
				if !full { // instead of materialising: keep what this pointer points at
					keepVals[lhc] = true
					keepVals[lastStoredHeightFor(h, lhc)] = true
				}
			}
		} else {
			batch.Delete(keyValidators(h))
		}
		if keepParams[h] {
			if raw, err := db.Get(keyParams(h), nil); err == nil {
				full, lhc, err := decodeConsensusParamsInfo(raw)
				if err != nil {
					return pruned, fmt.Errorf("consensusParamsKey:%d: %w", h, err)
				}
				if !full {
					keepParams[lhc] = true
				}
			}
		} else {
			batch.Delete(keyParams(h))
		}
		batch.Delete(keyABCIResponses(h))
		pruned++
		if pruned%1000 == 0 {
			if err := db.Write(batch, noSyncWrite); err != nil {
				return pruned, err
			}
			batch = new(leveldb.Batch)
		}
	}
	return pruned, db.Write(batch, syncWrite)
}
