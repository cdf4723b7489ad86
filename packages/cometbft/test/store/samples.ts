import type {
  ABCIResponses,
  Block,
  BlockMeta,
  Commit,
  ConsensusParams,
  Header,
  Part,
  State,
  ValidatorSet,
} from '../../src/store/index.js'

/** Bytes 0..n-1 shifted by `seed`, as a plain Uint8Array. */
export function bytes(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff)
}

export function sampleHeader(height = 12345): Header {
  return {
    version: { block: 11, app: 3 },
    chainId: 'osmosis-1',
    height,
    time: { seconds: 1_700_000_000, nanos: 123_456_789 },
    lastBlockId: { hash: bytes(32, 2), partSetHeader: { total: 3, hash: bytes(32, 3) } },
    lastCommitHash: bytes(32, 4),
    dataHash: bytes(32, 5),
    validatorsHash: bytes(32, 6),
    nextValidatorsHash: bytes(32, 7),
    consensusHash: bytes(32, 8),
    appHash: bytes(32, 9),
    lastResultsHash: bytes(32, 10),
    evidenceHash: bytes(32, 11),
    proposerAddress: bytes(20, 12),
  }
}

export function sampleCommit(height = 12344): Commit {
  return {
    height,
    round: 2,
    blockId: { hash: bytes(32, 2), partSetHeader: { total: 3, hash: bytes(32, 3) } },
    signatures: [
      {
        blockIdFlag: 2,
        validatorAddress: bytes(20, 20),
        timestamp: { seconds: 1_700_000_001, nanos: 5 },
        signature: bytes(64, 21),
      },
      // An absent vote: Go zero time, no address, no signature.
      {
        blockIdFlag: 1,
        validatorAddress: new Uint8Array(0),
        timestamp: { seconds: -62135596800, nanos: 0 },
        signature: new Uint8Array(0),
      },
      {
        blockIdFlag: 3,
        validatorAddress: bytes(20, 22),
        timestamp: { seconds: 1_700_000_002, nanos: 0 },
        signature: bytes(64, 23),
      },
    ],
  }
}

export function sampleBlock(): Block {
  return {
    header: sampleHeader(),
    data: { txs: [bytes(10, 30), new Uint8Array(0), bytes(300, 31)] },
    evidence: { evidence: [] },
    lastCommit: sampleCommit(),
  }
}

export function samplePart(): Part {
  return {
    index: 2,
    bytes: bytes(100, 40),
    proof: { total: 3, index: 2, leafHash: bytes(32, 41), aunts: [bytes(32, 42), bytes(32, 43)] },
  }
}

export function sampleMeta(): BlockMeta {
  return {
    blockId: { hash: bytes(32, 50), partSetHeader: { total: 2, hash: bytes(32, 51) } },
    blockSize: 70_000,
    header: sampleHeader(),
    numTxs: 3,
  }
}

export function sampleValidatorSet(): ValidatorSet {
  const v1 = {
    address: bytes(20, 60),
    pubKey: { type: 'ed25519' as const, key: bytes(32, 61) },
    votingPower: 100,
    proposerPriority: -50,
  }
  const v2 = {
    address: bytes(20, 62),
    pubKey: { type: 'secp256k1' as const, key: bytes(33, 63) },
    votingPower: 50,
    proposerPriority: 50,
  }
  return { validators: [v1, v2], proposer: v1, totalVotingPower: 0 }
}

export function sampleParams(): ConsensusParams {
  return {
    block: { maxBytes: 22020096, maxGas: -1 },
    evidence: { maxAgeNumBlocks: 100000, maxAgeDuration: { seconds: 172800, nanos: 0 }, maxBytes: 1048576 },
    validator: { pubKeyTypes: ['ed25519', 'secp256k1'] },
    version: { app: 7 },
  }
}

export function sampleResults(): ABCIResponses {
  return {
    deliverTxs: [
      {
        code: 0,
        data: bytes(4, 70),
        log: '[]',
        info: 'ok',
        gasWanted: 200000,
        gasUsed: 81234,
        events: [
          {
            type: 'transfer',
            attributes: [
              { key: 'recipient', value: 'osmo1xyz', index: true },
              { key: 'amount', value: '10uosmo', index: false },
            ],
          },
        ],
        codespace: '',
      },
      {
        code: 5,
        data: new Uint8Array(0),
        log: 'insufficient funds',
        info: '',
        gasWanted: 1,
        gasUsed: 2,
        events: [],
        codespace: 'sdk',
      },
    ],
    endBlock: {
      validatorUpdates: [{ pubKey: { type: 'ed25519', key: bytes(32, 80) }, power: 0 }],
      consensusParamUpdates: {
        block: { maxBytes: 1000, maxGas: 5 },
        evidence: null,
        validator: null,
        version: null,
      },
      events: [{ type: 'end', attributes: [] }],
    },
    beginBlock: { events: [{ type: 'begin', attributes: [{ key: 'k', value: 'v', index: true }] }] },
  }
}

export function sampleState(): State {
  const set = sampleValidatorSet()
  return {
    version: { consensus: { block: 11, app: 7 }, software: '0.37.18' },
    chainId: 'osmosis-1',
    initialHeight: 1,
    lastBlockHeight: 12345,
    lastBlockId: { hash: bytes(32, 90), partSetHeader: { total: 1, hash: bytes(32, 91) } },
    lastBlockTime: { seconds: 1_700_000_000, nanos: 9 },
    nextValidators: set,
    validators: set,
    lastValidators: set,
    lastHeightValidatorsChanged: 12000,
    consensusParams: sampleParams(),
    lastHeightConsensusParamsChanged: 5,
    lastResultsHash: bytes(32, 92),
    appHash: bytes(32, 93),
  }
}
