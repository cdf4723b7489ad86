package main

// gen: writes a CometBFT v0.37 home (data/blockstore.db, data/state.db, config/config.toml) with goleveldb, in the
// key layout, value encodings and write pattern of CometBFT v0.37 (cometbft.md §1 and §2):
//   - per block h, one batch like BlockStore.SaveBlock: P:<h>:<i>, H:<h>, BH:<hex hash> → "<h>", C:<h-1> (the
//     block's last commit; C:0 holds the empty commit of the initial block), SC:<h>; then the blockStore state;
//   - per block h, what BlockExecutor.ApplyBlock saves: abciResponsesKey:<h> and lastABCIResponseKey
//     (SaveABCIResponses), then Store.Save(state) with nextHeight = h+1: validatorsKey:<h+2> (full set at change
//     heights and multiples of 100000, pointer otherwise), consensusParamsKey:<h+1> (full at change heights, the
//     v0.37 empty pointer `0a 00 10 <lhc>` otherwise) and stateKey;
//   - before block 1, the genesis save: genesisDoc, validatorsKey:1 (full), validatorsKey:2, consensusParamsKey:1, stateKey.
// Hashes are computed as CometBFT does where the layout depends on them (header hash → BH: key and block_id,
// part-set merkle root and proofs, validator-set and params hashes); txs are stand-ins: parts hold seeded
// pseudo-random bytes, which are incompressible like real transactions.
//
// Writes are not synced while generating and one synced write ends each store: generation speed matters for a
// fixture, the node's durability does not (a crash while generating just means generating again).

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

var (
	noSyncWrite = &opt.WriteOptions{Sync: false}
	syncWrite   = &opt.WriteOptions{Sync: true}
)

type genOptions struct {
	home, chainID               string
	blocks                      int64
	parts, partSize, validators int
	validatorChangeEvery        int64
	paramsChangeEvery           int64
	abciResponseSize            int
	seed                        int64
	noClose                     bool
}

// genesisTime: 2024-01-01T00:00:00Z; block h is at genesis + h seconds.
const genesisUnix = 1704067200

func runGen(args []string) (interface{}, error) {
	fs := newFlags("gen")
	var o genOptions
	fs.StringVar(&o.home, "home", "", "home directory (created if missing; data/ must not hold stores yet)")
	fs.StringVar(&o.chainID, "chain-id", "", "chain id")
	fs.Int64Var(&o.blocks, "blocks", 0, "number of blocks (heights 1..N)")
	fs.IntVar(&o.parts, "parts", 2, "parts per block")
	fs.IntVar(&o.partSize, "part-size", 3000, "bytes per part")
	fs.IntVar(&o.validators, "validators", 4, "validators (and commit signatures per block)")
	fs.Int64Var(&o.validatorChangeEvery, "validator-change-every", 1000, "a validator-set change in every N-th block's EndBlock (0 = never)")
	fs.Int64Var(&o.paramsChangeEvery, "params-change-every", 5000, "a consensus-params change in every N-th block's EndBlock (0 = never)")
	fs.IntVar(&o.abciResponseSize, "abci-response-size", 1500, "approximate bytes of each abciResponsesKey value")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the pseudo-random part bytes and hashes")
	fs.BoolVar(&o.noClose, "no-close", false, "exit without closing the stores, leaving the last writes only in the journal")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case o.home == "":
		return nil, fmt.Errorf("--home is required")
	case o.chainID == "":
		return nil, fmt.Errorf("--chain-id is required")
	case o.blocks < 1 || o.blocks > 100_000_000:
		return nil, fmt.Errorf("--blocks must be 1..100000000, got %d", o.blocks)
	case o.parts < 1 || o.parts > 1000:
		return nil, fmt.Errorf("--parts must be 1..1000, got %d", o.parts)
	case o.partSize < 1 || o.partSize > 1<<20:
		return nil, fmt.Errorf("--part-size must be 1..1048576, got %d", o.partSize)
	case o.validators < 1 || o.validators > 1000:
		return nil, fmt.Errorf("--validators must be 1..1000, got %d", o.validators)
	case o.validatorChangeEvery < 0 || o.paramsChangeEvery < 0:
		return nil, fmt.Errorf("--validator-change-every and --params-change-every must be >= 0")
	case o.abciResponseSize < 0 || o.abciResponseSize > 10<<20:
		return nil, fmt.Errorf("--abci-response-size must be 0..10485760, got %d", o.abciResponseSize)
	}
	return generate(&o)
}

