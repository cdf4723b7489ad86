import { readFile } from 'node:fs/promises'
import { parseWith, ValidationError } from '@ghostfleet/core'
import { z } from 'zod'
import type { DiscoveredTarget, Discoverer } from './discoverer.js'
import { DiscoveryFileError } from './errors/discovery-file-error.js'
import { fileSdSchema, fileSdTargets } from './file-sd.js'
import { parseOptions } from './option-fields.js'

const pathSchema = z
  .string({ error: 'expected the path of a file_sd JSON file' })
  .min(1, { error: 'expected the path of a file_sd JSON file' })
  .refine((value) => !value.includes('\0'), { error: 'expected a path without NUL characters' })

/**
 * Targets from a JSON file in Prometheus `file_sd` format (see `file-sd.ts` for the labels it reads).
 *
 * The file is read and validated on every call, so editing it takes effect on the next discovery and a target
 * removed from it is gone from the next answer. A file that cannot be used fails the whole call with a
 * {@link DiscoveryFileError} naming the file and every bad entry; a half-valid file never yields a partial
 * list. Replace the file atomically (write a temporary file, then rename) so a reader never sees half of it.
 *
 * @example
 * const discoverer = new FileDiscoverer('/etc/ghostfleet/sidecars.json')
 * const targets = await discoverer.discover()
 */
export class FileDiscoverer implements Discoverer {
  readonly path: string

  /** @throws InvalidOptionsError when `path` is not a usable path. Does not touch the file. */
  constructor(path: string) {
    this.path = parseOptions('FileDiscoverer', z.strictObject({ path: pathSchema }), { path }).path
  }

  /** @throws DiscoveryFileError when the file is unreadable, not JSON, or not file_sd-shaped. */
  async discover(signal?: AbortSignal): Promise<DiscoveredTarget[]> {
    let text: string
    try {
      text = await readFile(this.path, { encoding: 'utf8', signal })
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      throw new DiscoveryFileError(this.path, [`cannot read the file: ${describeError(error)}`])
    }
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch (error) {
      throw new DiscoveryFileError(this.path, [
        `not valid JSON (a file_sd file is a JSON array of {"targets": [...], "labels": {...}}): ${describeError(error)}`,
      ])
    }
    try {
      return fileSdTargets(parseWith(fileSdSchema, data, this.path))
    } catch (error) {
      if (error instanceof ValidationError) throw new DiscoveryFileError(this.path, error.issues)
      throw error
    }
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
