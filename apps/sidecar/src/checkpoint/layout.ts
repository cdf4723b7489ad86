import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { CHECKPOINT_ID_PATTERN } from '@ghostfleet/core'
import { z } from 'zod'

/*
 * A checkpoint on disk: `<checkpointsDir>/<id>/` holding
 * - `data/`: the node's data directory as it was when the node was stopped (tables hard-linked, the rest copied);
 * - `checkpoint-take.json`: what was taken, when, from which data directory (written before the rename that makes
 *   the checkpoint visible, so every checkpoint has one);
 * - `checkpoint-manifest.json`: the signed manifest, once the checkpoint is sealed (file hashes, heights, app hash).
 * A checkpoint being written lives under `.partial-<pid>-<start>-<id>` (storage/backup-partials.ts naming) until
 * it is complete.
 */

export const CHECKPOINT_DATA_DIR = 'data'
export const TAKE_RECORD_FILE = 'checkpoint-take.json'
export const MANIFEST_FILE = 'checkpoint-manifest.json'

/** `<height>-<UTC time to the millisecond>`, e.g. `1500-20261207T064512123Z`; sorts by height, then time. */
export { CHECKPOINT_ID_PATTERN }

export function checkpointId(height: number, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, '')
  return `${height}-${stamp}`
}

export const takeRecordSchema = z.object({
  format: z.literal('ghostfleet-checkpoint-take'),
  version: z.literal(1),
  id: z.string().regex(CHECKPOINT_ID_PATTERN),
  takenAt: z.iso.datetime(),
  /** The data directory the checkpoint was taken from (for pinned-bytes accounting). */
  sourceDataDir: z.string().min(1).max(4096),
  blockStore: z.object({
    base: z.number().int().min(1),
    height: z.number().int().min(1),
  }),
})
export type TakeRecord = z.infer<typeof takeRecordSchema>

/** The take record of the checkpoint in `dir`, or null when there is none or it does not parse. */
export async function readTakeRecord(dir: string): Promise<TakeRecord | null> {
  let text: string
  try {
    text = await readFile(path.join(dir, TAKE_RECORD_FILE), 'utf8')
  } catch {
    return null
  }
  try {
    const parsed = takeRecordSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