type genResult struct {
	Blocks     int64 `json:"blocks"`
	Base       int64 `json:"base"`
	Height     int64 `json:"height"`
	Bytes      int64 `json:"bytes"`
	DurationMs int64 `json:"durationMs"`
}

func generate(o *genOptions) (interface{}, error) {
	start := time.Now()
	dataDir := filepath.Join(o.home, "data")
	for _, name := range []string{"blockstore.db", "state.db"} {
		if _, err := os.Stat(filepath.Join(dataDir, name, "CURRENT")); err == nil {
			return nil, fmt.Errorf("%s already holds a store; gen writes fresh homes only", filepath.Join(dataDir, name))
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	if err := writeConfig(o); err != nil {
		return nil, err
	}
	bs, err := openDB(filepath.Join(dataDir, "blockstore.db"))
	if err != nil {
		return nil, err
	}
	ss, err := openDB(filepath.Join(dataDir, "state.db"))
	if err != nil {
		bs.Close()
		return nil, err
	}
	g := newChain(o)
	if err := g.saveGenesis(ss.DB); err != nil {
		return nil, err
	}
	for h := int64(1); h <= o.blocks; h++ {
		if err := g.saveBlock(bs.DB, ss.DB, h); err != nil {
			return nil, fmt.Errorf("block %d: %w", h, err)
		}
	}
	// The synced end of generation: one SetSync per store (what saveState does for blockStore).
	if err := bs.Put(keyBlockStore, encBlockStoreState(1, o.blocks), syncWrite); err != nil {
		return nil, err
	}
	if err := ss.Put(keyState, g.lastState, syncWrite); err != nil {
		return nil, err
	}
	res := genResult{Blocks: o.blocks, Base: 1, Height: o.blocks}
	if o.noClose {
		// Exit without Close: the last writes (up to goleveldb's 4 MiB write buffer) live only in the journal,
		// as after a node crash; goleveldb replays them at the next open.
		res.Bytes = dirBytes(bs.path) + dirBytes(ss.path)
		res.DurationMs = time.Since(start).Milliseconds()
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if err := bs.Close(); err != nil {
		return nil, err
	}
	if err := ss.Close(); err != nil {
		return nil, err
	}
	res.Bytes = dirBytes(bs.path) + dirBytes(ss.path)
	res.DurationMs = time.Since(start).Milliseconds()
	return res, nil
}

func writeConfig(o *genOptions) error {
	dir := filepath.Join(o.home, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "config.toml")
	if _, err := os.Stat(cfg); err == nil {
		return nil
	}
	text := "# A CometBFT v0.37 home written by Ghostfleet's goleveldb conformance kit (gf-goleveldb gen).\n" +
		"proxy_app = \"tcp://127.0.0.1:26658\"\n" +
		"moniker = \"gf-goleveldb\"\n" +
		"db_backend = \"goleveldb\"\n" +
		"db_dir = \"data\"\n\n" +
		"[rpc]\nladdr = \"tcp://127.0.0.1:26657\"\n"
	return os.WriteFile(cfg, []byte(text), 0o644)
}

// chain holds what generating the next block needs.
type chain struct {
	o              *genOptions
	rng            *rand.Rand
	lastBlockID    blockID
	lastCommit     []byte
	lastCommitHash []byte
	lastState      []byte
	partBufs       [][]byte
	partBuf        []byte
	sigBuf         []byte
	batch          leveldb.Batch
	stateBatch     leveldb.Batch
	setCache       map[int64][]validator
	evidenceHash   []byte
}

func newChain(o *genOptions) *chain {
	c := &chain{o: o, rng: rand.New(rand.NewSource(o.seed)), setCache: map[int64][]validator{}}
	c.partBufs = make([][]byte, o.parts)
	for i := range c.partBufs {
		c.partBufs[i] = make([]byte, o.partSize)
	}
	c.sigBuf = make([]byte, 64*o.validators)
	empty := sha256.Sum256(nil)
	c.evidenceHash = empty[:]
	return c
}

// valsVersion is the number of validator-set changes in effect at height h: a change in block c's EndBlock
// takes effect at c+2.
func (c *chain) valsVersion(h int64) int64 {
	if c.o.validatorChangeEvery == 0 || h < 3 {
		return 0
	}
	return (h - 2) / c.o.validatorChangeEvery
}

// valsLastChanged is state.LastHeightValidatorsChanged for the set in effect at h.
func (c *chain) valsLastChanged(h int64) int64 {
	v := c.valsVersion(h)
	if v == 0 {
		return 1
	}
	return v*c.o.validatorChangeEvery + 2
}

// paramsVersion: a change in block c's EndBlock takes effect at c+1.
func (c *chain) paramsVersion(h int64) int64 {
	if c.o.paramsChangeEvery == 0 || h < 2 {
		return 0
	}
	return (h - 1) / c.o.paramsChangeEvery
}

func (c *chain) paramsLastChanged(h int64) int64 {
	v := c.paramsVersion(h)
	if v == 0 {
		return 1
	}
	return v*c.o.paramsChangeEvery + 1
}

func (c *chain) params(version int64) consensusParams {
	return consensusParams{maxBytes: 22020096 - version%1000*1024, maxGas: -1}
}

// paramsHash is HashConsensusParams: sha256 of HashedParams{block_max_bytes = 1, block_max_gas = 2}.
func paramsHash(p consensusParams) []byte {
	b := appendInt(nil, 1, p.maxBytes)
	b = appendInt(b, 2, p.maxGas)
	s := sha256.Sum256(b)
	return s[:]
}

// validatorSet of a given version: fixed keys (derived from the chain id), validator version%n gains power.
func (c *chain) validatorSet(version int64) []validator {
	if vs, ok := c.setCache[version]; ok {
		return vs
	}
	if len(c.setCache) > 8 {
		c.setCache = map[int64][]validator{}
	}
	n := c.o.validators
	vs := make([]validator, n)
	for i := range vs {
		pk := sha256.Sum256([]byte(fmt.Sprintf("%s/validator/%d", c.o.chainID, i)))
		addr := sha256.Sum256(pk[:])
		vs[i] = validator{address: addr[:20], pubKey: pk[:], votingPower: 100, proposerPriority: int64(i*50 - n*25)}
	}
	if version > 0 {
		vs[int(version%int64(n))].votingPower += version
	}
	c.setCache[version] = vs
	return vs
}

func (c *chain) random32() []byte {
	b := make([]byte, 32)
	c.rng.Read(b)
	return b
}

func (c *chain) saveGenesis(ss *leveldb.DB) error {
	vals := c.validatorSet(0)
	gvals := make([]map[string]interface{}, len(vals))
	for i, v := range vals {
		gvals[i] = map[string]interface{}{
			"address": fmt.Sprintf("%X", v.address),
			"pub_key": map[string]string{"type": "tendermint/PubKeyEd25519", "value": base64(v.pubKey)},
			"power":   strconv.FormatInt(v.votingPower, 10),
			"name":    "",
		}
	}
	doc, err := json.Marshal(map[string]interface{}{
		"genesis_time":   time.Unix(genesisUnix, 0).UTC().Format(time.RFC3339Nano),
		"chain_id":       c.o.chainID,
		"initial_height": "1",
		"validators":     gvals,
		"app_hash":       "",
	})
	if err != nil {
		return err
	}
	c.stateBatch.Reset()
	c.stateBatch.Put(keyGenesisDoc, doc)
	p := c.params(0)
	c.stateBatch.Put(keyValidators(1), encValidatorsInfo(vals, 1))
	c.stateBatch.Put(keyValidators(2), encValidatorsInfo(nil, 1))
	c.stateBatch.Put(keyParams(1), encConsensusParamsInfo(&p, 1))
	c.lastState = c.encState(0, blockID{}, timestamp{seconds: genesisUnix}, nil, nil)
	c.stateBatch.Put(keyState, c.lastState)
	return ss.Write(&c.stateBatch, noSyncWrite)
}

func base64(b []byte) string {
	return encodeBase64(b)
}

func (c *chain) saveBlock(bs, ss *leveldb.DB, h int64) error {
	o := c.o
	// Parts and their merkle proofs.
	for _, buf := range c.partBufs {
		c.rng.Read(buf)
	}
	partsRoot, proofs := merkleProofs(c.partBufs)
	vals := c.validatorSet(c.valsVersion(h))
	nextVals := c.validatorSet(c.valsVersion(h + 1))
	params := c.params(c.paramsVersion(h))
	blockTime := timestamp{seconds: genesisUnix + h}
	lastCommit, lastCommitHash := c.lastCommit, c.lastCommitHash
	if h == 1 {
		lastCommit, lastCommitHash = encCommit(0, 0, blockID{}, nil) // the initial block's empty last commit
	}
	hdr := header{
		chainID:            o.chainID,
		height:             h,
		time:               blockTime,
		lastBlockID:        c.lastBlockID,
		lastCommitHash:     lastCommitHash,
		dataHash:           c.random32(),
		validatorsHash:     validatorSetHash(vals),
		nextValidatorsHash: validatorSetHash(nextVals),
		consensusHash:      paramsHash(params),
		appHash:            c.random32(),
		lastResultsHash:    c.random32(),
		evidenceHash:       c.evidenceHash,
		proposerAddress:    vals[int(h%int64(len(vals)))].address,
	}
	headerBytes := encHeader(&hdr)
	id := blockID{hash: headerHash(&hdr), total: uint32(o.parts), partsHash: partsRoot}

	// The seen commit for h: every validator signed, one second after the block time.
	c.rng.Read(c.sigBuf)
	sigs := make([]commitSig, len(vals))
	for i := range vals {
		sigs[i] = commitSig{address: vals[i].address, time: timestamp{seconds: blockTime.seconds + 1, nanos: int32(i * 1000)}, signature: c.sigBuf[i*64 : i*64+64]}
	}
	seenCommit, seenCommitHash := encCommit(h, 0, id, sigs)

	// BlockStore.SaveBlock: parts first, then meta, hash, last commit, seen commit, in one batch.
	b := &c.batch
	b.Reset()
	for i, data := range c.partBufs {
		c.partBuf = encPart(c.partBuf[:0], i, data, &proofs[i])
		b.Put(keyPart(h, i), c.partBuf)
	}
	blockSize := int64(o.parts * o.partSize)
	b.Put(keyBlockMeta(h), encBlockMeta(id, blockSize, headerBytes, int64(o.parts*o.partSize/300)))
	b.Put(keyBlockHash(id.hash), []byte(strconv.FormatInt(h, 10)))
	b.Put(keyCommit(h-1), lastCommit)
	b.Put(keySeenCommit(h), seenCommit)
	if err := bs.Write(b, noSyncWrite); err != nil {
		return err
	}
	if err := bs.Put(keyBlockStore, encBlockStoreState(1, h), noSyncWrite); err != nil {
		return err
	}

	// State store: SaveABCIResponses, then Save(state) with nextHeight = h+1.
	valsChange := o.validatorChangeEvery > 0 && h%o.validatorChangeEvery == 0
	paramsChange := o.paramsChangeEvery > 0 && h%o.paramsChangeEvery == 0
	responses := c.abciResponses(h, valsChange, paramsChange)
	sb := &c.stateBatch
	sb.Reset()
	sb.Put(keyABCIResponses(h), responses)
	info := appendMsg(nil, 1, responses)
	sb.Put(keyLastABCIResponse, appendInt(info, 2, h))
	valsLHC := c.valsLastChanged(h + 2)
	var fullVals []validator
	if h+2 == valsLHC || (h+2)%valSetCheckpointInterval == 0 {
		fullVals = c.validatorSet(c.valsVersion(h + 2))
	}
	sb.Put(keyValidators(h+2), encValidatorsInfo(fullVals, valsLHC))
	paramsLHC := c.paramsLastChanged(h + 1)
	var fullParams *consensusParams
	if h+1 == paramsLHC {
		p := c.params(c.paramsVersion(h + 1))
		fullParams = &p
	}
	sb.Put(keyParams(h+1), encConsensusParamsInfo(fullParams, paramsLHC))
	c.lastState = c.encState(h, id, blockTime, hdr.appHash, hdr.lastResultsHash)
	sb.Put(keyState, c.lastState)
	if err := ss.Write(sb, noSyncWrite); err != nil {
		return err
	}
	c.lastBlockID = id
	c.lastCommit, c.lastCommitHash = seenCommit, seenCommitHash
	return nil
}

// encState is tendermint.state.State after block h (h = 0: the genesis state).
func (c *chain) encState(h int64, lastID blockID, lastTime timestamp, appHash, resultsHash []byte) []byte {
	version := appendMsg(nil, 1, encConsensusVersion())
	version = appendString(version, 2, "0.37.18")
	b := appendMsg(nil, 1, version)
	b = appendString(b, 2, c.o.chainID)
	b = appendInt(b, 3, h)
	b = appendMsg(b, 4, encBlockID(lastID))
	b = appendMsg(b, 5, encTimestamp(lastTime))
	b = appendMsg(b, 6, encValidatorSet(c.validatorSet(c.valsVersion(h+2))))
	b = appendMsg(b, 7, encValidatorSet(c.validatorSet(c.valsVersion(h+1))))
	if h > 0 {
		b = appendMsg(b, 8, encValidatorSet(c.validatorSet(c.valsVersion(h))))
	}
	b = appendInt(b, 9, c.valsLastChanged(h+2))
	b = appendMsg(b, 10, encConsensusParams(c.params(c.paramsVersion(h+1))))
	b = appendInt(b, 11, c.paramsLastChanged(h+1))
	b = appendBytes(b, 12, resultsHash)
	b = appendBytes(b, 13, appHash)
	return appendInt(b, 14, 1)
}

// abciResponses is ABCIResponses{deliver_txs = 1, end_block = 2, begin_block = 3} of about abciResponseSize bytes:
// bank-send-like results with message/transfer events, EndBlock validator or params updates at change heights.
func (c *chain) abciResponses(h int64, valsChange, paramsChange bool) []byte {
	attr := func(k, v string) []byte {
		a := appendString(nil, 1, k)
		a = appendString(a, 2, v)
		return appendBool(a, 3, true)
	}
	event := func(typ string, attrs ...[]byte) []byte {
		e := appendString(nil, 1, typ)
		for _, a := range attrs {
			e = appendMsg(e, 2, a)
		}
		return e
	}
	var out []byte
	for i := 0; len(out) < c.o.abciResponseSize; i++ {
		var seed [8]byte
		binary.BigEndian.PutUint64(seed[:], uint64(h)<<16|uint64(i))
		s := sha256.Sum256(seed[:])
		sender, recipient := "cosmos1"+hex.EncodeToString(s[:19]), "cosmos1"+hex.EncodeToString(s[13:32])
		amount := strconv.FormatUint(uint64(s[0])<<8|uint64(s[1]), 10) + "uatom"
		tx := appendBytes(nil, 2, s[:12])
		tx = appendInt(tx, 5, 200000)
		tx = appendInt(tx, 6, 60000+int64(s[2])*100)
		tx = appendMsg(tx, 7, event("message", attr("action", "/cosmos.bank.v1beta1.MsgSend"), attr("sender", sender), attr("module", "bank")))
		tx = appendMsg(tx, 7, event("transfer", attr("recipient", recipient), attr("sender", sender), attr("amount", amount)))
		tx = appendMsg(tx, 7, event("tx", attr("fee", "2000uatom"), attr("fee_payer", sender)))
		out = appendMsg(out, 1, tx)
	}
	var end []byte
	if valsChange {
		next := c.validatorSet(c.valsVersion(h + 2))
		v := next[int(c.valsVersion(h+2)%int64(len(next)))]
		u := appendMsg(nil, 1, appendMsg(nil, 1, v.pubKey))
		end = appendMsg(end, 1, appendInt(u, 2, v.votingPower))
	}
	if paramsChange {
		end = appendMsg(end, 2, encConsensusParams(c.params(c.paramsVersion(h+1))))
	}
	out = appendMsg(out, 2, end)
	begin := appendMsg(nil, 1, event("mint", attr("bonded_ratio", "0.670000000000000000"), attr("inflation", "0.130000000000000000"), attr("amount", strconv.FormatInt(1000000+h%997, 10))))
	return appendMsg(out, 3, begin)
}
