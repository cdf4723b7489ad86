/*
 * Whether the sidecar may prune this node's databases offline, and if not, why — one answer shared by `init`
 * (which refuses an unsupported backend unless told to run without pruning), `start` (which turns pruning off
 * and says why, also when the backend changed after init), /status and the metrics.
 *
 * Only goleveldb is pruned: the offline pruner writes LevelDB files that goleveldb — the engine CometBFT's
 * `db_backend = "goleveldb"` selects — must read back exactly (README, "Supported node databases"). A pebbledb,
 * rocksdb, badgerdb or boltdb store is a different file format; the pruner would refuse it or, worse, misread it.
 * Ghost mode and mode switching do not touch the databases and work with every backend.
 */

/** The backend the offline pruner supports. */
export const PRUNABLE_DB_BACKEND = 'goleveldb'

/** Why pruning is off; a closed set, used as a metric label. */
export const PRUNING_OFF_REASONS = ['none', 'disabled_in_config', 'unsupported_db_backend'] as const
export type PruningOffReason = (typeof PRUNING_OFF_REASONS)[number]

export interface PruningSupport {
  enabled: boolean
  /** `none` when enabled. */
  reason: PruningOffReason
  /** A sentence for /status and logs, null when enabled. */
  detail: string | null
}

function backendDetail(dbBackend: string): string {
  return `db_backend ${JSON.stringify(dbBackend)} cannot be pruned offline by ghostfleet (only goleveldb can)`
}

/** Pruning as it will run: the config's `pruning.enabled`, and the node's `db_backend`. */
export function pruningSupport(configEnabled: boolean, dbBackend: string): PruningSupport {
  const supported = dbBackend === PRUNABLE_DB_BACKEND
  if (!configEnabled) {
    return {
      enabled: false,
      reason: 'disabled_in_config',
      detail:
        'pruning.enabled = false in the sidecar config' +
        (supported ? '' : `; besides, ${backendDetail(dbBackend)}`),
    }
  }
  if (!supported)
    return { enabled: false, reason: 'unsupported_db_backend', detail: backendDetail(dbBackend) }
  return { enabled: true, reason: 'none', detail: null }
}

/**
 * `init`'s refusal for a node whose backend cannot be pruned, while pruning is asked for; null when fine. Says how
 * to proceed: ghost mode without offline pruning (`--no-pruning`), and the node's own pruning.
 */
export function initBackendRefusal(dbBackend: string, pruningEnabled: boolean): string | null {
  if (!pruningEnabled || dbBackend === PRUNABLE_DB_BACKEND) return null
  return (
    `the node's config.toml says db_backend = ${JSON.stringify(dbBackend)}: ghostfleet prunes only goleveldb ` +
    `databases offline, and ${dbBackend} files are a different format. To run ghost mode and mode switching ` +
    'without offline pruning, re-run init with --no-pruning (it writes pruning.enabled = false); the node can ' +
    'still prune its own blocks with min-retain-blocks in app.toml (README, "Supported node databases").'
  )
}
