import { mkdir, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { readGenesisChainId, readNodeConfig } from '@ghostfleet/cometbft'
import { describeLocked, findLockedDatabases, LockCheckUnavailableError } from '../storage/database-locks.js'
import { processLiveness } from '../supervisor/process-inspect.js'
import { copyDurably, errnoCode, fsyncPath, linkOrCopy } from './durable-fs.js'
import { CheckpointInstallError } from './errors.js'
import { NEVER_SHARED } from './file-rules.js'
import type { CheckpointManifest, VerifiedManifest } from './manifest.js'
import { nodePrivateFiles, relativeInside } from './node-private-files.js'
import { verifyCheckpointFiles } from './verify.js'

/*
 * Installing a downloaded, verified checkpoint as a node's data directory, atomically:
 * 1. refuse a running node, a home of another chain, and (unless `force`) a home that already holds data;
 * 2. verify every file against the signed manifest (again: the install's promise must not rest on the transfer's);
 * 3. build the new data directory beside the old one (`.<data>.checkpoint-staging-<pid>`): immutable tables are
 *    hard-linked from the download (no bytes move, and the download stays whole for a later reuse), the rest is
 *    copied (the node appends to its MANIFEST and journals in place, which must not change the download); the
 *    home's own signing state (priv_validator_state.json) is carried over;
 * 4. swap: the old data directory is renamed aside, the staged one into place, the old one removed.
 * Any failure before the swap removes the staging directory: the home is as it was. A crash between the two
 * renames of the swap leaves the old directory aside; the next install (or {@link recoverInterruptedInstall})
 * renames it back.
 */

export interface InstallCheckpointOptions {
  /** The receiving node's home (config/config.toml and genesis in place, e.g. after `init`). */
  home: string
  /** The downloaded `data/` directory of the checkpoint. */
  sourceDataDir: string
  /** The manifest, already verified with {@link verifyManifest}. */
  manifest: VerifiedManifest
  /** Replace a data directory that holds data. @default false */
  force?: boolean
}

export interface InstallCheckpointResult {
  dataDir: string
  files: number
  /** Files hard-linked from the download (same filesystem, immutable). */
  linkedFiles: number
  copiedFiles: number
  copiedBytes: number
  /** Whether a data directory with data was replaced (`force`). */
  replacedExisting: boolean
  durationMs: number
}

/** CometBFT's initial signing state, as `init` writes it; the node refuses to start without the file. */
const INITIAL_PRIV_VALIDATOR_STATE = '{\n  "height": "0",\n  "round": 0,\n  "step": 0\n}'
/** Free space asked beyond the bytes to copy: directory blocks and the carried-over signing state. */
const SPACE_MARGIN = 1 << 20

function stagingName(base: string, pid: number): string {
  return `.${base}.checkpoint-staging-${pid}`
}
function replacedName(base: string, pid: number): string {
  return `.${base}.checkpoint-replaced-${pid}`
}

/**
 * Cleans up after an install that died: a staging directory of a dead process is removed; a data directory it
 * renamed aside is renamed back when no data directory took its place (the crash hit between the two renames),
 * and removed otherwise (the swap completed). Returns what was done, for the log.
 */
export async function recoverInterruptedInstall(dataDir: string): Promise<string[]> {
  const parent = path.dirname(dataDir)
  const base = path.basename(dataDir)
  const done: string[] = []
  const pattern = new RegExp(
    `^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.checkpoint-(staging|replaced)-([0-9]+)$`,
  )
  let entries: string[]
  try {
    entries = await readdir(parent)
  } catch {
    return done
  }
  for (const entry of entries) {
    const match = pattern.exec(entry)
    if (match === null) continue
    const pid = Number(match[2])
    if (pid === process.pid || (await processLiveness(pid)) === 'alive') continue
    const full = path.join(parent, entry)
    if (match[1] === 'replaced' && (await stat(dataDir).catch(() => null)) === null) {
      await rename(full, dataDir)
      done.push(`restored ${dataDir} from ${entry}`)
    } else {
      await rm(full, { recursive: true, force: true })
      done.push(`removed ${entry}`)
    }
  }
  if (done.length > 0) await fsyncPath(parent)
  return done
}

/** Entries of the data directory that are data (everything but the node's own signing state). */
async function existingData(dataDir: string): Promise<string[]> {
  const entries = await readdir(dataDir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return [] as string[]
    throw error
  })
  return entries.filter((name) => !NEVER_SHARED.has(name)).sort()
}

async function refuseRunningNode(dataDir: string): Promise<void> {
  try {
    const locked = await findLockedDatabases(dataDir)
    if (locked.length > 0) {
      throw new CheckpointInstallError(
        `refused: the node's databases in ${dataDir} are in use: ${describeLocked(locked)}. Stop the node before installing a checkpoint.`,
      )
    }
  } catch (error) {
    if (!(error instanceof LockCheckUnavailableError)) throw error
  }
}

/** Links or copies the manifest's files from `source` into `staging`; returns the tally. */
async function stage(
  source: string,
  staging: string,
  manifest: CheckpointManifest,
): Promise<{ linkedFiles: number; copiedFiles: number; copiedBytes: number }> {
  const tally = { linkedFiles: 0, copiedFiles: 0, copiedBytes: 0 }
  const dirs = new Set<string>([staging])
  for (const entry of manifest.files) {
    const parts = entry.path.split('/')
    const target = path.join(staging, ...parts)
    const dir = path.dirname(target)
    if (!dirs.has(dir)) {
      await mkdir(dir, { recursive: true })
      for (let d = dir; d !== staging && !dirs.has(d); d = path.dirname(d)) dirs.add(d)
    }
    const from = path.join(source, ...parts)
    if (entry.immutable && (await linkOrCopy(from, target, true)) === 'linked') {
      tally.linkedFiles++
      continue
    }
    if (!entry.immutable) await copyDurably(from, target)
    tally.copiedFiles++
    tally.copiedBytes += entry.bytes
  }
  // Deepest first, so each directory's entries are durable before its parent's.
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await fsyncPath(dir)
  return tally
}

