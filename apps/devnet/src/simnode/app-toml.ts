import { parse as parseToml } from 'smol-toml'
import { HomeFileError } from './errors.js'
import { readHomeFile } from './home-file.js'

/**
 * `config/app.toml` as a Cosmos SDK v0.47 app writes it on `init` (the base section, [state-sync] and the
 * sections an operator commonly sees). The pruning keys keep the SDK's quirk: `pruning-keep-recent` and
 * `pruning-interval` are quoted strings, `min-retain-blocks` and the snapshot keys are numbers.
 */
export function renderAppToml(): string {
  return `# This is a TOML config file.
# For more information, see https://github.com/toml-lang/toml

###############################################################################
###                           Base Configuration                            ###
###############################################################################

# The minimum gas prices a validator is willing to accept for processing a
# transaction. A transaction's fees must meet the minimum of any denomination
# specified in this config (e.g. 0.25token1;0.0001token2).
minimum-gas-prices = "0stake"

# default: the last 362880 states are kept, pruning at 10 block intervals
# nothing: all historic states will be saved, nothing will be deleted (i.e. archiving node)
# everything: 2 latest states will be kept; pruning at 10 block intervals.
# custom: allow pruning options to be manually specified through 'pruning-keep-recent', and 'pruning-interval'
pruning = "default"

# These are applied if and only if the pruning strategy is custom.
pruning-keep-recent = "0"
pruning-interval = "0"

# HaltHeight contains a non-zero block height at which a node will gracefully
# halt and shutdown that can be used to assist upgrades and testing.
#
# Note: Commitment of state will be attempted on the corresponding block.
halt-height = 0

# HaltTime contains a non-zero minimum block time (in Unix seconds) at which
# a node will gracefully halt and shutdown that can be used to assist upgrades
# and testing.
#
# Note: Commitment of state will be attempted on the corresponding block.
halt-time = 0

# MinRetainBlocks defines the minimum block height offset from the current
# block being committed, such that all blocks past this offset are pruned
# from CometBFT. It is used as part of the process of determining the
# ResponseCommit.RetainHeight value during ABCI Commit. A value of 0 indicates
# that no blocks should be pruned.
min-retain-blocks = 0

# InterBlockCache enables inter-block caching.
inter-block-cache = true

# IndexEvents defines the set of events in the form {eventType}.{attributeKey},
# which informs CometBFT what to index. If empty, all events will be indexed.
index-events = []

# IavlCacheSize set the size of the iavl tree cache (in number of nodes).
iavl-cache-size = 781250

# IAVLDisableFastNode enables or disables the fast node feature of IAVL.
iavl-disable-fastnode = false

# IAVLLazyLoading enable/disable the lazy loading of iavl store.
iavl-lazy-loading = false

# AppDBBackend defines the database backend type to use for the application and snapshots DBs.
app-db-backend = ""

###############################################################################
###                         Telemetry Configuration                         ###
###############################################################################

[telemetry]
service-name = ""
enabled = false
enable-hostname = false
enable-hostname-label = false
enable-service-label = false
prometheus-retention-time = 0
global-labels = [
]

###############################################################################
###                           API Configuration                             ###
###############################################################################

[api]
enable = false
swagger = false
address = "tcp://localhost:1317"
max-open-connections = 1000
rpc-read-timeout = 10
rpc-write-timeout = 0
rpc-max-body-bytes = 1000000
enabled-unsafe-cors = false

###############################################################################
###                           gRPC Configuration                            ###
###############################################################################

[grpc]
enable = true
address = "localhost:9090"
max-recv-msg-size = "10485760"
max-send-msg-size = "2147483647"

###############################################################################
###                        State Sync Configuration                         ###
###############################################################################

# State sync snapshots allow other nodes to rapidly join the network without replaying historical
# blocks, instead downloading and applying a snapshot of the application state at a given height.
[state-sync]

# snapshot-interval specifies the block interval at which local state sync snapshots are
# taken (0 to disable).
snapshot-interval = 0

# snapshot-keep-recent specifies the number of recent snapshots to keep and serve (0 to keep all).
snapshot-keep-recent = 2

###############################################################################
###                              State Streaming                            ###
###############################################################################

[streaming]
[streaming.abci]
keys = []
plugin = ""
stop-node-on-err = true

###############################################################################
###                         Mempool                                         ###
###############################################################################

[mempool]
max-txs = 5000
`
}

/** The pruning settings of app.toml, after the SDK's own validation. */
export interface AppPruning {
  pruning: 'default' | 'nothing' | 'everything' | 'custom'
  keepRecent: bigint
  interval: bigint
  minRetainBlocks: bigint
  haltHeight: bigint
  snapshotInterval: bigint
}

// The SDK reads these with cast.ToUint64: a number or a decimal string.
function uint(raw: Record<string, unknown>, key: string, file: string, fallback: bigint): bigint {
  const v = raw[key]
  if (v === undefined) return fallback
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'bigint' && v >= 0n) return v
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return BigInt(v.trim())
  throw new HomeFileError(file, `${key}: expected a non-negative integer, got ${JSON.stringify(String(v))}`)
}

/**
 * Parses and validates app.toml the way a Cosmos SDK node does at start, so a sidecar that breaks the file
 * sees the node refuse to start, as a real one would. Custom pruning must have an interval of at least 10
 * and keep at least 2 recent states (SDK `PruningOptions.Validate`).
 */
export function parseAppToml(text: string, file: string): AppPruning {
  let raw: Record<string, unknown>
  try {
    raw = parseToml(text) as Record<string, unknown>
  } catch (error) {
    throw new HomeFileError(file, `not valid TOML: ${(error as Error).message}`, { cause: error })
  }
  const strategy = raw['pruning'] ?? 'default'
  if (
    strategy !== 'default' &&
    strategy !== 'nothing' &&
    strategy !== 'everything' &&
    strategy !== 'custom'
  ) {
    throw new HomeFileError(file, `pruning: unknown pruning strategy ${JSON.stringify(String(strategy))}`)
  }
  const keepRecent = uint(raw, 'pruning-keep-recent', file, 0n)
  const interval = uint(raw, 'pruning-interval', file, 0n)
  if (strategy === 'custom') {
    if (interval === 0n) {
      throw new HomeFileError(
        file,
        `'pruning-interval' must not be 0. If you want to disable pruning, select pruning = "nothing"`,
      )
    }
    if (interval < 10n) {
      throw new HomeFileError(
        file,
        `'pruning-interval' must not be less than 10. For the most aggressive pruning, select pruning = "everything"`,
      )
    }
    if (keepRecent < 2n) {
      throw new HomeFileError(
        file,
        `'pruning-keep-recent' must not be less than 2. For the most aggressive pruning, select pruning = "everything"`,
      )
    }
  }
  const stateSync = (raw['state-sync'] ?? {}) as Record<string, unknown>
  return {
    pruning: strategy,
    keepRecent,
    interval,
    minRetainBlocks: uint(raw, 'min-retain-blocks', file, 0n),
    haltHeight: uint(raw, 'halt-height', file, 0n),
    snapshotInterval: uint(stateSync, 'snapshot-interval', file, 0n),
  }
}

export async function readAppToml(file: string): Promise<AppPruning> {
  return parseAppToml(await readHomeFile(file), file)
}
