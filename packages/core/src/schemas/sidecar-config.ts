/**
 * The sidecar's TOML config file, as written by `ghostfleet-sidecar init`. Every table is strict, so a typo is
 * an error rather than a setting silently left at its default. Defaults are applied here, in one place.
 */
import { z } from 'zod'
import { DURATION_BOUNDS, duration } from './duration.js'
import {
  addCrossFieldIssue,
  bool,
  chainId,
  fieldsValid,
  filePath,
  greaterThan,
  httpUrl,
  intAtLeast,
  listenAddress,
  oneOf,
  redisUrl,
  sidecarId,
  table,
} from './fields.js'
import { thresholdsSchema } from './thresholds.js'

/** A duration key of this file, bounded as {@link DURATION_BOUNDS} says. */
const bounded = (key: keyof typeof DURATION_BOUNDS.sidecar) => duration(DURATION_BOUNDS.sidecar[key])

const nodeSchema = table({
  /** The chain binary (`osmosisd`), or the cosmovisor binary when `launcher = "cosmovisor"`. */
  binary: filePath(),
  /** The node's home directory (holds `config/` and `data/`). */
  home: filePath(),
  launcher: oneOf(['binary', 'cosmovisor']),
  /** Extra flags passed through to `start` unchanged (supervysor's `--flags`). */
  flags: z.string({ error: 'expected a string of flags' }).default(''),
  /** The node's RPC (supervysor's `--abci-endpoint`). */
  rpcEndpoint: httpUrl().default('http://127.0.0.1:26657'),
  /** How long a stopping node gets after SIGTERM before it is killed. */
  stopGraceSeconds: bounded('node.stopGraceSeconds').default(60),
  output: oneOf(['inherit', 'file']).default('inherit'),
  logFile: filePath().optional(),
}).superRefine(
  (node, ctx) => {
    if (node.output === 'file' && node.logFile === undefined) {
      addCrossFieldIssue(ctx, ['logFile'], 'logFile is required when output = "file"')
    }
    // Almost certainly a mistake: the operator expects logs in a file that will never be written.
    if (node.output === 'inherit' && node.logFile !== undefined) {
      addCrossFieldIssue(
        ctx,
        ['logFile'],
        'logFile is set but output = "inherit", so it would never be written; set output = "file"',
      )
    }
  },
  { when: fieldsValid('output', 'logFile') },
)

const poolSchema = table({
  chainId: chainId(),
  poolId: intAtLeast(0),
  /** KYVE REST endpoints tried in order; empty means the chain's preset endpoints. */
  endpoints: z.array(httpUrl(), { error: 'expected an array of URLs' }).default([]),
  /** A pool height older than this is not trusted for pruning. */
  maxPoolAgeSeconds: bounded('pool.maxPoolAgeSeconds').default(600),
})

const pruningSchema = table({
  enabled: bool().default(true),
  intervalHours: bounded('pruning.intervalHours').default(24),
  /** Prune state.db along with the block store (supervysor's `--state-pruning`). */
  statePruning: bool().default(true),
  /** Compact the databases after pruning so the disk space is actually returned (LevelDB frees it only then). */
  forceCompact: bool().default(false),
  /** Extra heights kept below min(pool, node); see `safePruneHeight`. */
  margin: intAtLeast(1).default(1),
})

const supervisionSchema = table({
  intervalSeconds: bounded('supervision.intervalSeconds').default(10),
  restartBackoffInitialSeconds: bounded('supervision.restartBackoffInitialSeconds').default(10),
  restartBackoffMaxSeconds: bounded('supervision.restartBackoffMaxSeconds').default(300),
  /** A node that stayed up this long resets the backoff to its initial value. */
  restartBackoffResetSeconds: bounded('supervision.restartBackoffResetSeconds').default(600),
}).superRefine(
  (supervision, ctx) => {
    if (supervision.restartBackoffInitialSeconds > supervision.restartBackoffMaxSeconds) {
      addCrossFieldIssue(
        ctx,
        ['restartBackoffInitialSeconds'],
        `restartBackoffInitialSeconds (${supervision.restartBackoffInitialSeconds}) must not exceed ` +
          `restartBackoffMaxSeconds (${supervision.restartBackoffMaxSeconds})`,
      )
    }
  },
  { when: fieldsValid('restartBackoffInitialSeconds', 'restartBackoffMaxSeconds') },
)

const httpSchema = table({
  enabled: bool().default(true),
  listen: listenAddress().default('127.0.0.1:26670'),
})

/**
 * The height-aware RPC gateway the local KYVE protocol node reads from instead of the node's own RPC. Off unless
 * the config says so (`init` writes it on), so an upgrade opens no new port by itself. Default port 26671, next to
 * the sidecar's 26670: CometBFT's own defaults are taken (26656 p2p, 26657 RPC, 26658 the ABCI `proxy_app`,
 * 26660 Prometheus), and so are the Cosmos SDK's (1317, 9090, 9091).
 */
const gatewaySchema = table({
  enabled: bool().default(false),
  listen: listenAddress().default('127.0.0.1:26671'),
  /** Deadline for one attempt at one upstream (the local node or one sibling) before the next is tried. */
  upstreamTimeoutSeconds: bounded('gateway.upstreamTimeoutSeconds').default(10),
})

