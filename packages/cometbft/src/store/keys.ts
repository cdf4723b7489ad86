/**
 * Keys of the legacy ("v1") CometBFT layout, used by every CometBFT release and tendermint ≤ v0.34.
 * Heights are plain decimal without padding (`fmt.Sprintf("H:%v", h)`), so LevelDB
 * order is not numeric order: nothing here may range-scan by height; loop heights instead, as CometBFT does.
 */

function checkHeight(height: number, what: string): void {
  if (!Number.isSafeInteger(height)) throw new RangeError(`${what}: height ${height} is not an integer`)
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1')
}

/** `H:<h>` → BlockMeta */
export function blockMetaKey(height: number): Buffer {
  checkHeight(height, 'blockMetaKey')
  return ascii(`H:${height}`)
}

/** `P:<h>:<i>` → Part */
export function blockPartKey(height: number, index: number): Buffer {
  checkHeight(height, 'blockPartKey')
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`blockPartKey: bad part index ${index}`)
  return ascii(`P:${height}:${index}`)
}

/** `C:<h>` → Commit for block h (= block h+1's last_commit, written when h+1 is saved) */
export function blockCommitKey(height: number): Buffer {
  checkHeight(height, 'blockCommitKey')
  return ascii(`C:${height}`)
}

/** `SC:<h>` → seen commit for block h */
export function seenCommitKey(height: number): Buffer {
  checkHeight(height, 'seenCommitKey')
  return ascii(`SC:${height}`)
}

/** `EC:<h>` → ExtendedCommit (v0.38+ with vote extensions; never written by the v0.37 layout we produce) */
export function extendedCommitKey(height: number): Buffer {
  checkHeight(height, 'extendedCommitKey')
  return ascii(`EC:${height}`)
}

/** `BH:<lowercase hex hash>` → ASCII decimal height */
export function blockHashKey(hash: Uint8Array): Buffer {
  return ascii(`BH:${Buffer.from(hash.buffer, hash.byteOffset, hash.length).toString('hex')}`)
}

/** `blockStore` → BlockStoreState */
export const BLOCK_STORE_STATE_KEY: Buffer = ascii('blockStore')
/** `version` → "v1" | "v2" (CometBFT v1.0 only; "v2" = orderedcode layout, which we refuse) */
export const VERSION_KEY: Buffer = ascii('version')

/** `validatorsKey:<h>` → ValidatorsInfo */
export function validatorsKey(height: number): Buffer {
  checkHeight(height, 'validatorsKey')
  return ascii(`validatorsKey:${height}`)
}

/** `consensusParamsKey:<h>` → ConsensusParamsInfo */
export function consensusParamsKey(height: number): Buffer {
  checkHeight(height, 'consensusParamsKey')
  return ascii(`consensusParamsKey:${height}`)
}

/** `abciResponsesKey:<h>` → ABCIResponses (v0.34/v0.37) */
export function abciResponsesKey(height: number): Buffer {
  checkHeight(height, 'abciResponsesKey')
  return ascii(`abciResponsesKey:${height}`)
}

/** `stateKey` → State */
export const STATE_KEY: Buffer = ascii('stateKey')
/** `lastABCIResponseKey` → ABCIResponsesInfo */
export const LAST_ABCI_RESPONSE_KEY: Buffer = ascii('lastABCIResponseKey')
/** `genesisDoc` → JSON genesis document (written by the node, never by us, never touched by pruning) */
export const GENESIS_DOC_KEY: Buffer = ascii('genesisDoc')

/** CometBFT `valSetCheckpointInterval`: a full validator set is stored at every multiple of this height. */
export const VALSET_CHECKPOINT_INTERVAL = 100000

/** CometBFT `lastStoredHeightFor(h, lhc) = max(h - h % 100000, lhc)`: where the full set for height h lives. */
export function lastStoredHeightFor(height: number, lastHeightChanged: number): number {
  const checkpoint = height - (height % VALSET_CHECKPOINT_INTERVAL)
  return Math.max(checkpoint, lastHeightChanged)
}

/** The ASCII decimal height stored as the value of a `BH:` key. */
export function encodeHeightValue(height: number): Buffer {
  return ascii(String(height))
}
