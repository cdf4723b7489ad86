import path from 'node:path'
import {
  DatabaseLockedError,
  LockCheckError,
  type PruneProgress,
  PruneRefusedError,
  readNodeConfig,
  StoreNotFoundError,
} from '@ghostfleet/cometbft'
import { describeLocked } from '../storage/database-locks.js'
import { lockedPrunedDatabases, pruneNodeHome } from '../storage/offline-prune.js'
import { formatBytes } from './format.js'
import { checkManualPrune, type PrunePoolOptions } from './prune-pool-check.js'

/*
 * `ghostfleet-sidecar prune`: the offline pruner, by hand (supervysor's `prune`). Exit codes:
 *   0  pruned, or nothing to do (the height is the base already);
 *   2  bad usage (flags), from the CLI parser;
 *   3  refused, nothing changed: the pool has not validated --until-height or serves another chain (or cannot be
 *      asked, without --force), the node is running (databases locked), the v2 key layout, a non-goleveldb
 *      backend (named), a height above the latest or below the base (CometBFT's own messages), no databases, a
 *      missing MANIFEST or a damaged table file;
 *   1  failed while pruning (I/O error, corruption): what was written is consistent and what goleveldb will
 *      see, run it again to finish.
 */
export const PRUNE_EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const

export interface PruneCommandOptions {
  home: string
  untilHeight: number
  statePruning: boolean
  forceCompact: boolean
  /** Where to ask whether --until-height is validated (see prune-pool-check.ts). */
  pool: Omit<PrunePoolOptions, 'home' | 'untilHeight'>
}

export interface Output {
  out(line: string): void
  err(line: string): void
}

/** Progress on stderr at most every 2 s (and when a phase ends), so long runs show they move. */
function progressPrinter(output: Output, now: () => number = Date.now): (progress: PruneProgress) => void {
  let last = 0
  return (progress) => {
    const t = now()
    const finished = progress.done === progress.total
    if (!finished && t - last < 2_000) return
    last = t
    const percent = progress.total === 0 ? 100 : Math.floor((progress.done / progress.total) * 100)
    output.err(`  ${progress.phase}: ${progress.done}/${progress.total} (${percent}%)`)
  }
}

export async function runPrune(options: PruneCommandOptions, output: Output): Promise<number> {
  const home = path.resolve(options.home)
  let dataDir: string
  try {
    dataDir = (await readNodeConfig(home)).dbPath
  } catch (error) {
    output.err(`ghostfleet sidecar prune: ${(error as Error).message}`)
    return PRUNE_EXIT.refused
  }
  // Checked here too (the pruner checks again under its own lock) to name the process that holds them.
  try {
    const locked = await lockedPrunedDatabases(dataDir)
    if (locked.length > 0) {
      output.err(
        `ghostfleet sidecar prune: refused, the node's databases are in use: ${describeLocked(locked)}. ` +
          'Stop the node (or the sidecar supervising it) first; nothing was changed.',
      )
      return PRUNE_EXIT.refused
    }
  } catch (error) {
    if (!(error instanceof LockCheckError)) throw error
    output.err(`ghostfleet sidecar prune: ${error.message}`)
    return PRUNE_EXIT.refused
  }

  const verdict = await checkManualPrune({ ...options.pool, home, untilHeight: options.untilHeight })
  if (!verdict.proceed) {
    output.err(`ghostfleet sidecar prune: refused: ${verdict.message}; nothing was changed`)
    return PRUNE_EXIT.refused
  }
  if (verdict.warning !== undefined) output.err(verdict.warning)
  output.err(
    `pruning ${dataDir} below height ${options.untilHeight} (state pruning ${options.statePruning ? 'on' : 'off'}; ` +
      `${verdict.note})`,
  )
  try {
    const result = await pruneNodeHome({
      home,
      untilHeight: options.untilHeight,
      statePruning: options.statePruning,
      forceCompact: options.forceCompact,
      onProgress: progressPrinter(output),
    })
    if (result.noop) {
      output.out(`nothing to prune: the base is already ${result.fromBase} (height ${result.height})`)
      return PRUNE_EXIT.ok
    }
    output.out(
      [
        (result.fromBase === result.toBase
          ? `deleted what an interrupted prune left below base ${result.toBase}: ${result.blocksPruned} blocks`
          : `pruned blocks ${result.fromBase}..${result.toBase - 1}: ${result.blocksPruned} blocks`) +
          (options.statePruning ? `, ${result.statesPruned} states` : ''),
        `base ${result.fromBase} → ${result.toBase}, height ${result.height}`,
        // Both measured with the databases closed: what the node finds on disk at its next start.
        `databases ${formatBytes(result.bytesBefore)} → ${formatBytes(result.bytesAfter)}` +
          (options.forceCompact
            ? ' (compacted)'
            : ' (run with --force-compact to return the space to the disk now)'),
        `took ${(result.durationMs / 1000).toFixed(1)} s`,
      ].join('\n'),
    )
    return PRUNE_EXIT.ok
  } catch (error) {
    if (
      error instanceof PruneRefusedError ||
      error instanceof DatabaseLockedError ||
      error instanceof StoreNotFoundError ||
      error instanceof LockCheckError
    ) {
      output.err(`ghostfleet sidecar prune: refused: ${error.message}; nothing was changed`)
      return PRUNE_EXIT.refused
    }
    output.err(
      `ghostfleet sidecar prune: failed: ${(error as Error).message}. What was written is consistent; ` +
        'run the same command again to finish.',
    )
    return PRUNE_EXIT.failed
  }
}
