import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { FleetKey } from '@ghostfleet/coordination'
import { CHECKPOINT_ID_PATTERN } from '@ghostfleet/core'
import {
  type CheckpointsUsage,
  enforcePinnedCap,
  MANIFEST_FILE,
  measureCheckpoints,
  removeCheckpoint,
  removeExpiredCheckpoints,
  servedFilePath,
  type VerifiedManifest,
  verifyManifest,
} from '../checkpoint/index.js'

/*
 * The checkpoints this donor serves, and their removal. A checkpoint is served only once sealed (its signed
 * manifest written and verifying under the fleet key), and only the files its manifest lists. Removal: by the new
 * host (DELETE after its transfer), by the TTL, or by the cap on pinned bytes (oldest first, never one being sealed
 * or transferred). Open files keep streaming after a removal: an unlinked inode lives while it is open.
 */

export interface CheckpointCatalogOptions {
  dir: string
  fleetKey: FleetKey
  ttlMs: number
  maxPinnedBytes: number
  now?: () => number
}

export interface ServedManifest {
  /** The manifest file's bytes, served as they are (the new host verifies the signature itself). */
  text: string
  manifest: VerifiedManifest
  /** The checkpoint's directory. */
  dir: string
}

export type ManifestLookup =
  | { kind: 'served'; served: ServedManifest }
  | { kind: 'sealing' }
  | { kind: 'unknown' }
  | { kind: 'invalid'; detail: string }

export interface SweepResult {
  expired: string[]
  capped: string[]
  pinnedBytes: number
}

export class CheckpointCatalog {
  readonly dir: string
  private readonly manifests = new Map<string, ServedManifest>()
  private readonly sealing = new Set<string>()
  private readonly transfers = new Map<string, number>()
  private usage: { at: number; value: CheckpointsUsage } | null = null
  private readonly now: () => number

  constructor(private readonly options: CheckpointCatalogOptions) {
    this.dir = path.resolve(options.dir)
    this.now = options.now ?? Date.now
  }

  get ttlMs(): number {
    return this.options.ttlMs
  }

  get maxPinnedBytes(): number {
    return this.options.maxPinnedBytes
  }

  /** `id` is being sealed: not served yet, never removed by the cap. */
  sealingStarted(id: string): void {
    this.sealing.add(id)
  }

  sealingEnded(id: string): void {
    this.sealing.delete(id)
  }

  /** The manifest of checkpoint `id` when it is served (cached: a sealed manifest never changes). */
  async manifest(id: string): Promise<ManifestLookup> {
    if (!CHECKPOINT_ID_PATTERN.test(id)) return { kind: 'unknown' }
    if (this.sealing.has(id)) return { kind: 'sealing' }
    const cached = this.manifests.get(id)
    if (cached !== undefined) return { kind: 'served', served: cached }
    const dir = path.join(this.dir, id)
    let text: string
    try {
      text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8')
    } catch {
      return { kind: 'unknown' }
    }
    let manifest: VerifiedManifest
    try {
      manifest = verifyManifest(text, this.options.fleetKey)
    } catch (error) {
      return { kind: 'invalid', detail: (error as Error).message }
    }
    if (manifest.id !== id) return { kind: 'invalid', detail: `its manifest names checkpoint ${manifest.id}` }
    const served = { text, manifest, dir }
    this.manifests.set(id, served)
    return { kind: 'served', served }
  }

  /** The path of `relativePath` of a served checkpoint when its manifest lists it, else null. */
  async filePath(id: string, relativePath: string): Promise<string | null> {
    const found = await this.manifest(id)
    if (found.kind !== 'served') return null
    return servedFilePath(found.served.dir, found.served.manifest, relativePath)
  }

  /** Marks a transfer of `id` in flight (kept from the cap meanwhile); call the result when it ends. */
  transferStarted(id: string): () => void {
    this.transfers.set(id, (this.transfers.get(id) ?? 0) + 1)
    let ended = false
    return () => {
      if (ended) return
      ended = true
      const left = (this.transfers.get(id) ?? 1) - 1
      if (left <= 0) this.transfers.delete(id)
      else this.transfers.set(id, left)
    }
  }

  /** Removes checkpoint `id` (its new host is done with it). @returns whether there was one. */
  async remove(id: string): Promise<boolean> {
    this.manifests.delete(id)
    const removed = await removeCheckpoint(this.dir, id)
    // /status stops listing it at once; the pinned total is measured again at the next sweep.
    const usage = this.usage
    if (removed && usage !== null) {
      const checkpoints = usage.value.checkpoints.filter((c) => c.id !== id)
      this.usage = { at: usage.at, value: { ...usage.value, checkpoints } }
    }
    return removed
  }

  /** TTL removal, then the cap on pinned bytes; measures what is left (for the metric and /status). */
  async sweep(): Promise<SweepResult> {
    const expired = (
      await removeExpiredCheckpoints({
        checkpointsDir: this.dir,
        ttlMs: this.options.ttlMs,
        now: new Date(this.now()),
      })
    ).removed
    const keep = [...this.sealing, ...this.transfers.keys()]
    const capped = await enforcePinnedCap({
      checkpointsDir: this.dir,
      capBytes: this.options.maxPinnedBytes,
      keep,
    })
    for (const id of [...expired, ...capped.removed]) this.manifests.delete(id)
    const value = await measureCheckpoints(this.dir)
    this.usage = { at: this.now(), value }
    return { expired, capped: capped.removed, pinnedBytes: value.pinnedBytes }
  }

  /** What /status lists, from the last measurement. */
  listing(): {
    pinnedBytes: number | null
    measuredAt: number | null
    checkpoints: Array<{
      id: string
      state: 'sealing' | 'ready' | 'unsealed'
      takenAt: string
      pinnedBytes: number
      copiedBytes: number
      transfers: number
    }>
  } {
    const usage = this.usage
    return {
      pinnedBytes: usage?.value.pinnedBytes ?? null,
      measuredAt: usage?.at ?? null,
      checkpoints: (usage?.value.checkpoints ?? []).map((c) => ({
        id: c.id,
        state: this.sealing.has(c.id) ? 'sealing' : c.sealed ? 'ready' : 'unsealed',
        takenAt: c.takenAt,
        pinnedBytes: c.pinnedBytes,
        copiedBytes: c.copiedBytes,
        transfers: this.transfers.get(c.id) ?? 0,
      })),
    }
  }
}
