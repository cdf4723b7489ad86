import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '@ghostfleet/cometbft'
import type { FleetKey } from '@ghostfleet/coordination'
import { readChainFacts } from './chain-facts.js'
import { CheckpointManifestError, CheckpointRefusedError } from './errors.js'
import { hashFile, listRegularFiles } from './file-hash.js'
import { isTableFile } from './file-rules.js'
import { CHECKPOINT_DATA_DIR, MANIFEST_FILE, readTakeRecord } from './layout.js'
import {
  type CheckpointManifest,
  formatManifest,
  signManifest,
  type VerifiedManifest,
  verifyManifest,
} from './manifest.js'

/*
 * Sealing: hashing every file of a taken checkpoint and writing its signed manifest. It reads only the
 * checkpoint (its tables are hard links to the node's, which never change; its other files are its own copies),
 * so it runs after the donor's node is serving again — the hashing time is not the donor's downtime.
 */

export interface SealCheckpointOptions {
  /** The checkpoint directory `takeCheckpoint` returned. */
  dir: string
  fleetKey: FleetKey
  /** This (the donor's) sidecar id. */
  donor: string
  /** @default new Date() */
  now?: Date
}

export interface SealCheckpointResult {
  manifest: CheckpointManifest
  /** Path of the written manifest. */
  manifestFile: string
  bytes: number
  durationMs: number
}

/**
 * Hashes the checkpoint in `dir`, reads its chain facts, and writes the signed `checkpoint-manifest.json`
 * (atomically: a reader sees no manifest or the whole one).
 *
 * @throws {@link CheckpointRefusedError} not a checkpoint (no take record), or its stores disagree with it.
 */
export async function sealCheckpoint(options: SealCheckpointOptions): Promise<SealCheckpointResult> {
  const started = Date.now()
  const dir = path.resolve(options.dir)
  const record = await readTakeRecord(dir)
  if (record === null)
    throw new CheckpointRefusedError(
      `${dir} is not a checkpoint (no valid checkpoint-take.json); take one first`,
    )
  const dataDir = path.join(dir, CHECKPOINT_DATA_DIR)
  const facts = await readChainFacts(dataDir)
  if (
    facts.blockStore.base !== record.blockStore.base ||
    facts.blockStore.height !== record.blockStore.height
  ) {
    throw new CheckpointRefusedError(
      `the checkpoint ${record.id} holds blocks ${facts.blockStore.base}..${facts.blockStore.height}, its take ` +
        `record says ${record.blockStore.base}..${record.blockStore.height}: it was changed after it was taken`,
    )
  }
  const files: CheckpointManifest['files'] = []
  let bytes = 0
  for (const relative of await listRegularFiles(dataDir)) {
    const { sha256, bytes: size } = await hashFile(path.join(dataDir, relative))
    files.push({ path: relative, bytes: size, sha256, immutable: isTableFile(path.posix.basename(relative)) })
    bytes += size
  }
  const manifest = signManifest(
    {
      format: 'ghostfleet-checkpoint',
      version: 1,
      id: record.id,
      donor: options.donor,
      createdAt: (options.now ?? new Date()).toISOString(),
      ...facts,
      files,
    },
    options.fleetKey,
  )
  const manifestFile = path.join(dir, MANIFEST_FILE)
  await writeFileAtomic(manifestFile, formatManifest(manifest))
  return { manifest, manifestFile, bytes, durationMs: Date.now() - started }
}

/**
 * The verified manifest of the sealed checkpoint in `dir` (what the donor serves).
 * @throws {@link CheckpointManifestError} none written yet (`malformed`), or not signed with `fleetKey`.
 */
export async function readSealedManifest(dir: string, fleetKey: FleetKey): Promise<VerifiedManifest> {
  const file = path.join(path.resolve(dir), MANIFEST_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new CheckpointManifestError(
      'malformed',
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): the checkpoint is not sealed`,
    )
  }
  return verifyManifest(text, fleetKey)
}
