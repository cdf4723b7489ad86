import { NodeConfigError } from '@ghostfleet/cometbft'
import { backupDirPath, expandHome, resolveConfigDir } from '../config/config-dir.js'
import {
  BackupRefusedError,
  BackupToolMissingError,
  type Compression,
  createBackup,
} from '../storage/backup.js'
import { BACKUP_MANIFEST_NAME } from '../storage/backup-manifest.js'
import { formatBytes } from './format.js'
import type { Output } from './prune.js'

/** Exit codes of `backup`: 0 written (or already there), 3 refused (nothing written), 1 failed. */
export const BACKUP_EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const

export interface BackupCommandOptions {
  home: string
  destPath?: string
  config?: string
  compression: Compression
  maxBackups: number
}

export async function runBackup(options: BackupCommandOptions, output: Output): Promise<number> {
  const destDir =
    options.destPath !== undefined
      ? expandHome(options.destPath)
      : backupDirPath(resolveConfigDir(options.config))
  try {
    const result = await createBackup({
      home: expandHome(options.home),
      destDir,
      compression: options.compression,
      maxBackups: options.maxBackups,
    })
    if (result.status === 'exists') {
      output.out(`a backup at height ${result.height} already exists: ${result.path} (nothing written)`)
    } else {
      output.out(
        `backup of height ${result.height} written to ${result.path} (${formatBytes(result.bytes)}, ` +
          `${(result.durationMs / 1000).toFixed(1)} s)`,
      )
    }
    for (const swept of result.sweptPartials)
      output.out(`removed ${swept}, left behind by an interrupted backup whose process is gone`)
    for (const removed of result.removed)
      output.out(`removed old backup ${removed} (keeping ${options.maxBackups})`)
    if (result.notOurs.length > 0 && options.maxBackups > 0) {
      output.err(
        `warning: left alone (no ${BACKUP_MANIFEST_NAME}, so not made by ghostfleet, and never deleted by ` +
          `--max-backups): ${result.notOurs.join(', ')}`,
      )
    }
    return BACKUP_EXIT.ok
  } catch (error) {
    if (
      error instanceof BackupRefusedError ||
      error instanceof BackupToolMissingError ||
      error instanceof NodeConfigError
    ) {
      output.err(`ghostfleet sidecar backup: ${error.message}`)
      return BACKUP_EXIT.refused
    }
    output.err(
      `ghostfleet sidecar backup: failed: ${(error as Error).message} (no partial backup was left behind)`,
    )
    return BACKUP_EXIT.failed
  }
}