/**
 * Installs the checkpoint downloaded to `sourceDataDir` as the data directory of `home`.
 *
 * @throws {@link CheckpointInstallError} a running node, another chain, data present without `force`, not enough
 * space, or a failure while staging; {@link CheckpointFileError} a file that does not match the manifest. In every
 * case the home is left as it was.
 */
export async function installCheckpoint(options: InstallCheckpointOptions): Promise<InstallCheckpointResult> {
  const started = Date.now()
  const home = path.resolve(options.home)
  const { manifest } = options
  const source = path.resolve(options.sourceDataDir)
  const config = await readNodeConfig(home)
  const dataDir = config.dbPath
  if (config.dbBackend !== 'goleveldb') {
    throw new CheckpointInstallError(
      `db_backend = "${config.dbBackend}" in ${config.file}: the checkpoint holds goleveldb databases; set ` +
        'db_backend = "goleveldb" first',
    )
  }
  let genesisChain: string
  try {
    genesisChain = await readGenesisChainId(config.genesisPath)
  } catch (error) {
    throw new CheckpointInstallError(
      `cannot read the chain id of ${home}: ${(error as Error).message}. Put the chain's genesis file in place first.`,
    )
  }
  if (genesisChain !== manifest.chainId) {
    throw new CheckpointInstallError(
      `the checkpoint ${manifest.id} is of chain ${manifest.chainId}, the genesis of ${home} is of chain ` +
        `${genesisChain}: refusing to mix chains`,
    )
  }
  if (source === dataDir || source.startsWith(`${dataDir}${path.sep}`)) {
    throw new CheckpointInstallError(
      `the download ${source} must lie outside the data directory ${dataDir}, which the install replaces; ` +
        'download beside the home',
    )
  }
  await recoverInterruptedInstall(dataDir)
  await refuseRunningNode(dataDir)
  const present = await existingData(dataDir)
  if (present.length > 0 && options.force !== true) {
    throw new CheckpointInstallError(
      `${dataDir} already holds data (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}); ` +
        'installing a checkpoint replaces it: pass force to do so. Nothing was changed.',
    )
  }
  await verifyCheckpointFiles(source, manifest)

  const parent = path.dirname(dataDir)
  const base = path.basename(dataDir)
  await mkdir(parent, { recursive: true })
  const sameDevice = (await stat(source)).dev === (await stat(parent)).dev
  const needed =
    manifest.files.reduce((sum, f) => sum + (sameDevice && f.immutable ? 0 : f.bytes), 0) + SPACE_MARGIN
  const fs = await statfs(parent)
  const free = fs.bavail * fs.bsize
  if (free < needed) {
    throw new CheckpointInstallError(
      `not enough free space on the filesystem of ${parent}: the install copies ${needed - SPACE_MARGIN} bytes ` +
        `(${sameDevice ? 'the mutable files; tables are hard-linked' : 'every file: the download is on another filesystem'}), ` +
        `${free} bytes are free. Free space${sameDevice ? '' : ', or download onto the same filesystem as the home'}, and install again. Nothing was changed.`,
    )
  }

  const staging = path.join(parent, stagingName(base, process.pid))
  const aside = path.join(parent, replacedName(base, process.pid))
  let tally: { linkedFiles: number; copiedFiles: number; copiedBytes: number }
  try {
    await rm(staging, { recursive: true, force: true })
    await mkdir(staging)
    tally = await stage(source, staging, manifest)
    // The home's own signing state stays the home's; a home without one gets the initial state `init` writes.
    // (A state file configured outside the data directory is not touched by the swap.)
    const stateFile = (await nodePrivateFiles(home)).privValidatorState
    const relative = relativeInside(stateFile, dataDir)
    if (relative !== null) {
      const stagedState = path.join(staging, ...relative.split('/'))
      await mkdir(path.dirname(stagedState), { recursive: true })
      if ((await stat(stateFile).catch(() => null))?.isFile() === true)
        await copyDurably(stateFile, stagedState)
      else {
        await writeFile(stagedState, `${INITIAL_PRIV_VALIDATOR_STATE}\n`, { flag: 'wx', mode: 0o600 })
        await fsyncPath(stagedState)
      }
    }
    await fsyncPath(staging)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    if (errnoCode(error) === 'ENOSPC') {
      throw new CheckpointInstallError(
        `no space left on the filesystem of ${parent} while staging the checkpoint; free space and install again. ` +
          'Nothing was changed.',
      )
    }
    throw error
  }

  const hadDataDir = (await stat(dataDir).catch(() => null)) !== null
  try {
    if (hadDataDir) await rename(dataDir, aside)
    try {
      await rename(staging, dataDir)
    } catch (error) {
      if (hadDataDir) await rename(aside, dataDir)
      throw error
    }
    await fsyncPath(parent)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw new CheckpointInstallError(
      `the swap into ${dataDir} failed (${(error as Error).message}); the home is as it was`,
    )
  }
  if (hadDataDir) await rm(aside, { recursive: true, force: true })
  return {
    dataDir,
    files: manifest.files.length,
    ...tally,
    replacedExisting: present.length > 0,
    durationMs: Date.now() - started,
  }
}
