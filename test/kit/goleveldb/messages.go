package main

// CometBFT v0.37 messages (proto/tendermint/{types,state,store,abci,crypto}), field numbers as in
// /work/shared/reference/cometbft.md §1.4 and §2.2 and packages/cometbft/src/store/*-messages.ts.

import (
	"crypto/sha256"
	"fmt"
	"strconv"
)

type timestamp struct {
	seconds int64
	nanos   int32
}

// google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; } (also the wire shape of Duration)
func encTimestamp(t timestamp) []byte {
	b := appendInt(nil, 1, t.seconds)
	return appendInt(b, 2, int64(t.nanos))
}

type blockID struct {
	hash      []byte
	total     uint32
	partsHash []byte
}

// BlockID { bytes hash = 1; PartSetHeader part_set_header = 2 (non-nullable) }, PartSetHeader { uint32 total = 1; bytes hash = 2; }
func encBlockID(id blockID) []byte {
	psh := appendInt(nil, 1, int64(id.total))
	psh = appendBytes(psh, 2, id.partsHash)
	b := appendBytes(nil, 1, id.hash)
	return appendMsg(b, 2, psh)
}

type header struct {
	chainID            string
	height             int64
	time               timestamp
	lastBlockID        blockID
	lastCommitHash     []byte
	dataHash           []byte
	validatorsHash     []byte
	nextValidatorsHash []byte
	consensusHash      []byte
	appHash            []byte
	lastResultsHash    []byte
	evidenceHash       []byte
	proposerAddress    []byte
}

// tendermint.version.Consensus { uint64 block = 1; uint64 app = 2; }: block protocol 11 (v0.34–v0.38), app 0.
func encConsensusVersion() []byte {
	return appendInt(nil, 1, 11)
}

// Header, 14 fields.
func encHeader(h *header) []byte {
	b := appendMsg(nil, 1, encConsensusVersion())
	b = appendString(b, 2, h.chainID)
	b = appendInt(b, 3, h.height)
	b = appendMsg(b, 4, encTimestamp(h.time))
	b = appendMsg(b, 5, encBlockID(h.lastBlockID))
	b = appendBytes(b, 6, h.lastCommitHash)
	b = appendBytes(b, 7, h.dataHash)
	b = appendBytes(b, 8, h.validatorsHash)
	b = appendBytes(b, 9, h.nextValidatorsHash)
	b = appendBytes(b, 10, h.consensusHash)
	b = appendBytes(b, 11, h.appHash)
	b = appendBytes(b, 12, h.lastResultsHash)
	b = appendBytes(b, 13, h.evidenceHash)
	return appendBytes(b, 14, h.proposerAddress)
}

// headerHash is CometBFT's Header.Hash(): the merkle root of the 14 fields, each cdc-encoded (gogotypes
// StringValue/Int64Value/BytesValue wrappers with field 1, messages as themselves).
func headerHash(h *header) []byte {
	cdcBytes := func(v []byte) []byte { return appendBytes(nil, 1, v) }
	leaves := [][]byte{
		encConsensusVersion(),
		appendString(nil, 1, h.chainID),
		appendInt(nil, 1, h.height),
		encTimestamp(h.time),
		encBlockID(h.lastBlockID),
		cdcBytes(h.lastCommitHash),
		cdcBytes(h.dataHash),
		cdcBytes(h.validatorsHash),
		cdcBytes(h.nextValidatorsHash),
		cdcBytes(h.consensusHash),
		cdcBytes(h.appHash),
		cdcBytes(h.lastResultsHash),
		cdcBytes(h.evidenceHash),
		cdcBytes(h.proposerAddress),
	}
	return merkleRoot(leaves)
}

type commitSig struct {
	address   []byte
	time      timestamp
	signature []byte
}

// CommitSig { BlockIDFlag block_id_flag = 1; bytes validator_address = 2; Timestamp timestamp = 3; bytes signature = 4; }
// Commit { int64 height = 1; int32 round = 2; BlockID block_id = 3; repeated CommitSig signatures = 4; }
// Also returns Commit.Hash(): the merkle root of the encoded CommitSigs (what the next header's last_commit_hash holds).
func encCommit(height int64, round int32, id blockID, sigs []commitSig) ([]byte, []byte) {
	b := appendInt(nil, 1, height)
	b = appendInt(b, 2, int64(round))
	b = appendMsg(b, 3, encBlockID(id))
	encoded := make([][]byte, len(sigs))
	for i, s := range sigs {
		sb := appendInt(nil, 1, 2) // BLOCK_ID_FLAG_COMMIT
		sb = appendBytes(sb, 2, s.address)
		sb = appendMsg(sb, 3, encTimestamp(s.time))
		sb = appendBytes(sb, 4, s.signature)
		encoded[i] = sb
		b = appendMsg(b, 4, sb)
	}
	return b, merkleRoot(encoded)
}