/**
 * The listener that serves siblings (sidecars of the same chain and pool) reads from this sidecar's node,
 * authenticated with the fleet key. It runs only in fleet mode with a fleet key and when `listen` is set:
 * exposing a port beyond loopback is always a visible choice in this file.
 */
const peerSchema = table({
  listen: listenAddress().optional(),
  /** The URL siblings reach `listen` at. Absent: `http://<listen>`, which needs a host other than 0.0.0.0 / [::]. */
  advertiseUrl: httpUrl().optional(),
  /** Sibling requests served at once; more get 429, so siblings cannot starve this node's own protocol node. */
  maxConcurrent: intAtLeast(1).max(4096, { error: 'expected an integer from 1 to 4096' }).default(8),
  /** Requests per second one sibling may send (bursts of twice that). */
  ratePerSecond: intAtLeast(1).max(100_000, { error: 'expected an integer from 1 to 100000' }).default(50),
})

/**
 * Checkpoints this sidecar takes of its node's data directory when the tracker asks it to donate one to a new host
 * (issue 14). They need fleet mode with a fleet key (the manifest is signed) and the peer listener (it serves them).
 */
const checkpointsSchema = table({
  /**
   * Where checkpoints live: on the data directory's filesystem (tables are hard-linked), outside it. Absent:
   * `<node home>-ghostfleet-checkpoints`, beside the home.
   */
  dir: filePath().optional(),
  /** A checkpoint not removed by its new host (DELETE after the transfer) is removed this long after it was taken. */
  ttlSeconds: bounded('checkpoints.ttlSeconds').default(3600),
  /**
   * Most bytes checkpoints may pin: tables the node's compaction deleted that only a checkpoint still holds. Above
   * it the oldest checkpoints not being transferred are removed. In GiB.
   */
  maxPinnedGiB: z
    .number({ error: 'expected a number of GiB' })
    .min(0, { error: 'expected 0 or more GiB' })
    .max(1_000_000, { error: 'expected at most 1000000 GiB' })
    .default(50),
  /**
   * Checkpoint file transfers served at once (a bootstrapping host's downloads). They hold a peer-listener slot for
   * as long as a file streams, so at most `peer.maxConcurrent` − 1 are served, whatever this says: siblings' RPC
   * reads always find a slot.
   */
  maxTransfers: intAtLeast(1).max(1024, { error: 'expected an integer from 1 to 1024' }).default(4),
  /** Bytes per second all checkpoint transfers together may send, in MiB; 0: no cap (the disk or link limits). */
  transferMiBPerSecond: z
    .number({ error: 'expected a number of MiB per second' })
    .min(0, { error: 'expected 0 (no cap) or more MiB per second' })
    .max(100_000, { error: 'expected at most 100000 MiB per second' })
    .default(0),
})

const fleetSchema = table({
  /** Absent: no fleet, the sidecar decides alone from its own KYVE polling. `GHOSTFLEET_REDIS_URL` overrides. */
  redisUrl: redisUrl().optional(),
  /**
   * The Redis ACL user of this sidecar (`ghostfleet-tracker acl` prints `gf-sidecar-<id>`), when the credentials
   * are not in the URL. `GHOSTFLEET_REDIS_USERNAME` overrides it. Its password never goes in this file.
   */
  redisUsername: z
    .string({ error: 'expected a Redis user name' })
    .regex(/^[A-Za-z0-9._@-]{1,128}$/, { error: 'expected a Redis user name (1–128 of A-Z a-z 0-9 . _ @ -)' })
    .optional(),
  /** A file holding only the Redis password (mode 0600). `GHOSTFLEET_REDIS_PASSWORD(_FILE)` override it. */
  redisPasswordFile: filePath().optional(),
  /** Absent: the app picks one (the host name). */
  sidecarId: sidecarId().optional(),
  /** Without a tracker decision for this long, the sidecar falls back to deciding locally. */
  trackerTimeoutSeconds: bounded('fleet.trackerTimeoutSeconds').default(60),
  reportIntervalSeconds: bounded('fleet.reportIntervalSeconds').default(5),
}).superRefine(
  ...greaterThan(
    'trackerTimeoutSeconds',
    'reportIntervalSeconds',
    'or the sidecar would give up on the tracker between two reports',
  ),
)

export const sidecarConfigSchema = table({
  node: nodeSchema,
  pool: poolSchema,
  thresholds: thresholdsSchema,
  // `prefault` (not `default`) so an absent table is parsed as `{}` and its own defaults fill it in.
  pruning: pruningSchema.prefault({}),
  supervision: supervisionSchema.prefault({}),
  http: httpSchema.prefault({}),
  gateway: gatewaySchema.prefault({}),
  peer: peerSchema.prefault({}),
  checkpoints: checkpointsSchema.prefault({}),
  fleet: fleetSchema.prefault({}),
})

/** The sidecar config with every default applied. */
export type SidecarConfig = z.output<typeof sidecarConfigSchema>
/** What a config file may contain (defaulted keys optional). */
export type SidecarConfigInput = z.input<typeof sidecarConfigSchema>
