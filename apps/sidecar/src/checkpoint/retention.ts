import { lstat, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { sweepDeadPartials } from '../storage/backup-partials.js'
import { fsyncPath } from './durable-fs.js'
import { listRegularFiles } from './file-hash.js'
import { isTableFile } from './file-rules.js'
import {
  CHECKPOINT_DATA_DIR,
  CHECKPOINT_ID_PATTERN,
  MANIFEST_FILE,
  readTakeRecord,
  type TakeRecord,
} from './layout.js'

/*
 * What checkpoints cost the donor's disk, and their removal.
 *
 * A hard-linked table costs nothing while the node still has it. Once the node's compaction deletes its name, the
 * checkpoint alone keeps those bytes: they are "pinned". A table counts as pinned when the node's data directory no
 * longer has the same inode under that path. (Its link count alone would not tell: two checkpoints holding the same
 * deleted table keep it at 2.) Copied files are the checkpoint's own bytes from the start. Totals count an inode
 * once, however many checkpoints hold it — that is the figure a cap on pinned bytes compares against.
 */

export interface CheckpointUsage {
  id: string
  dir: string
  takenAt: string
  /** Whether the signed manifest has been written. */
  sealed: boolean
  /** Tables the node has deleted since: held by checkpoints only. */
  pinnedBytes: number
  /** Tables the node still has: no extra space. */
  sharedBytes: number
  /** Files copied into the checkpoint. */
  copiedBytes: number
}

export interface CheckpointsUsage {
  checkpoints: CheckpointUsage[]
  /** Pinned bytes over all checkpoints, each inode counted once. */
  pinnedBytes: number
  copiedBytes: number
}

interface Found {
  id: string
  dir: string
  record: TakeRecord
}

/** The checkpoints in `checkpointsDir` (entries named like one, with a valid take record), oldest first. */
async function findCheckpoints(checkpointsDir: string): Promise<Found[]> {
  const found: Found[] = []
  const entries = await readdir(checkpointsDir).catch(() => [] as string[])
  for (const id of entries) {
    if (!CHECKPOINT_ID_PATTERN.test(id)) continue
    const dir = path.join(checkpointsDir, id)
    const record = await readTakeRecord(dir)
    if (record !== null && record.id === id) found.push({ id, dir, record })
  }
  return found.sort((a, b) => a.record.takenAt.localeCompare(b.record.takenAt))
}

/** Pinned, shared and copied bytes of every checkpoint in `checkpointsDir`. */
export async function measureCheckpoints(checkpointsDir: string): Promise<CheckpointsUsage> {
  const total: CheckpointsUsage = { checkpoints: [], pinnedBytes: 0, copiedBytes: 0 }
  const pinnedInodes = new Set<string>()
  for (const { id, dir, record } of await findCheckpoints(path.resolve(checkpointsDir))) {
    const usage: CheckpointUsage = {
      id,
      dir,
      takenAt: record.takenAt,
      sealed: (await lstat(path.join(dir, MANIFEST_FILE)).catch(() => null)) !== null,
      pinnedBytes: 0,
      sharedBytes: 0,
      copiedBytes: 0,
    }
    const data = path.join(dir, CHECKPOINT_DATA_DIR)
    for (const relative of await listRegularFiles(data)) {
      const parts = relative.split('/')
      const ours = await lstat(path.join(data, ...parts), { bigint: true }).catch(() => null)
      if (ours === null) continue
      const size = Number(ours.size)
      if (!isTableFile(parts[parts.length - 1] ?? '')) {
        usage.copiedBytes += size
        total.copiedBytes += size
        continue
      }
      const nodes = await lstat(path.join(record.sourceDataDir, ...parts), { bigint: true }).catch(() => null)
      if (nodes !== null && nodes.ino === ours.ino && nodes.dev === ours.dev) {
        usage.sharedBytes += size
        continue
      }
      usage.pinnedBytes += size
      const inode = `${ours.dev}:${ours.ino}`
      if (!pinnedInodes.has(inode)) {
        pinnedInodes.add(inode)
        total.pinnedBytes += size
      }
    }
    total.checkpoints.push(usage)
  }
  return total
}

/**
 * Removes the checkpoint `id` from `checkpointsDir` (after a transfer). Only a directory with a checkpoint's name
 * and a valid take record is removed; its table links go, the node's own names for them stay.
 * @returns whether a checkpoint was removed.
 */
export async function removeCheckpoint(checkpointsDir: string, id: string): Promise<boolean> {
  if (!CHECKPOINT_ID_PATTERN.test(id)) return false
  const dir = path.join(path.resolve(checkpointsDir), id)
  const record = await readTakeRecord(dir)
  if (record === null || record.id !== id) return false
  await rm(dir, { recursive: true, force: true })
  await fsyncPath(path.dirname(dir))
  return true
}

/**
 * Keeps the pinned bytes of the checkpoints in `checkpointsDir` at or below `capBytes`: removes checkpoints that
 * pin bytes, oldest first and never one named in `keep` (one being transferred), measuring again after each removal (tables shared
 * by several checkpoints are freed only with the last of them).
 */
export async function enforcePinnedCap(options: {
  checkpointsDir: string
  capBytes: number
  keep?: readonly string[]
}): Promise<{ removed: string[]; pinnedBytes: number }> {
  const removed: string[] = []
  let usage = await measureCheckpoints(options.checkpointsDir)
  while (usage.pinnedBytes > options.capBytes) {
    const oldest = usage.checkpoints.find((c) => c.pinnedBytes > 0 && !(options.keep ?? []).includes(c.id))
    if (oldest === undefined || !(await removeCheckpoint(options.checkpointsDir, oldest.id))) break
    removed.push(oldest.id)
    usage = await measureCheckpoints(options.checkpointsDir)
  }
  return { removed, pinnedBytes: usage.pinnedBytes }
}

/**
 * Removes every checkpoint taken `ttlMs` or longer before `now`, and the partial checkpoints of writers that are
 * gone. Entries that are not checkpoints are never touched.
 */
export async function removeExpiredCheckpoints(options: {
  checkpointsDir: string
  ttlMs: number
  now?: Date
}): Promise<{ removed: string[]; sweptPartials: string[] }> {
  const checkpointsDir = path.resolve(options.checkpointsDir)
  const now = (options.now ?? new Date()).getTime()
  const removed: string[] = []
  for (const { id, record } of await findCheckpoints(checkpointsDir)) {
    if (now - Date.parse(record.takenAt) < options.ttlMs) continue
    if (await removeCheckpoint(checkpointsDir, id)) removed.push(id)
  }
  const sweptPartials = await sweepDeadPartials(
    checkpointsDir,
    await readdir(checkpointsDir).catch(() => [] as string[]),
  )
  return { removed, sweptPartials }
}