// BlockMeta { BlockID block_id = 1; int64 block_size = 2; Header header = 3; int64 num_txs = 4; }
func encBlockMeta(id blockID, blockSize int64, headerBytes []byte, numTxs int64) []byte {
	b := appendMsg(nil, 1, encBlockID(id))
	b = appendInt(b, 2, blockSize)
	b = appendMsg(b, 3, headerBytes)
	return appendInt(b, 4, numTxs)
}

// Part { uint32 index = 1; bytes bytes = 2; Proof proof = 3; }, Proof { int64 total = 1; int64 index = 2; bytes leaf_hash = 3; repeated bytes aunts = 4; }
func encPart(dst []byte, index int, data []byte, p *merkleProof) []byte {
	pb := appendInt(nil, 1, int64(p.total))
	pb = appendInt(pb, 2, int64(p.index))
	pb = appendBytes(pb, 3, p.leafHash)
	for _, a := range p.aunts {
		pb = appendMsg(pb, 4, a)
	}
	b := appendInt(dst, 1, int64(index))
	b = appendBytes(b, 2, data)
	return appendMsg(b, 3, pb)
}

type validator struct {
	address          []byte
	pubKey           []byte
	votingPower      int64
	proposerPriority int64
}

// Validator { bytes address = 1; PublicKey pub_key = 2; int64 voting_power = 3; int64 proposer_priority = 4; },
// PublicKey { oneof { bytes ed25519 = 1; } }
func encValidator(v *validator) []byte {
	b := appendBytes(nil, 1, v.address)
	b = appendMsg(b, 2, appendMsg(nil, 1, v.pubKey))
	b = appendInt(b, 3, v.votingPower)
	return appendInt(b, 4, v.proposerPriority)
}

// ValidatorSet { repeated Validator validators = 1; Validator proposer = 2; int64 total_voting_power = 3 (always 0 on disk); }
func encValidatorSet(vals []validator) []byte {
	var b []byte
	for i := range vals {
		b = appendMsg(b, 1, encValidator(&vals[i]))
	}
	return appendMsg(b, 2, encValidator(&vals[0]))
}

// validatorSetHash is ValidatorSet.Hash(): merkle root of SimpleValidator{pub_key = 1, voting_power = 2} bytes.
func validatorSetHash(vals []validator) []byte {
	leaves := make([][]byte, len(vals))
	for i := range vals {
		b := appendMsg(nil, 1, appendMsg(nil, 1, vals[i].pubKey))
		leaves[i] = appendInt(b, 2, vals[i].votingPower)
	}
	return merkleRoot(leaves)
}

// ValidatorsInfo { ValidatorSet validator_set = 1 (nullable); int64 last_height_changed = 2; }
func encValidatorsInfo(vals []validator, lhc int64) []byte {
	var b []byte
	if vals != nil {
		b = appendMsg(b, 1, encValidatorSet(vals))
	}
	return appendInt(b, 2, lhc)
}

type consensusParams struct {
	maxBytes int64
	maxGas   int64
}

// ConsensusParams { BlockParams block = 1; EvidenceParams evidence = 2; ValidatorParams validator = 3; VersionParams version = 4; }
// with CometBFT's defaults except block max_bytes/max_gas, which change at params-change heights.
func encConsensusParams(p consensusParams) []byte {
	block := appendInt(nil, 1, p.maxBytes)
	block = appendInt(block, 2, p.maxGas)
	evidence := appendInt(nil, 1, 100000)
	evidence = appendMsg(evidence, 2, encTimestamp(timestamp{seconds: 48 * 3600}))
	evidence = appendInt(evidence, 3, 1048576)
	b := appendMsg(nil, 1, block)
	b = appendMsg(b, 2, evidence)
	b = appendMsg(b, 3, appendString(nil, 1, "ed25519"))
	return appendMsg(b, 4, nil)
}

// ConsensusParamsInfo { ConsensusParams consensus_params = 1 (non-nullable); int64 last_height_changed = 2; }.
// params nil = the v0.37 "empty" pointer entry `0a 00 10 <lhc>`.
func encConsensusParamsInfo(p *consensusParams, lhc int64) []byte {
	var inner []byte
	if p != nil {
		inner = encConsensusParams(*p)
	}
	b := appendMsg(nil, 1, inner)
	return appendInt(b, 2, lhc)
}

// BlockStoreState { int64 base = 1; int64 height = 2; }
func encBlockStoreState(base, height int64) []byte {
	b := appendInt(nil, 1, base)
	return appendInt(b, 2, height)
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders used by prune and digest.

// decodeBlockStoreState applies CometBFT's load rule: height > 0 && base == 0 ⇒ base = 1.
func decodeBlockStoreState(b []byte) (base, height int64, err error) {
	err = walkFields(b, "BlockStoreState", func(f protoField) error {
		switch f.num {
		case 1:
			base = int64(f.value)
		case 2:
			height = int64(f.value)
		}
		return nil
	})
	if height > 0 && base == 0 {
		base = 1
	}
	return
}

// decodeBlockMetaIDs returns block_id.hash (1→1) and block_id.part_set_header.total (1→2→1).
func decodeBlockMetaIDs(b []byte) (hash []byte, total uint32, err error) {
	err = walkFields(b, "BlockMeta", func(f protoField) error {
		if f.num != 1 || f.wire != wireBytes {
			return nil
		}
		return walkFields(f.bytes, "BlockMeta.block_id", func(g protoField) error {
			if g.num == 1 && g.wire == wireBytes {
				hash = g.bytes
			} else if g.num == 2 && g.wire == wireBytes {
				return walkFields(g.bytes, "PartSetHeader", func(p protoField) error {
					if p.num == 1 {
						total = uint32(p.value)
					}
					return nil
				})
			}
			return nil
		})
	})
	return
}

// decodeValidatorsInfo reports whether the full set (field 1) is present and last_height_changed (2).
func decodeValidatorsInfo(b []byte) (full bool, lhc int64, err error) {
	err = walkFields(b, "ValidatorsInfo", func(f protoField) error {
		if f.num == 1 {
			full = true
		} else if f.num == 2 {
			lhc = int64(f.value)
		}
		return nil
	})
	return
}

// decodeConsensusParamsInfo reports whether the params are non-empty (block.max_bytes, 1→1→1, set: the
// version-independent check of cometbft.md §2.2) and last_height_changed (2).
func decodeConsensusParamsInfo(b []byte) (full bool, lhc int64, err error) {
	err = walkFields(b, "ConsensusParamsInfo", func(f protoField) error {
		if f.num == 2 {
			lhc = int64(f.value)
			return nil
		}
		if f.num != 1 || f.wire != wireBytes {
			return nil
		}
		return walkFields(f.bytes, "ConsensusParams", func(g protoField) error {
			if g.num != 1 || g.wire != wireBytes {
				return nil
			}
			return walkFields(g.bytes, "BlockParams", func(p protoField) error {
				if p.num == 1 && p.value != 0 {
					full = true
				}
				return nil
			})
		})
	})
	return
}

// ---------------------------------------------------------------------------------------------------------------
// Merkle tree of CometBFT's crypto/merkle (RFC 6962: leaf prefix 0x00, inner prefix 0x01, split at the largest
// power of two below n).

func leafHash(leaf []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	return h.Sum(nil)
}

func innerHash(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

func splitPoint(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func merkleRoot(items [][]byte) []byte {
	switch len(items) {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return leafHash(items[0])
	}
	k := splitPoint(len(items))
	return innerHash(merkleRoot(items[:k]), merkleRoot(items[k:]))
}

type merkleProof struct {
	total, index int
	leafHash     []byte
	aunts        [][]byte
}

// merkleProofs is merkle.ProofsFromByteSlices: the root and one proof per item, aunts from the leaf upwards.
func merkleProofs(items [][]byte) ([]byte, []merkleProof) {
	proofs := make([]merkleProof, len(items))
	var build func(from, to int) []byte
	build = func(from, to int) []byte {
		if to-from == 1 {
			h := leafHash(items[from])
			proofs[from] = merkleProof{total: len(items), index: from, leafHash: h}
			return h
		}
		mid := from + splitPoint(to-from)
		l, r := build(from, mid), build(mid, to)
		for i := from; i < mid; i++ {
			proofs[i].aunts = append(proofs[i].aunts, r)
		}
		for i := mid; i < to; i++ {
			proofs[i].aunts = append(proofs[i].aunts, l)
		}
		return innerHash(l, r)
	}
	return build(0, len(items)), proofs
}

// ---------------------------------------------------------------------------------------------------------------
// Keys of the legacy ("v1") layout, cometbft.md §1.1 and §2.1.

func keyBlockMeta(h int64) []byte     { return []byte("H:" + strconv.FormatInt(h, 10)) }
func keyPart(h int64, i int) []byte   { return []byte(fmt.Sprintf("P:%d:%d", h, i)) }
func keyCommit(h int64) []byte        { return []byte("C:" + strconv.FormatInt(h, 10)) }
func keySeenCommit(h int64) []byte    { return []byte("SC:" + strconv.FormatInt(h, 10)) }
func keyBlockHash(hash []byte) []byte { return []byte(fmt.Sprintf("BH:%x", hash)) }
func keyValidators(h int64) []byte    { return []byte("validatorsKey:" + strconv.FormatInt(h, 10)) }
func keyParams(h int64) []byte        { return []byte("consensusParamsKey:" + strconv.FormatInt(h, 10)) }
func keyABCIResponses(h int64) []byte { return []byte("abciResponsesKey:" + strconv.FormatInt(h, 10)) }

var (
	keyBlockStore       = []byte("blockStore")
	keyState            = []byte("stateKey")
	keyLastABCIResponse = []byte("lastABCIResponseKey")
	keyGenesisDoc       = []byte("genesisDoc")
)

// valSetCheckpointInterval and lastStoredHeightFor as in CometBFT's state/store.go.
const valSetCheckpointInterval = 100000

func lastStoredHeightFor(h, lhc int64) int64 {
	checkpoint := h - h%valSetCheckpointInterval
	if checkpoint > lhc {
		return checkpoint
	}
	return lhc
}
